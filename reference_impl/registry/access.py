"""What a request needs: the access records distribution derives from a route
(`repository:<name>:pull,push`, `registry:catalog:*`), as a token's `access` claim,
a challenge's `scope` parameter and an UNAUTHORIZED body's `detail` spell them."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Access:
    type: str     # "repository" or "registry"
    name: str     # repository name, or "catalog"
    action: str   # pull, push, delete, or "*"


CATALOG = Access("registry", "catalog", "*")


def required(name: str | None, method: str, is_upload: bool, query=None,
             is_catalog: bool = False) -> list[Access]:
    """The access a request needs; [] for the base check /v2/ (any valid identity)."""
    if is_catalog:
        return [CATALOG]
    if name is None:
        return []
    if method == "DELETE" and not is_upload:
        actions = ["delete"]
    elif method in ("GET", "HEAD"):
        actions = ["pull"]
    else:
        actions = ["pull", "push"]
    found = [Access("repository", name, a) for a in actions]
    source = (query or {}).get("from")
    if is_upload and method == "POST" and (query or {}).get("mount") and source and source != name:
        found.append(Access("repository", source, "pull"))   # a mount reads its source
    return found


def scope_param(access: list[Access]) -> str:
    """`repository:a:pull,push repository:b:pull`: one entry per resource, in order."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for a in access:
        grouped.setdefault((a.type, a.name), []).append(a.action)
    return " ".join(f"{t}:{n}:{','.join(actions)}" for (t, n), actions in grouped.items())


def parse_scope(scope: str) -> list[Access]:
    """Access records from one `scope` query value (several scopes separated by spaces);
    malformed entries are left out."""
    found = []
    for entry in scope.split():
        kind, sep, rest = entry.partition(":")
        name, sep2, actions = rest.rpartition(":")
        if sep and sep2 and kind and name:
            found += [Access(kind, name, a) for a in actions.split(",") if a]
    return found


def detail(access: list[Access]) -> list | None:
    """The `detail` distribution puts in its UNAUTHORIZED body."""
    if not access:
        return None
    return [{"Type": a.type, "Class": "", "Name": a.name, "Action": a.action} for a in access]
