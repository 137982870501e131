"""`--filter key=value` flags, as the docker CLI takes them."""
from __future__ import annotations

from reference_impl.errors import InvalidInput


def parse_filters(specs: list[str], allowed: set[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for spec in specs:
        key, eq, value = spec.partition("=")
        if not eq:
            raise InvalidInput(f"bad format of filter (expected name=value)")
        key = key.strip().lower()
        if key not in allowed:
            raise InvalidInput(f"invalid filter '{key}'")
        filters.setdefault(key, []).append(value)
    return filters
