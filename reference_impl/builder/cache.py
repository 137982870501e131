"""Docker's classic build cache (moby image/cache): a step hits when the current parent
image has a locally built child whose container config — the step's command in its
`#(nop)` form, or RUN's command, and everything else the step runs with — is the
same. The builder sees only this narrow view of the store."""
from __future__ import annotations

from reference_impl.store import Store

# fields of a container config that do not take part in the comparison
IGNORED = {"Hostname", "Domainname", "Image", "AttachStdin", "AttachStdout", "AttachStderr"}


def _normal(config: dict) -> dict:
    out = {}
    for key, value in (config or {}).items():
        if key in IGNORED:
            continue
        if value in (None, "", [], {}, False):
            continue
        out[key] = value
    return out


def lookup(store: Store, parent_id: str, step_config: dict) -> str | None:
    """The newest child of parent_id built with step_config, or None."""
    wanted = _normal(step_config)
    best, best_created = None, ""
    for image in store.images.all():
        if image.parent != parent_id:
            continue
        if _normal(image.config.get("container_config")) != wanted:
            continue
        created = image.config.get("created", "")
        if created >= best_created:
            best, best_created = image.id, created
    return best
