"""Containers: create, list, inspect, start, stop, kill, restart, wait, remove, logs, top,
changes, commit, resize, prune. Attach is in attach.py, exec in execs.py."""
from __future__ import annotations

import asyncio
import dataclasses
import json

from aiohttp import web

from reference_impl.api import attach, common, hijack, lifecycle, networks, unimplemented, validation, volumes, workers
from reference_impl.api.common import STATE, ApiError
from reference_impl.engine.containers import ContainerService, signal_number
from reference_impl.engine.images import ImageService
from reference_impl.engine.records.container_views import ContainerListOptions, ContainerSummary
from reference_impl.engine.records.containers import CreateOptions, HostConfig
from reference_impl.engine.records.images import CommitOptions
from reference_impl.confinement import Confinement, SettingsError
from reference_impl.errors import NotFound
from reference_impl.lifecycle import logtimes
from reference_impl.network.ports import PortBinding, PortMap, port_key
from reference_impl.store import Container


def routes():
    return [
        ("POST", "/containers/create", create),
        ("GET", "/containers/json", list_containers),
        ("POST", "/containers/prune", prune),
        ("GET", "/containers/{id}/json", inspect),
        ("POST", "/containers/{id}/start", start),
        ("POST", "/containers/{id}/stop", stop),
        ("POST", "/containers/{id}/kill", kill),
        ("POST", "/containers/{id}/restart", restart),
        ("POST", "/containers/{id}/wait", wait),
        ("DELETE", "/containers/{id}", remove),
        ("GET", "/containers/{id}/logs", logs),
        ("GET", "/containers/{id}/top", top),
        ("GET", "/containers/{id}/stats", stats),
        ("GET", "/containers/{id}/changes", changes),
        ("POST", "/containers/{id}/resize", resize),
        ("POST", "/containers/{id}/attach", attach.attach),
        *lifecycle.routes(),
        ("POST", "/commit", commit),
    ]


def _service(request: web.Request) -> ContainerService:
    return ContainerService(common.store(request))


def _resolve(request: web.Request) -> Container:
    return _service(request).get(request.match_info["id"])


async def resolve(request: web.Request) -> Container:
    return await common.blocking(request, _resolve, request)


# --- create --------------------------------------------------------------------------------

