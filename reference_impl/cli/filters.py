"""`--filter key=value` flags, as the docker CLI takes them (the engine checks the keys)."""
from __future__ import annotations

from reference_impl.errors import InvalidInput


def parse_filters(specs: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for spec in specs:
        key, eq, value = spec.partition("=")
        if not eq:
            raise InvalidInput(f"bad format of filter (expected name=value)")
        filters.setdefault(key.strip().lower(), []).append(value)
    return filters
