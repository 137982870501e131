"""Exec: POST /containers/{id}/exec makes an exec instance (kept in memory, as dockerd
keeps them: they belong to the API, not to the store), POST /exec/{id}/start runs it
through a worker on a hijacked connection, GET /exec/{id}/json reports its exit code."""
from __future__ import annotations

import asyncio
import base64
import os
import secrets

from aiohttp import web

from reference_impl.api import common, workers
from reference_impl.api.common import STATE, ApiError
from reference_impl.api.hijack import Hijacked

_KEEP = 300  # seconds an exec instance is kept after it ends


def routes():
    return [
        ("POST", "/containers/{id}/exec", create),
        ("POST", "/exec/{id}/start", start),
        ("GET", "/exec/{id}/json", inspect),
        ("POST", "/exec/{id}/resize", resize),
    ]


def _instance(request: web.Request) -> dict:
    instance = request.app[STATE]["execs"].get(request.match_info["id"])
    if instance is None:
        raise common.NotFound(f"No such exec instance: {request.match_info['id']}")
    return instance


async def create(request: web.Request) -> web.Response:
    from reference_impl.api.containers import resolve
    body = await common.json_body(request, {})
    container = await resolve(request)
    cmd = body.get("Cmd")
    if isinstance(cmd, str):
        cmd = [cmd]
    if not cmd or not isinstance(cmd, list):
        raise ApiError(400, "No exec command specified")
    if not container.running:
        raise common.Conflict(f"Container {container.id} is not running")
    from reference_impl.lifecycle import pause
    if pause.is_paused(container.id):
        raise common.Conflict(f"Container {request.match_info['id']} is paused, unpause the container before exec")
    keys = _detach_keys(body.get("DetachKeys") or "")
    exec_id = secrets.token_hex(32)
    request.app[STATE]["execs"][exec_id] = {
        "ID": exec_id, "Running": False, "ExitCode": None, "ContainerID": container.id,
        "ProcessConfig": {"tty": bool(body.get("Tty")), "entrypoint": cmd[0], "arguments": cmd[1:],
                          "privileged": bool(body.get("Privileged")), "user": body.get("User") or ""},
        "OpenStdin": bool(body.get("AttachStdin")), "OpenStderr": bool(body.get("AttachStderr")),
        "OpenStdout": bool(body.get("AttachStdout")), "CanRemove": False,
        "DetachKeys": base64.b64encode(keys).decode() if body.get("DetachKeys") else "", "Pid": 0,
        "_spec": {"id": container.id, "argv": cmd, "env": body.get("Env") or [],
                  "workdir": body.get("WorkingDir") or None, "user": body.get("User") or None,
                  "tty": bool(body.get("Tty")), "detach_keys": keys.hex()},
    }
    return common.json_response({"Id": exec_id}, status=201)


async def inspect(request: web.Request) -> web.Response:
    instance = _instance(request)
    return common.json_response({k: v for k, v in instance.items() if not k.startswith("_")})


async def resize(request: web.Request) -> web.Response:
    rows, columns = common.window_size(request)
    instance = _instance(request)
    if instance["ExitCode"] is not None:
        raise common.NotFound("no such exec")
    if not instance["Running"]:  # dockerd waits for the start, then says so
        raise ApiError(500, "timeout waiting for exec session ready")
    resizes = instance.get("_resizes")
    if resizes is not None:  # an attached -t exec: its worker gives its terminal the size
        try:
            os.write(resizes, f"{rows} {columns}\n".encode())
        except BrokenPipeError:  # it has just ended
            pass
    return web.Response(status=200)


async def start(request: web.Request) -> web.StreamResponse:
    instance = _instance(request)
    body = await common.json_body(request, {})
    if instance["Running"] or instance["ExitCode"] is not None:
        raise common.Conflict(f"Exec {instance['ID']} has already been started")
    spec = {**instance["_spec"], "root": str(request.app[STATE]["root"]), "interactive": instance["OpenStdin"]}
    if "Tty" in body:  # the start request decides the framing (and the terminal), as dockerd does
        spec["tty"] = bool(body["Tty"])
    tty = spec["tty"]
    instance["Running"] = True
    if body.get("Detach"):
        worker = await workers.spawn("exec", spec)
        common.background(_finish(request.app, instance, worker))
        return web.Response(status=200)
    from reference_impl.api.attach import Session
    conn = Hijacked(request)
    session = Session(conn, tty, instance["OpenStdin"], instance["OpenStdout"], instance["OpenStderr"])
    resizes_r, instance["_resizes"] = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK) if tty else (None, None)
    try:
        worker = await workers.spawn("exec", {**spec, "resizes_fd": resizes_r}, *session.worker_fds(),
                                     pass_fds=(resizes_r,) if tty else ())
    except BaseException:
        instance["Running"] = False
        if tty:
            os.close(instance.pop("_resizes"))
        session.abort()
        raise
    finally:
        if resizes_r is not None:
            os.close(resizes_r)
    session.handed_over()
    await conn.upgrade()
    finisher = asyncio.get_running_loop().create_task(_finish(request.app, instance, worker))
    session.before_close = finisher  # the client asks /exec/{id}/json as soon as the stream ends
    session.begin()
    lost = asyncio.ensure_future(conn.lost.wait())
    done = asyncio.ensure_future(session.done.wait())
    await asyncio.wait([lost, done], return_when=asyncio.FIRST_COMPLETED)
    lost.cancel()
    done.cancel()
    if not session.done.is_set():  # the client left: stop the exec's process tree from the top
        worker.terminate()
        session.abort()
    await finisher
    return conn.response


def _detach_keys(text: str) -> bytes:
    """The exec's detach keys (empty: dockerd's default), refused in its words for an exec."""
    from reference_impl.lifecycle import detach_keys
    try:
        return detach_keys.parse(text)
    except common.InvalidArgument:
        raise ApiError(500, f"Invalid escape keys ({text}) provided") from None


async def _finish(app: web.Application, instance: dict, worker: workers.Worker) -> None:
    report = await worker.next_report()
    worker.close()
    code = await worker.process.wait()
    if report and report.get("detached"):  # the keys were typed: it runs on, nobody waits for it
        if instance.get("_resizes") is not None:
            os.close(instance.pop("_resizes"))
        return
    if report and "exit" in report:
        code = report["exit"]
    elif report and "error" in report:
        code = 126
    instance["ExitCode"] = code
    instance["Running"] = False
    if instance.get("_resizes") is not None:
        os.close(instance.pop("_resizes"))

    async def forget() -> None:
        await asyncio.sleep(_KEEP)
        app[STATE]["execs"].pop(instance["ID"], None)
    common.background(forget())
