"""`search` and GET /images/search: a registry's v1 search, with Docker's filters (stars,
is-official, is-automated) checked before the registry is asked and applied to what it
lists, as dockerd does."""
from __future__ import annotations

from reference_impl import distribution
from reference_impl.engine.filters import Filters, boolean, check_keys
from reference_impl.errors import InvalidArgument

KNOWN = frozenset({"stars", "is-official", "is-automated"})


def search(term: str, limit: int = 25, filters: Filters | None = None, auth=distribution.STORED) -> list[dict]:
    """The registry's results ({"name", "description", "star_count", "is_official",
    "is_automated"}) that pass every filter."""
    filters = filters or {}
    check_keys(filters, KNOWN)
    official, automated = boolean(filters, "is-official"), boolean(filters, "is-automated")
    stars = least_stars(filters.get("stars", []))
    return [r for r in distribution.search(term, limit, auth=auth)
            if (official is None or bool(r.get("is_official")) == official)
            and (automated is None or bool(r.get("is_automated")) == automated)
            and r.get("star_count", 0) >= stars]


def least_stars(values: list[str]) -> int:
    """stars=N, the highest N given (each must be a number)."""
    least = 0
    for value in values:
        try:
            least = max(least, int(value))
        except ValueError:
            raise InvalidArgument(f"Invalid filter 'stars={value}'") from None
    return least