def _words(value, what: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise ApiError(400, f"invalid {what}: expected a list of strings")


def _bindings(raw) -> PortMap:
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid PortBindings")
    return {port_key(key): [PortBinding.from_json(f) for f in (frontends or [{}])]
            for key, frontends in raw.items()}


def create_options(body: dict) -> CreateOptions:
    """A create request's JSON as the engine's options."""
    image = body.get("Image")
    if not image or not isinstance(image, str):
        raise ApiError(400, "config cannot be empty in order to create a container")
    host = body.get("HostConfig") or {}
    unimplemented.refuse_unimplemented(host)
    entrypoint = _words(body.get("Entrypoint"), "Entrypoint")
    if entrypoint is not None and entrypoint in ([], [""]):
        entrypoint = []
    try:
        confinement = Confinement.from_host_config(host)
    except SettingsError as exc:
        raise ApiError(400, str(exc)) from None
    return CreateOptions(image=common.familiar(image), cmd=_words(body.get("Cmd"), "Cmd") or [],
                         entrypoint=entrypoint, env=_words(body.get("Env"), "Env") or [],
                         workdir=body.get("WorkingDir") or None, user=body.get("User") or None,
                         tty=bool(body.get("Tty")), stdin_open=bool(body.get("OpenStdin")),
                         labels=body.get("Labels") or {},
                         exposed=[port_key(p) for p in (body.get("ExposedPorts") or {})],
                         host=HostConfig(auto_remove=bool(host.get("AutoRemove")),
                                         port_bindings=_bindings(host.get("PortBindings")),
                                         publish_all=bool(host.get("PublishAllPorts")),
                                         confinement=confinement, storage=volumes.storage(body)),
                         networking=networks.networking_options(body),
                         lifecycle=lifecycle.create_options(body))


async def create(request: web.Request) -> web.Response:
    body = await common.json_body(request)
    body = {} if body is None else body
    validation.check("container_create", body)
    options = dataclasses.replace(create_options(body), name=request.query.get("name") or None)
    container = await common.blocking(request, lambda: _service(request).create(options))
    return common.json_response({"Id": container.id, "Warnings": options.host.confinement.warnings},
                                status=201)


# --- list / inspect --------------------------------------------------------------------------

def summary_json(c: ContainerSummary) -> dict:
    ports = [{"PrivatePort": p.private_port, "Type": p.type} if not p.public_port and not p.ip
             else {"IP": p.ip, "PrivatePort": p.private_port, "PublicPort": p.public_port, "Type": p.type}
             for p in c.ports]
    return {"Id": c.id, "Names": ["/" + n for n in c.names], "Image": c.image, "ImageID": c.image_id,
            "Command": c.command, "Created": int(c.created), "Ports": ports, "Labels": c.labels,
            "State": c.state, "Status": c.status, "HostConfig": {"NetworkMode": "default"},
            "NetworkSettings": {"Networks": c.networks}, "Mounts": [],
            # asked with ?size=1; SizeRw left out when 0, as dockerd's omitempty does
            **({"SizeRw": c.size_rw} if c.size_rw else {}),
            **({"SizeRootFs": c.size_root_fs} if c.size_root_fs is not None else {})}


async def list_containers(request: web.Request) -> web.Response:
    options = ContainerListOptions(all=common.qbool(request, "all"), limit=common.qint(request, "limit", -1),
                                   filters=common.filters(request), size=common.qbool(request, "size"))
    if options.size:  # a walk of each container's layer: off the event loop
        found = await common.blocking(request, lambda: _service(request).list(options))
    else:
        found = common.short_read(_service(request).list, options)
    return common.json_response([summary_json(c) for c in found])


async def inspect(request: web.Request) -> web.Response:
    name, size = request.match_info["id"], common.qbool(request, "size")
    return common.json_response(await common.blocking(request, lambda: _service(request).inspect(name, size=size)))


# --- start / stop / kill / restart / remove ---------------------------------------------------------

async def start_container(app: web.Application, store, container: Container) -> None:
    """Start through a worker; attached when an attach session waits for this container."""
    state = app[STATE]
    session = state["attachments"].pop(container.id, None)
    try:
        if session is not None:
            await attach.start_attached(app, store, container, session)
            return
        worker = await workers.spawn("start", {"root": str(store.root), "id": container.id})
        try:
            report = await worker.next_report()
        finally:
            worker.close()
        await worker.process.wait()
        if report is None or "error" in report:
            raise ApiError((report or {}).get("status", 500),
                           (report or {}).get("error", "the container could not be started"))
    except ApiError:
        if container.config["HostConfig"].get("AutoRemove"):  # dockerd removes a --rm container it cannot start
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(state["executor"], _remove_quietly, store, container.id)
        raise


def _remove_quietly(store, cid: str) -> None:
    try:
        ContainerService(store).remove(cid, force=True, volumes=True)
    except NotFound:
        pass


async def start(request: web.Request) -> web.Response:
    container = await resolve(request)
    if container.running:
        return web.Response(status=304)
    await start_container(request.app, common.store(request), container)
    return web.Response(status=204)


async def stop(request: web.Request) -> web.Response:
    container = await resolve(request)
    timeout = common.qint(request, "t", None)
    stopped = await common.blocking(request, lambda: _service(request).stop(container.id, timeout))
    return web.Response(status=204 if stopped else 304)


async def kill(request: web.Request) -> web.Response:
    container = await resolve(request)
    name = request.query.get("signal") or "KILL"
    signal_number(name)  # an unknown signal is a 400 before anything is done
    await common.blocking(request, lambda: _service(request).kill(request.match_info["id"], name))
    return web.Response(status=204)


async def restart(request: web.Request) -> web.Response:
    container = await resolve(request)
    store = common.store(request)
    timeout = common.qint(request, "t", None)
    await common.blocking(request, lambda: _service(request).stop(container.id, timeout))
    await start_container(request.app, store, await resolve(request))
    return web.Response(status=204)


async def remove(request: web.Request) -> web.Response:
    container = await resolve(request)
    force, with_volumes = common.qbool(request, "force"), common.qbool(request, "v")
    await common.blocking(request, lambda: _service(request).remove(container.id, force, with_volumes))
    return web.Response(status=204)


async def prune(request: web.Request) -> web.Response:
    filters = common.filters(request)
    report = await common.blocking(request, lambda: _service(request).prune(filters))
    return common.json_response({"ContainersDeleted": report.deleted or None,
                                 "SpaceReclaimed": report.space_reclaimed})


# --- wait ----------------------------------------------------------------------------------------------

async def wait(request: web.Request) -> web.StreamResponse:
    """Headers at once (the CLI sends wait before start and waits for them), the body when
    the condition is met: not-running (default), next-exit, removed."""
    condition = request.query.get("condition") or "not-running"
    if condition not in ("not-running", "next-exit", "removed"):
        raise ApiError(400, f"invalid condition: {condition!r}")
    container = await resolve(request)
    store = common.store(request)
    finished = ContainerService(store).finished
    runs = request.app[STATE]["exits"]
    response = web.StreamResponse(status=200)
    response.content_type = "application/json"
    response.enable_chunked_encoding()
    await response.prepare(request)
    first = dict(container.state)
    last = container
    code = None
    delay = 0.01
    while code is None:
        if common.gone(request):
            return response
        try:
            current = store.containers.get(container.id)
        except NotFound:
            if condition in ("removed", "next-exit") or not finished(last):
                run = runs.get(container.id)
                if run is not None:
                    try:
                        code = await asyncio.wait_for(asyncio.shield(run), timeout=10)
                    except asyncio.TimeoutError:
                        code = None
                code = code if code is not None else last.state.get("ExitCode", 0)
            else:
                code = last.state.get("ExitCode", 0)
            break
        last = current
        if condition == "not-running" and finished(current):
            code = current.state.get("ExitCode", 0)
        elif condition == "next-exit" and finished(current) and (
                current.state.get("FinishedAt") != first.get("FinishedAt")
                or current.state.get("StartedAt") != first.get("StartedAt")):
            code = current.state.get("ExitCode", 0)
        else:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
    await response.write(json.dumps({"Error": None, "StatusCode": code}).encode() + b"\n")
    await response.write_eof()
    return response


# --- logs -------------------------------------------------------------------------------------------------

async def logs(request: web.Request) -> web.StreamResponse:
    container = await resolve(request)
    store = common.store(request)
    tty = bool(container.config["Config"].get("Tty"))
    wanted = {"stdout": common.qbool(request, "stdout"), "stderr": common.qbool(request, "stderr")}
    if not any(wanted.values()):
        raise ApiError(400, "Bad parameters: you must choose at least one stream")
    follow, stamps = common.qbool(request, "follow"), common.qbool(request, "timestamps")
    tail = logtimes.tail_count(request.query.get("tail", "all"))
    since = logtimes.api_time(request.query.get("since", ""), "since")
    until = logtimes.api_time(request.query.get("until", ""), "until")
    service = ContainerService(store)
    records, position = service.logs(container.id, 0)
    if tail is not None:
        records = records[-tail:] if tail > 0 else []
    response = web.StreamResponse(status=200)
    response.enable_chunked_encoding()
    await response.prepare(request)
    while True:
        for record in logtimes.wanted(records, since, until):
            if not wanted.get(record.stream):
                continue
            data = ((f"{record.time} " if stamps else "") + record.text).encode()
            await response.write(data if tty else hijack.frame(
                hijack.STDOUT if record.stream == "stdout" else hijack.STDERR, data))
        if not follow or common.gone(request):
            break
        try:
            current = store.containers.get(container.id)
            done = service.finished(current)
            records, position = await common.blocking(request, service.logs, container.id, position)
        except NotFound:
            break
        if done and not records:
            break
        if not records:
            await asyncio.sleep(0.05)
    await response.write_eof()
    return response


# --- top / changes / commit / resize ---------------------------------------------------------------------

async def top(request: web.Request) -> web.Response:
    name, ps_args = request.match_info["id"], request.query.get("ps_args", "").split()
    result = await common.blocking(request, lambda: _service(request).top(name, ps_args))
    return common.json_response({"Titles": result.titles, "Processes": result.processes})


async def stats(request: web.Request) -> web.StreamResponse:
    """One reading (stream=false: paired with one INTERVAL earlier, unless one-shot), or one
    per INTERVAL until the client goes (stream=true, the default), as dockerd answers."""
    from reference_impl.engine import container_stats
    container = await resolve(request)
    service = _service(request)
    stream = common.qbool(request, "stream", default=True)

    async def reading() -> dict:
        return await common.blocking(request, service.stats, container.id)
    current = await reading()
    if current["read"] == container_stats.ZERO_TIME:  # not running: its empty reading, once
        return common.json_response(current)
    if not stream:
        if not common.qbool(request, "one-shot"):
            await asyncio.sleep(container_stats.INTERVAL)
            current = container_stats.paired(await reading(), current)
        return common.json_response(current)
    response = web.StreamResponse(status=200)
    response.content_type = "application/json"
    response.enable_chunked_encoding()
    await response.prepare(request)
    previous = None
    try:
        while not common.gone(request):
            await response.write(json.dumps(container_stats.paired(current, previous)).encode() + b"\n")
            previous = current
            await asyncio.sleep(container_stats.INTERVAL)
            current = await reading()
    except ConnectionError:  # the client went: nothing more to send
        pass
    return response


_KINDS = {"C": 0, "A": 1, "D": 2}


async def changes(request: web.Request) -> web.Response:
    name = request.match_info["id"]
    found = await common.blocking(request, lambda: _service(request).diff(name))
    return common.json_response([{"Path": c.path, "Kind": _KINDS[c.kind]} for c in found] or None)


async def commit(request: web.Request) -> web.Response:
    body = await common.json_body(request, {})
    name = request.query.get("container", "")
    if not name:
        raise ApiError(400, "container is required")
    repo = common.familiar(request.query.get("repo", ""))
    tag = request.query.get("tag", "")
    reference = (f"{repo}:{tag}" if tag else repo) or None
    changes_ = request.query.getall("changes", [])
    for key, value in (body or {}).items():  # a config in the body: the fields commit can change
        if key == "Cmd" and value:
            changes_.append("CMD " + json.dumps(value))
        elif key == "Entrypoint" and value:
            changes_.append("ENTRYPOINT " + json.dumps(value))

    options = CommitOptions(container=name, reference=reference, author=request.query.get("author", ""),
                            message=request.query.get("comment", ""), changes=changes_,
                            pause=common.qbool(request, "pause", True))
    image_id = await common.blocking(request, lambda: ImageService(common.store(request)).commit(options))
    return common.json_response({"Id": image_id}, status=201)


async def resize(request: web.Request) -> web.Response:
    rows, columns = common.window_size(request)
    container = await resolve(request)
    await common.blocking(request, lambda: _service(request).resize(container.id, rows, columns))
    return web.Response(status=200)
