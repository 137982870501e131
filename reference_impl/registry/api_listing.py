"""Listing endpoints: /v2/ base check, tags list, catalog (paginated), and the
v1 endpoints `docker search` calls (/v1/_ping, /v1/search)."""
import json
import math
from urllib.parse import urlencode

from aiohttp import web

from .errors import RegistryError

CATALOG_DEFAULT_N = 1000
SEARCH_DEFAULT_N = 25


def _json(data, headers=None) -> web.Response:
    return web.Response(body=(json.dumps(data, separators=(",", ":")) + "\n").encode(), headers={
        "Content-Type": "application/json; charset=utf-8", **(headers or {})})


def _count(request: web.Request, key: str, default: int | None) -> int | None:
    value = request.query.get(key)
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise RegistryError("PAGINATION_NUMBER_INVALID", {key: value[:50]})
    return int(value)


def _page(request: web.Request, items: list[str], path: str, default_n: int | None):
    """(page of items after `last`, Link header dict) per the spec's pagination."""
    n = _count(request, "n", default_n)
    last = request.query.get("last")
    if last:
        items = [i for i in items if i > last]
    if n is None or len(items) <= n:
        return items, {}
    page = items[:n]
    if not page:
        return page, {}
    query = urlencode({"last": page[-1], "n": n})
    return page, {"Link": f'<{path}?{query}>; rel="next"'}


async def base(registry, request: web.Request) -> web.Response:
    return _json({})


async def tags(registry, request: web.Request, name: str) -> web.Response:
    all_tags = registry.storage.tags(name)
    if all_tags is None:
        if not registry.storage.repo_exists(name):
            raise RegistryError("NAME_UNKNOWN", {"name": name})
        all_tags = []
    page, link = _page(request, all_tags, f"/v2/{name}/tags/list", None)
    return _json({"name": name, "tags": page}, link)


async def catalog(registry, request: web.Request) -> web.Response:
    page, link = _page(request, registry.storage.repositories(), "/v2/_catalog",
                       CATALOG_DEFAULT_N)
    return _json({"repositories": page}, link)


async def ping_v1(registry, request: web.Request) -> web.Response:
    return _json({}, {"X-Docker-Registry-Standalone": "true",
                      "X-Docker-Registry-Version": "0.6.0"})


async def search(registry, request: web.Request) -> web.Response:
    query = request.query.get("q", "")
    n = _count(request, "n", SEARCH_DEFAULT_N) or SEARCH_DEFAULT_N
    n = min(n, 100)
    page = max(_count(request, "page", 1) or 1, 1)
    needle = query.lower()
    matches = [r for r in registry.storage.repositories() if needle in r.lower()]
    chosen = matches[(page - 1) * n: page * n]
    return _json({
        "num_results": len(matches), "query": query, "page": page, "page_size": n,
        "num_pages": max(1, math.ceil(len(matches) / n)),
        "results": [{"name": r, "description": "", "star_count": 0,
                     "is_official": False, "is_automated": False} for r in chosen]})
