"""Containers: create, list, inspect, start, stop, kill, restart, wait, remove, logs, top,
changes, commit, resize, prune. Attach is in attach.py, exec in execs.py."""
from __future__ import annotations

import asyncio
import json
import subprocess

from aiohttp import web

from reference_impl import layers, refs, runtime
from reference_impl.network.ports import PortBinding, PortMap, port_key, split_port_key
from reference_impl.network.settings import network_settings, published_ports
from reference_impl.api import attach, common, hijack, workers
from reference_impl.api.common import STATE, ApiError
from reference_impl.cli import containers as views
from reference_impl.confinement import Confinement, SettingsError
from reference_impl.errors import NotFound
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
        ("GET", "/containers/{id}/changes", changes),
        ("POST", "/containers/{id}/resize", resize),
        ("POST", "/containers/{id}/attach", attach.attach),
        ("POST", "/commit", commit),
    ]


def _resolve(request: web.Request) -> Container:
    return common.store(request).containers.resolve(request.match_info["id"])


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


def _create(store, name: str | None, body: dict) -> tuple[Container, list[str]]:
    image = body.get("Image")
    if not image or not isinstance(image, str):
        raise ApiError(400, "config cannot be empty in order to create a container")
    image = common.familiar(image)
    if not refs.ID_PREFIX.match(image):
        refs.parse(image)  # "invalid reference format": 400
    host = body.get("HostConfig") or {}
    entrypoint = _words(body.get("Entrypoint"), "Entrypoint")
    if entrypoint is not None and entrypoint in ([], [""]):
        entrypoint = []
    user = body.get("User") or None
    try:
        confinement = Confinement.from_host_config(host)
    except SettingsError as exc:
        raise ApiError(400, str(exc)) from None
    return runtime.create(store, image, name=name or None, cmd=_words(body.get("Cmd"), "Cmd") or [],
                          entrypoint=entrypoint, env=_words(body.get("Env"), "Env") or [],
                          workdir=body.get("WorkingDir") or None, user=user, tty=bool(body.get("Tty")),
                          stdin_open=bool(body.get("OpenStdin")), auto_remove=bool(host.get("AutoRemove")),
                          labels=body.get("Labels") or {},
                          exposed=[port_key(p) for p in (body.get("ExposedPorts") or {})],
                          port_bindings=_bindings(host.get("PortBindings")),
                          publish_all=bool(host.get("PublishAllPorts")),
                          confinement=confinement), confinement.warnings


async def create(request: web.Request) -> web.Response:
    body = await common.json_body(request, {})
    container, warnings = await common.blocking(request, _create, common.store(request),
                                                request.query.get("name"), body)
    return common.json_response({"Id": container.id, "Warnings": warnings}, status=201)


# --- list / inspect --------------------------------------------------------------------------

def _ports(container: Container) -> list[dict]:
    found = []
    for key, frontends in published_ports(container).items():
        number, proto = split_port_key(key)
        if not frontends:
            found.append({"PrivatePort": number, "Type": proto})
        for b in frontends or []:
            found.append({"IP": b.host_ip, "PrivatePort": number,
                          "PublicPort": int(b.host_port or 0), "Type": proto})
    return found


def ps_json(container: Container) -> dict:
    settings = network_settings(container)
    return {"Id": container.id, "Names": ["/" + container.name],
            "Image": container.config.get("ImageName", ""), "ImageID": container.config.get("Image", ""),
            "Command": views._command_text(container), "Created": common.unix_time(container.config.get("Created", "")),
            "Ports": _ports(container), "Labels": container.config["Config"].get("Labels") or {},
            "State": "running" if container.running else container.status,
            "Status": views._status_text(container), "HostConfig": {"NetworkMode": "default"},
            "NetworkSettings": {"Networks": settings["Networks"]}, "Mounts": []}


def _list(store, show_all: bool, limit: int, flt: dict) -> list[dict]:
    unknown = set(flt) - {"label", "name", "id", "status", "ancestor", "exited", "before", "since"}
    if unknown:
        raise ApiError(400, f"invalid filter '{sorted(unknown)[0]}'")
    found = [c for c in store.containers.all() if views._ps_filter(store, c, flt)]
    if not (show_all or limit > 0 or "status" in flt):
        found = [c for c in found if c.running]
    if limit > 0:
        found = found[:limit]
    return [ps_json(c) for c in found]


async def list_containers(request: web.Request) -> web.Response:
    return common.json_response(await common.blocking(
        request, _list, common.store(request), common.qbool(request, "all"), common.qint(request, "limit", -1),
        common.filters(request)))


_HOST_DEFAULTS = {"LogConfig": {"Type": "json-file", "Config": {}}, "RestartPolicy": {"Name": "no",
                  "MaximumRetryCount": 0}, "Binds": None, "Dns": [], "Links": None}


def container_json(store, container: Container) -> dict:
    """What `inspect` shows, with the HostConfig fields clients read (the SDK: LogConfig)."""
    value = views.container_inspect(store, container)
    value["HostConfig"] = {**_HOST_DEFAULTS, **value["HostConfig"]}
    value.setdefault("ExecIDs", None)
    return value


async def inspect(request: web.Request) -> web.Response:
    def work():
        store = common.store(request)
        return container_json(store, store.containers.resolve(request.match_info["id"]))
    return common.json_response(await common.blocking(request, work))


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
        runtime.remove(store, store.containers.get(cid), force=True)
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
    if not container.running:
        return web.Response(status=304)
    timeout = common.qint(request, "t", 10)
    await common.blocking(request, runtime.stop, common.store(request), container, timeout)
    return web.Response(status=204)


