"""The `filters` argument of a listing or a prune: {key: [values]}, as both faces hand it over.

A key a listing does not know is refused in dockerd's words; nothing is accepted and ignored.
"""
from __future__ import annotations

import fnmatch
import re
import time

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


def labels_unmatched(labels: dict, specs: list[str]) -> bool:
    """`label!=KEY` or `label!=KEY=VALUE` (prune): true when no spec holds."""
    return not any(labels_match(labels, [spec]) for spec in specs)


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def until(value: str, now: float | None = None) -> float:
    """`until=`: a Unix timestamp, an RFC 3339 time or date, or a Go duration before now."""
    now = time.time() if now is None else now
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if re.fullmatch(r"(?:%s)+" % _DURATION.pattern, text):
        return now - sum(float(n) * _UNIT[u] for n, u in _DURATION.findall(text))
    from datetime import datetime, timezone  # not at the top: run loads these filters, never this
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f'failed to parse value as time or duration: "{value}"') from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
