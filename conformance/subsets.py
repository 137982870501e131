"""Named subsets of the suite for chosen implementations (``--subset IMPL=NAME``).

A subset is ``conformance/subsets/NAME.txt``: one check per line, as a node id without
its parameters (``conformance/test_rmi.py::test_x``); ``#`` starts a comment. IMPL is an
implementation name or a shell pattern (``vagrant:*``). Checks outside the subset are
deselected for the matching implementations only; every other implementation runs the
whole suite. CI uses it to keep the run short; the nightly main job runs everything.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

SUBSETS = Path(__file__).resolve().parent / "subsets"


def names() -> list[str]:
    return sorted(p.stem for p in SUBSETS.glob("*.txt"))


def load(name: str) -> frozenset[str]:
    path = SUBSETS / f"{name}.txt"
    if not path.is_file():
        raise ValueError(f"no subset named {name!r} (known: {', '.join(names()) or 'none'})")
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return frozenset(line for line in lines if line)


def parse(specs: list[str]) -> list[tuple[str, frozenset[str]]]:
    """``["podman=ci"]`` -> ``[("podman", {node ids})]``; ValueError on a malformed spec."""
    chosen = []
    for spec in specs:
        pattern, sep, name = spec.partition("=")
        if not sep or not pattern or not name:
            raise ValueError(f"{spec!r}: expected IMPL=NAME, e.g. podman=ci")
        chosen.append((pattern, load(name)))
    return chosen


def outside(nodeid: str, impl: str | None, chosen: list[tuple[str, frozenset[str]]]) -> bool:
    """Whether the check `nodeid` on `impl` is left out by a subset chosen for `impl`."""
    if impl is None:
        return False
    base = nodeid.split("[", 1)[0]
    return any(fnmatch.fnmatchcase(impl, pattern) and base not in checks
               for pattern, checks in chosen)