async def kill(request: web.Request) -> web.Response:
    container = await resolve(request)
    sig = runtime._signal_number(request.query.get("signal") or "KILL")
    await common.blocking(request, runtime.kill, container, sig)
    return web.Response(status=204)


async def restart(request: web.Request) -> web.Response:
    container = await resolve(request)
    store = common.store(request)
    await common.blocking(request, runtime.stop, store, container, common.qint(request, "t", 10))
    await start_container(request.app, store, await resolve(request))
    return web.Response(status=204)


async def remove(request: web.Request) -> web.Response:
    container = await resolve(request)
    await common.blocking(request, runtime.remove, common.store(request), container, common.qbool(request, "force"))
    return web.Response(status=204)


def _prune(store) -> list[str]:
    removed = []
    for container in store.containers.all():
        if not container.running and not container.starting:
            runtime.remove(store, container)
            removed.append(container.id)
    return removed


async def prune(request: web.Request) -> web.Response:
    removed = await common.blocking(request, _prune, common.store(request))
    return common.json_response({"ContainersDeleted": removed or None, "SpaceReclaimed": 0})


# --- wait ----------------------------------------------------------------------------------------------

def _finished(container: Container) -> bool:
    return not container.running and runtime._shim_gone(container)


async def wait(request: web.Request) -> web.StreamResponse:
    """Headers at once (the CLI sends wait before start and waits for them), the body when
    the condition is met: not-running (default), next-exit, removed."""
    condition = request.query.get("condition") or "not-running"
    if condition not in ("not-running", "next-exit", "removed"):
        raise ApiError(400, f"invalid condition: {condition!r}")
    container = await resolve(request)
    store = common.store(request)
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
            if condition in ("removed", "next-exit") or not _finished(last):
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
        if condition == "not-running" and _finished(current):
            code = current.state.get("ExitCode", 0)
        elif condition == "next-exit" and _finished(current) and (
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

def _log_records(container: Container, position: int) -> tuple[list[dict], int]:
    try:
        with open(container.log_path, "rb") as f:
            f.seek(position)
            data = f.read()
    except FileNotFoundError:
        return [], position
    complete = data[:data.rfind(b"\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.strip()], position + len(complete)


async def logs(request: web.Request) -> web.StreamResponse:
    container = await resolve(request)
    store = common.store(request)
    tty = bool(container.config["Config"].get("Tty"))
    wanted = {"stdout": common.qbool(request, "stdout"), "stderr": common.qbool(request, "stderr")}
    if not any(wanted.values()):
        raise ApiError(400, "Bad parameters: you must choose at least one stream")
    follow, stamps = common.qbool(request, "follow"), common.qbool(request, "timestamps")
    tail = request.query.get("tail", "all")
    records, position = _log_records(container, 0)
    if tail not in ("all", "") and tail.lstrip("-").isdigit():
        records = records[-int(tail):] if int(tail) > 0 else []
    response = web.StreamResponse(status=200)
    response.enable_chunked_encoding()
    await response.prepare(request)
    while True:
        for record in records:
            if not wanted.get(record["stream"]):
                continue
            text = (f"{record['time']} " if stamps else "") + record["log"]
            data = text.encode()
            await response.write(data if tty else hijack.frame(
                hijack.STDOUT if record["stream"] == "stdout" else hijack.STDERR, data))
        if not follow or common.gone(request):
            break
        try:
            current = store.containers.get(container.id)
        except NotFound:
            break
        running = current.running or not runtime._shim_gone(current)
        records, position = _log_records(current, position)
        if not running and not records:
            records, position = _log_records(current, position)
            if not records:
                break
        if not records:
            await asyncio.sleep(0.05)
    await response.write_eof()
    return response


# --- top / changes / commit / resize ---------------------------------------------------------------------

def _top(container: Container, ps_args: str) -> dict:
    if not container.running:
        raise common.Conflict(f"Container {container.id} is not running")
    pids = set(runtime.processes_of(container))
    out = subprocess.run(["ps", *(ps_args.split() or ["-ef"])], capture_output=True, text=True)
    if out.returncode != 0:
        raise common.EngineError(f"ps: {out.stderr.strip()}")
    lines = out.stdout.splitlines()
    header = lines[0].split()
    if "PID" not in header:
        raise common.EngineError("Couldn't find PID field in ps output")
    column = header.index("PID")
    rows = [line.split(None, len(header) - 1) for line in lines[1:] if int(line.split()[column]) in pids]
    return {"Titles": header, "Processes": rows}


async def top(request: web.Request) -> web.Response:
    container = await resolve(request)
    return common.json_response(await common.blocking(request, _top, container, request.query.get("ps_args", "")))


def _changes(store, container: Container) -> list[dict] | None:
    lowers = [store.images.layer_diff_dir(d) for d in reversed(container.config["Layers"])]
    kinds = {"C": 0, "A": 1, "D": 2}
    found = [{"Path": path, "Kind": kinds[kind]} for kind, path in layers.changes(container.upper, lowers)]
    return found or None


async def changes(request: web.Request) -> web.Response:
    container = await resolve(request)
    return common.json_response(await common.blocking(request, _changes, common.store(request), container))


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

    def work() -> str:
        store = common.store(request)
        container = store.containers.resolve(name)
        return views.commit(store, container, reference, request.query.get("author", ""),
                            request.query.get("comment", ""), changes_)
    return common.json_response({"Id": await common.blocking(request, work)}, status=201)


async def resize(request: web.Request) -> web.Response:
    container = await resolve(request)
    if not container.running:
        raise common.Conflict(f"Container {container.id} is not running")
    return web.Response(status=200)
