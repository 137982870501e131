"""A container's life through the Engine API: the create fields (HostConfig.RestartPolicy,
Init, GroupAdd; StopSignal, StopTimeout, Healthcheck), pause, unpause, rename and update
(its restart policy and the resource limits of confinement/settings.UPDATABLE; other
fields are refused, not ignored)."""
from __future__ import annotations

from aiohttp import web

from reference_impl.api import common
from reference_impl.api.common import ApiError
from reference_impl.confinement.settings import UPDATABLE
from reference_impl.engine.containers import ContainerService
from reference_impl.errors import InvalidArgument
from reference_impl.lifecycle.logconfig import LogConfig
from reference_impl.lifecycle.restart import RestartPolicy
from reference_impl.lifecycle.settings import Healthcheck, LifecycleOptions


def routes():
    return [
        ("POST", "/containers/{id}/pause", pause),
        ("POST", "/containers/{id}/unpause", unpause),
        ("POST", "/containers/{id}/rename", rename),
        ("POST", "/containers/{id}/update", update),
    ]


def create_options(body: dict) -> LifecycleOptions:
    host = body.get("HostConfig") or {}
    try:
        return LifecycleOptions(restart=RestartPolicy.from_json(host.get("RestartPolicy")),
                                init=bool(host.get("Init")), group_add=list(host.get("GroupAdd") or []),
                                stop_signal=body.get("StopSignal") or None, stop_timeout=body.get("StopTimeout"),
                                healthcheck=Healthcheck.from_json(body.get("Healthcheck")),
                                log_config=LogConfig.from_json(host.get("LogConfig")))
    except InvalidArgument as exc:
        raise ApiError(400, str(exc)) from None


def _service(request: web.Request) -> ContainerService:
    return ContainerService(common.store(request))


async def pause(request: web.Request) -> web.Response:
    name = request.match_info["id"]
    await common.blocking(request, lambda: _service(request).pause(name))
    return web.Response(status=204)


async def unpause(request: web.Request) -> web.Response:
    name = request.match_info["id"]
    await common.blocking(request, lambda: _service(request).unpause(name))
    return web.Response(status=204)


async def rename(request: web.Request) -> web.Response:
    name, new_name = request.match_info["id"], request.query.get("name", "")
    await common.blocking(request, lambda: _service(request).rename(name, new_name))
    return web.Response(status=204)


_UPDATABLE = {"RestartPolicy", *UPDATABLE}


async def update(request: web.Request) -> web.Response:
    body = await common.json_body(request, {}) or {}
    other = sorted(k for k, v in body.items() if k not in _UPDATABLE and v not in (None, 0, "", [], {}, False))
    if other:
        raise ApiError(400, f"updating {', '.join(other)} is not supported by this engine")
    name = request.match_info["id"]
    policy = RestartPolicy.from_json(body.get("RestartPolicy")) if body.get("RestartPolicy") else None
    resources = {k: body[k] for k in UPDATABLE if k in body}
    await common.blocking(request, lambda: _service(request).update(name, policy, resources))
    return common.json_response({"Warnings": None})
