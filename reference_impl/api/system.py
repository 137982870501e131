"""/_ping, /version, /info, /system/df; plugins answer 404 (strata has none:
only `docker inspect NAME` probes them, and a 404 there is what it expects)."""
from __future__ import annotations

from aiohttp import web

from reference_impl.api import common
from reference_impl.engine.system import SystemService


def routes():
    return [
        ("GET", "/_ping", ping),
        ("GET", "/version", version),
        ("GET", "/info", info),
        ("GET", "/system/df", disk_usage),
        ("GET", "/plugins/{name}/json", no_plugin),
    ]


async def ping(request: web.Request) -> web.Response:
    headers = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"}
    if request.method == "HEAD":  # dockerd's HEAD answers Content-Length: 0, not GET's length
        return web.Response(headers={**headers, "Content-Length": "0"}, content_type="text/plain", charset="utf-8")
    return web.Response(text="OK", headers=headers, content_type="text/plain", charset="utf-8")


async def version(request: web.Request) -> web.Response:
    document = SystemService(common.store(request)).version()
    document.pop("Compat")
    return common.json_response(document)


async def info(request: web.Request) -> web.Response:
    return common.json_response(await common.blocking(request, lambda: SystemService(common.store(request)).info()))




async def disk_usage(request: web.Request) -> web.Response:
    return common.json_response(await common.blocking(request, lambda: SystemService(common.store(request)).df()))


async def no_plugin(request: web.Request) -> web.Response:
    return common.error_response(404, f'plugin "{request.match_info["name"]}" not found')
