"""The service: an aiohttp application on a unix socket, speaking Engine API 1.41.

Every route answers with and without the /v<version> prefix (the docker CLI uses
/v1.41/…, the SDK asks /version first, unversioned). Errors are JSON
{"message": …} with dockerd's status codes; anything unrouted is a 404.
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiohttp import web

from reference_impl.api import archive, build, common, containers, distribution, execs, images, networks, system, volumes
from reference_impl.api.common import API_VERSION, MIN_API_VERSION, STATE, ApiError
from reference_impl.store import Store

FAMILIES = (system, images, build, distribution, containers, execs, volumes, archive, networks)


def _version_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        raise ApiError(400, f"invalid API version: {text}") from None


@web.middleware
async def _errors(request: web.Request, handler):
    state = request.app[STATE]
    state["active"] += 1
    state["last"] = time.monotonic()
    try:
        version = request.match_info.get("version")
        if version is not None:
            wanted = _version_tuple(version)
            if wanted > _version_tuple(API_VERSION):
                raise ApiError(400, f"client version {version} is too new. Maximum supported API "
                                    f"version is {API_VERSION}")
            if wanted < _version_tuple(MIN_API_VERSION):
                raise ApiError(400, f"client version {version} is too old. Minimum supported API version "
                                    f"is {MIN_API_VERSION}, please upgrade your client to a newer version")
        return await handler(request)
    except web.HTTPNotFound:
        return common.error_response(404, "page not found")
    except web.HTTPMethodNotAllowed:
        return common.error_response(405, "method not allowed")
    except web.HTTPException:
        raise
    except Exception as exc:  # noqa: BLE001 — every failure becomes {"message"}
        if isinstance(exc, ConnectionError) and common.gone(request):
            raise  # the client went away mid-reply: there is no one to answer
        if not isinstance(exc, (ApiError, common.EngineError)):
            return _internal(request, exc)
        return common.error_response(common.status_of(exc), common.message_of(exc))
    finally:
        state["active"] -= 1
        state["last"] = time.monotonic()


def _internal(request: web.Request, exc: BaseException) -> web.Response:
    import traceback
    print(f"strata service: {request.method} {request.path}: {exc!r}", file=sys.stderr)
    traceback.print_exc(file=sys.stderr)
    return common.error_response(500, common.message_of(exc))


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Api-Version"] = API_VERSION
    response.headers["Docker-Experimental"] = "false"
    response.headers["Ostype"] = "linux"
    response.headers["Server"] = common.SERVER


def make_app(root: Path) -> web.Application:
    app = web.Application(middlewares=[_errors], client_max_size=0)
    # one Store for every request: its directories checked once (five mkdirs), its image index
    # and tags remembered between requests (each checks its files' signatures before trusting)
    app[STATE] = {"root": Path(root), "store": Store(root),
                  "executor": ThreadPoolExecutor(max_workers=32, thread_name_prefix="api"),
                  "attachments": {}, "execs": {}, "exits": {}, "active": 0, "last": time.monotonic()}
    app.on_response_prepare.append(_headers)
    for family in FAMILIES:
        for method, path, handler in family.routes():
            # unversioned and versioned; HEAD comes with GET
            for prefix in ("", "/v{version:[0-9]+(?:\\.[0-9]+)*}"):
                if method == "GET":
                    app.router.add_get(prefix + path, handler, allow_head=True)
                else:
                    app.router.add_route(method, prefix + path, handler)
    app.on_shutdown.append(_shutdown)
    return app


async def _shutdown(app: web.Application) -> None:
    state = app[STATE]
    for session in list(state["attachments"].values()):
        session.abort()
    state["executor"].shutdown(wait=False, cancel_futures=True)


def _claim_socket(path: Path) -> None:
    """Remove a stale socket file; refuse one another service still answers on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() and not path.is_symlink():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink()
        return
    finally:
        probe.close()
    raise common.EngineError(f"another service is listening on {path}")


async def _serve(root: Path, path: Path, idle: float, ready=None) -> None:
    app = make_app(root)
    # a request line as long as dockerd takes (a container name of 10 000 characters)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, max_line_size=1 << 16)
    await runner.setup()
    _claim_socket(path)
    site = web.UnixSite(runner, str(path))
    await site.start()
    os.chmod(path, 0o660)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready(path)
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass
            state = app[STATE]
            if idle > 0 and state["active"] == 0 and not state["attachments"] \
                    and time.monotonic() - state["last"] > idle:
                break
    finally:
        await runner.cleanup()
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def serve(root: Path, path: Path, idle: float = 0, ready=None) -> int:
    """Serve until SIGTERM/SIGINT, or until `idle` seconds pass without a request (0: never)."""
    asyncio.run(_serve(Path(root), Path(path), idle, ready))
    return 0
