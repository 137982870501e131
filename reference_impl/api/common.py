"""What every endpoint family shares: query parameters as dockerd reads them, errors as
dockerd sends them, JSON message streams, and the store (opened afresh per request)."""
from __future__ import annotations

import asyncio
import base64
import json
import re

from aiohttp import web

from reference_impl import humanize
from reference_impl.errors import (Conflict, EngineError, InvalidArgument, InvalidInput,  # noqa: F401 (re-exported: common.NotFound …)
                                   NotFound)
from reference_impl.api.status import http_status
from reference_impl.store import Store

API_VERSION = "1.41"
MIN_API_VERSION = "1.12"
SERVER = "strata/0.1.0 (linux)"
STATE = web.AppKey("strata", dict)  # root, store, executor, attachments, execs, exits


class ApiError(Exception):
    """An error with an explicit HTTP status (bad parameters, wrong state)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def status_of(exc: BaseException) -> int:
    return exc.status if isinstance(exc, ApiError) else http_status(exc)


def message_of(exc: BaseException) -> str:
    if isinstance(exc, (ApiError, EngineError)):
        return exc.message
    return str(exc) or type(exc).__name__


def error_response(status: int, message: str) -> web.Response:
    return json_response({"message": message}, status=status)


def json_response(value, status: int = 200) -> web.Response:
    """Content-Type exactly application/json: the docker CLI reads an error's message only then."""
    response = web.Response(body=json.dumps(value).encode(), status=status)
    response.headers["Content-Type"] = "application/json"
    return response


# --- query parameters (the CLI sends 1/0, the SDK True/False) ---------------------------------

def qbool(request: web.Request, name: str, default: bool = False) -> bool:
    value = request.query.get(name)
    if value is None:
        return default
    return value.strip().lower() not in ("", "0", "false", "no")


def window_size(request: web.Request) -> tuple[int, int]:
    """?h=ROWS&w=COLUMNS of a resize, each parsed as Go's strconv.Atoi parses it (both are
    required) and cut to the terminal's 16 bits, as runc's winsize is."""
    values = []
    for name in ("h", "w"):
        text = request.query.get(name, "")
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise ApiError(400, f'strconv.Atoi: parsing "{text}": invalid syntax')
        if not -(1 << 63) <= int(text) < (1 << 63):
            raise ApiError(400, f'strconv.Atoi: parsing "{text}": value out of range')
        values.append(int(text) & 0xFFFF)
    return values[0], values[1]


def qint(request: web.Request, name: str, default: int) -> int:
    value = request.query.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"invalid value for {name}: {value!r}") from None


def filters(request: web.Request) -> dict[str, list[str]]:
    """`filters`: {"key": {"value": true}} (or the old {"key": ["value"]}) -> {key: [values]}."""
    text = request.query.get("filters", "")
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ApiError(400, f"invalid filter: {exc}") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid filter: not an object")
    result: dict[str, list[str]] = {}
    for key, values in raw.items():
        if isinstance(values, dict):
            result[key] = [v for v, on in values.items() if on]
        elif isinstance(values, list):
            result[key] = [str(v) for v in values]
        else:
            raise ApiError(400, f"invalid filter value for {key}")
    return result


async def json_body(request: web.Request, default=None):
    """The request's JSON body; an empty body is `default`; malformed JSON is a 400."""
    data = await request.read()
    if not data.strip():
        return default
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise ApiError(400, f"invalid JSON in the request body: {exc}") from None
    if default is not None and not isinstance(value, type(default)):
        raise ApiError(400, f"invalid JSON in the request body: expected {type(default).__name__}")
    return value


def registry_auth(request: web.Request) -> tuple[str, str] | None:
    """X-Registry-Auth: base64url JSON {"username", "password", "serveraddress"}; {} is anonymous."""
    header = request.headers.get("X-Registry-Auth", "")
    if not header:
        return None
    try:
        padded = header + "=" * (-len(header) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except ValueError:
        raise ApiError(400, "invalid X-Registry-Auth header") from None
    if isinstance(data, dict) and data.get("username"):
        return data["username"], data.get("password", "")
    return None


def familiar(name: str) -> str:
    """What the CLI sends fully qualified (docker.io/library/x) as the store names it (x)."""
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def unix_time(rfc3339: str) -> int:
    return int(humanize.parse_rfc3339(rfc3339))


# --- the engine ---------------------------------------------------------------------------

def store(request: web.Request) -> Store:
    """The service's one Store, made with the app (server.make_app)."""
    return request.app[STATE]["store"]


async def blocking(request: web.Request, fn, *args):
    """Run a blocking engine call on the service's thread pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(request.app[STATE]["executor"], fn, *args)


def short_read(fn, *args):
    """Run an engine read that takes no lock and waits for nothing (a few small files per
    record) on the event loop itself: the hop to the pool and back, two thread switches
    (more on a loaded host), costs as much as such a read."""
    return fn(*args)


_BACKGROUND: set[asyncio.Task] = set()


def background(coro) -> asyncio.Task:
    """A task nobody awaits, kept alive until it ends: the loop holds tasks only weakly, and a
    collected task runs its `finally` early (a --rm run's exit code was lost that way)."""
    task = asyncio.get_running_loop().create_task(coro)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return task


def gone(request: web.Request) -> bool:
    """Whether the client has closed its connection."""
    transport = request.transport
    return transport is None or transport.is_closing()


class JsonStream:
    """A 200 reply of JSON messages, one per chunk, as dockerd streams build, pull and push."""

    def __init__(self, request: web.Request, content_type: str = "application/json"):
        self.request = request
        self.response = web.StreamResponse(status=200)
        self.response.content_type = content_type
        self.response.enable_chunked_encoding()
        self.started = False

    async def start(self) -> None:
        if not self.started:
            self.started = True
            await self.response.prepare(self.request)

    async def send(self, message: dict) -> None:
        await self.start()
        await self.response.write(json.dumps(message).encode() + b"\r\n")

    async def error(self, message: str, code: int = 1) -> None:
        detail = {"message": message}
        if code:
            detail = {"code": code, "message": message}
        await self.send({"errorDetail": detail, "error": message})

    async def finish(self) -> web.StreamResponse:
        await self.start()
        await self.response.write_eof()
        return self.response
