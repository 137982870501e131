"""The `filters` argument of a listing or a prune: {key: [values]}, as both faces hand it over.

A key a listing does not know is refused in dockerd's words; nothing is accepted and ignored.
"""
from __future__ import annotations

import fnmatch

from reference_impl.errors import InvalidArgument

Filters = dict[str, list[str]]


def check_keys(filters: Filters, known: frozenset[str]) -> None:
    for key in sorted(filters):
        if key not in known:
            raise InvalidArgument(f"Invalid filter '{key}'")


def boolean(filters: Filters, key: str) -> bool | None:
    """A true/false filter (dangling, is-task); None when absent."""
    values = filters.get(key)
    if not values:
        return None
    value = values[-1].lower()
    if value not in ("true", "false", "1", "0"):
        raise InvalidArgument(f"Invalid filter '{key}=[{values[-1]}]'")
    return value in ("true", "1")


def labels_match(labels: dict, specs: list[str]) -> bool:
    """`label=KEY` or `label=KEY=VALUE`: every spec must hold."""
    for spec in specs:
        key, eq, value = spec.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    return True


def reference_matches(repo: str, tag: str, pattern: str) -> bool:
    """`reference=PATTERN[:TAG]` with shell globs, as dockerd matches a repository and tag."""
    name, _, want_tag = pattern.partition(":") if ":" in pattern.rsplit("/", 1)[-1] else (pattern, "", "")
    if not fnmatch.fnmatchcase(repo, name):
        return False
    return not want_tag or fnmatch.fnmatchcase(tag, want_tag)
