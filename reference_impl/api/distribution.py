"""Registries through the service: /auth (checked against the registry), /images/create
(pull, and import with fromSrc=-), /images/{name}/push, /images/search.

The engine's pull and push report Docker's lines ("<id>: Pull complete"); here they
become the JSON progress messages the docker CLI renders back into those lines.
Credentials come from X-Registry-Auth, as dockerd takes them: the service has no
credential store of its own.
"""
from __future__ import annotations

import asyncio
import re

from aiohttp import web

from reference_impl import distribution, images, refs
from reference_impl.api import common
from reference_impl.api.common import ApiError
from reference_impl.engine import search as registry_search
from reference_impl.registry.client import AuthenticationError, RegistryAPIError, RegistryClient


def routes():
    return [
        ("POST", "/auth", auth),
        ("POST", "/images/create", create),
        ("GET", "/images/search", search),
        ("POST", "/images/{name:.+}/push", push),
    ]


_WITH_ID = re.compile(r"^([0-9a-f]{12}|[\w][\w.-]{0,127}(?=: Pulling from )): (.*)$")
_PUSHED = re.compile(r"^(?P<tag>\S+): digest: (?P<digest>sha256:[0-9a-f]{64}) size: (?P<size>\d+)$")


def progress_message(line: str) -> dict:
    """One line of `docker pull/push` output as the JSON message that prints it."""
    match = _WITH_ID.match(line)
    if match:
        return {"status": match[2], "progressDetail": {}, "id": match[1]}
    return {"status": line}


async def run_streaming(request: web.Request, work, first_status: int = 500) -> web.StreamResponse:
    """Run work(out) on the thread pool; stream every out(line) as a progress message. A failure
    before the first line is an HTTP error; after it, an errorDetail message."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def out(line: str) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, ("line", line))

    def job() -> None:
        try:
            result = work(out)
        except BaseException as exc:  # noqa: BLE001 — reported to the client
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, ("done", result))

    loop.run_in_executor(request.app[common.STATE]["executor"], job)
    stream = common.JsonStream(request)
    while True:
        kind, value = await queue.get()
        if kind == "error":
            if not stream.started:
                status = common.status_of(value)
                if status == 500 and "not found" in common.message_of(value):
                    status = 404
                return common.error_response(status, common.message_of(value))
            await stream.error(common.message_of(value))
            return await stream.finish()
        if kind == "done":
            if isinstance(value, dict):
                await stream.send(value)
            return await stream.finish()
        if common.gone(request):
            continue  # the client left: let the work finish, send nothing
        await stream.send(progress_message(value))
        pushed = _PUSHED.match(value)
        if pushed:
            await stream.send({"progressDetail": {}, "aux": {"Tag": pushed["tag"], "Digest": pushed["digest"],
                                                             "Size": int(pushed["size"])}})


def _reference(name: str, tag: str) -> str:
    name = common.familiar(name)
    if tag.startswith("sha256:"):
        return f"{name}@{tag}"
    return f"{name}:{tag}" if tag else name


async def create(request: web.Request) -> web.StreamResponse:
    if request.query.get("fromSrc"):
        return await _import(request)
    name = request.query.get("fromImage", "")
    if not name:
        raise ApiError(400, "fromImage or fromSrc is required")
    text = _reference(name, request.query.get("tag", ""))
    try:
        refs.parse(text)
    except common.InvalidInput as exc:
        raise ApiError(400, exc.message) from None
    credentials = common.registry_auth(request)
    store = common.store(request)
    return await run_streaming(request, lambda out: _pull(store, text, out, credentials))


def _pull(store, text: str, out, credentials) -> None:
    ref = refs.parse(text)
    if ref.domain is None:
        raise common.NotFound(f"pull access denied for {ref.name}, repository does not exist or may require "
                              "'docker login': denied: requested access to the resource is denied")
    distribution.pull(store, text, out, auth=credentials)


async def _import(request: web.Request) -> web.StreamResponse:
    if request.query["fromSrc"] != "-":
        raise ApiError(400, "importing from a URL is not supported: send the tar as the body (fromSrc=-)")
    repo = common.familiar(request.query.get("repo", ""))
    tag = request.query.get("tag", "")
    ref = None
    if repo:
        ref = refs.parse_tagged(f"{repo}:{tag}" if tag else repo)
    store = common.store(request)
    from reference_impl.api.images import spool_body
    path = await spool_body(request, store.images.tmp_dir, ".import-")

    def work() -> str:
        with open(path, "rb") as stream:
            return images.import_layer(store, stream, ref, request.query.getall("changes", []),
                                       request.query.get("message", ""))
    try:
        image_id = await common.blocking(request, work)
    finally:
        path.unlink(missing_ok=True)
    stream = common.JsonStream(request)
    await stream.send({"status": image_id})
    return await stream.finish()


async def push(request: web.Request) -> web.StreamResponse:
    text = _reference(request.match_info["name"], request.query.get("tag", ""))
    credentials = common.registry_auth(request)
    store = common.store(request)
    return await run_streaming(request, lambda out: distribution.push(store, text, out, auth=credentials))


async def search(request: web.Request) -> web.Response:
    term = request.query.get("term", "")
    if not term:
        raise ApiError(400, "a search term is required")
    limit = common.qint(request, "limit", 25)
    credentials = common.registry_auth(request)
    filters = common.filters(request)
    results = await common.blocking(request, lambda: registry_search.search(term, limit, filters, auth=credentials))
    return common.json_response([{"star_count": r.get("star_count", 0), "is_official": r.get("is_official", False),
                                  "name": r["name"], "is_automated": r.get("is_automated", False),
                                  "description": r.get("description") or ""} for r in results])


def _login(server: str, username: str, password: str) -> None:
    client = RegistryClient(server, auth=(username, password))
    try:
        client.login()
    except AuthenticationError as exc:
        if exc.token_service:   # the token service refused them: Docker names the /v2/ call
            raise ApiError(401, f'Get "{client.base}/v2/": {exc.reason}') from None
        raise ApiError(401, f"login attempt to {client.base}/v2/ failed with status: 401 Unauthorized") from None
    except RegistryAPIError as exc:
        raise ApiError(500, f"login attempt to {client.base}/v2/ failed with status: {exc.status}") from None


async def auth(request: web.Request) -> web.Response:
    body = await common.json_body(request, {})
    server = body.get("serveraddress") or ""
    if not server or "docker.io" in server:
        raise ApiError(500, "logging in to Docker Hub is not possible from here: give a registry address")
    server = re.sub(r"^https?://", "", server).rstrip("/")
    await common.blocking(request, _login, server, body.get("username", ""), body.get("password", ""))
    return common.json_response({"IdentityToken": "", "Status": "Login Succeeded"})
