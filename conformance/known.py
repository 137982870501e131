"""Known differences at the level of what differs (wpt's subtest statuses).

An implementation's expectations file (conformance/impls/<name>.expectations.toml) writes each
reason once and lists the checks it explains, each with where it is expected to fail:

    [reasons]
    build-words = "podman build prints STEP n/m and '--> <id>', never 'Successfully built'"

    [checks."test_build.py::test_successfully_built_names_the_tagged_image"]
    reason = "build-words"                     # a key of [reasons] (or the reason's words)
    fails_at = ["message:build.built"]         # where the check is expected to fail

A `fails_at` entry is ``message:<key>`` (an `expect_message` of that key did not match)
or a piece of the check's own statement that failed (``result.rc == 1``). A listed check
that fails anywhere else is a *fail*: a new regression inside a listed check still shows.
An entry without `fails_at` covers any assertion of the check (the older, coarser form).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

EXPECTATIONS = Path(__file__).parent / "impls"
SUFFIX = ".expectations.toml"
MESSAGE = "message:"


@dataclass(frozen=True)
class Known:
    reason: str                   # the reason's words
    reason_id: str | None         # its key in [reasons], where it is written once
    fails_at: tuple[str, ...] = ()

    def covers(self, failed_at: str) -> bool:
        """Whether a failure at `failed_at` (see `failure_site`) is this known difference."""
        if not self.fails_at:
            return True
        for site in self.fails_at:
            if site.startswith(MESSAGE):
                if failed_at == site:
                    return True
            elif not failed_at.startswith(MESSAGE) and _words(site) in failed_at:
                return True
        return False


def _words(text: str) -> str:
    return " ".join(text.split())


def path_of(ref: str) -> Path:
    return Path(ref) if ref.endswith(".toml") else EXPECTATIONS / f"{ref}{SUFFIX}"


@cache
def load(ref: str) -> dict[str, Known]:
    """{check key: Known} from an expectations file (an implementation's name: its file in
    conformance/impls/, or a path); a missing file lists nothing."""
    path = path_of(ref)
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    reasons = data.get("reasons", {})
    found = {}
    for key, entry in data.get("checks", {}).items():
        said = entry.get("reason", "").strip() if isinstance(entry, dict) else ""
        if not said:
            raise ValueError(f"{path}: [checks.{key!r}] needs a reason")
        sites = entry.get("fails_at", [])
        if isinstance(sites, str):
            sites = [sites]
        reason_id = said if said in reasons else None
        found[key] = Known(reasons[said].strip() if reason_id else said, reason_id, tuple(sites))
    return found


def case_id(nodeid: str, impl: str) -> str:
    """The check's id without the conformance/ directory and without the implementation's
    parameter: ``test_x.py::test_y[docker-registry]`` for ``...::test_y[docker-registry-podman]``."""
    nodeid = nodeid.removeprefix("conformance/")
    if not nodeid.endswith("]") or "[" not in nodeid:
        return nodeid
    head, params = nodeid[:-1].split("[", 1)
    if params == impl:
        return head
    if params.endswith(f"-{impl}"):
        params = params[:-len(impl) - 1]
    elif params.startswith(f"{impl}-"):
        params = params[len(impl) + 1:]
    else:
        params = params.replace(f"-{impl}-", "-", 1)
    return f"{head}[{params}]"


def lookup(nodeid: str, impl: str, ref: str) -> Known | None:
    """The known difference listed for this check on `impl` (expectations file `ref`)."""
    listed = load(ref)
    if not listed:
        return None
    case = case_id(nodeid, impl)
    return listed.get(case) or listed.get(case.split("[", 1)[0])


def failure_site(excinfo, check_file) -> str:
    """Where a check failed: ``message:<key>`` for a message that did not match, else the
    statement of the check's own file that raised (whitespace collapsed)."""
    key = getattr(excinfo.value, "message_key", None)
    if key:
        return f"{MESSAGE}{key}"
    check_file = str(check_file)
    for entry in reversed(excinfo.traceback):
        if str(entry.path) == check_file:
            try:
                return _words(str(entry.statement))
            except Exception:  # noqa: BLE001 — no source: the line number still says where
                return f"line {entry.lineno + 1}"
    return ""
