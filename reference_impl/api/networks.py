"""/networks/… of the Engine API, and a create request's network fields (HostConfig.NetworkMode,
NetworkingConfig, Hostname, Domainname, ExtraHosts, Dns*) as the engine's NetworkingOptions.
A field strata does not implement (links, a MAC address, a disabled network, a second
network at create) is refused with 400, never ignored."""
from __future__ import annotations

from aiohttp import web

from reference_impl.api import common
from reference_impl.api.common import ApiError
from reference_impl.engine.networks import NetworkService
from reference_impl.engine.records.containers import NetworkingOptions
from reference_impl.engine.records.networks import ConnectOptions, NetworkCreateOptions, NetworkListOptions


def routes():
    return [
        ("GET", "/networks", list_networks),
        ("POST", "/networks/create", create),
        ("POST", "/networks/prune", prune),
        ("GET", "/networks/{id}", inspect),
        ("DELETE", "/networks/{id}", remove),
        ("POST", "/networks/{id}/connect", connect),
        ("POST", "/networks/{id}/disconnect", disconnect),
    ]


def _service(request: web.Request) -> NetworkService:
    return NetworkService(common.store(request))


# --- a container's network fields ---------------------------------------------------------------

def _strings(value, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f"invalid {what}: expected a list of strings")
    return value


def networking_options(body: dict) -> NetworkingOptions:
    host = body.get("HostConfig") or {}
    if body.get("MacAddress"):
        raise ApiError(400, "strata does not implement a fixed MAC address (MacAddress)")
    if body.get("NetworkDisabled"):
        raise ApiError(400, "strata does not implement NetworkDisabled")
    mode = host.get("NetworkMode") or "default"
    wanted = ((body.get("NetworkingConfig") or {}).get("EndpointsConfig")) or {}
    if len(wanted) > 1:
        raise ApiError(400, "Container cannot be connected to network endpoints: " + ", ".join(wanted))
    endpoint = wanted.get(mode) or (next(iter(wanted.values())) if wanted else {}) or {}
    if wanted and next(iter(wanted)) != mode:
        raise ApiError(400, f"strata connects a new container to its NetworkMode only ({mode}), "
                            f"not to {next(iter(wanted))}")
    if endpoint.get("Links") or endpoint.get("MacAddress") or (endpoint.get("IPAMConfig") or {}).get("IPv6Address"):
        raise ApiError(400, "strata does not implement endpoint links, MAC addresses or IPv6 addresses")
    ip = (endpoint.get("IPAMConfig") or {}).get("IPv4Address") or ""
    return NetworkingOptions(mode=mode, aliases=_strings(endpoint.get("Aliases"), "Aliases"), ip=ip,
                             hostname=body.get("Hostname") or "", domainname=body.get("Domainname") or "",
                             extra_hosts=_strings(host.get("ExtraHosts"), "ExtraHosts"),
                             dns=_strings(host.get("Dns"), "Dns"),
                             dns_search=_strings(host.get("DnsSearch"), "DnsSearch"),
                             dns_options=_strings(host.get("DnsOptions"), "DnsOptions"),
                             links=_strings(host.get("Links"), "Links"))


# --- /networks ---------------------------------------------------------------------------------

async def list_networks(request: web.Request) -> web.Response:
    options = NetworkListOptions(filters=common.filters(request))
    found = await common.blocking(request, lambda: _service(request).list(options))
    return common.json_response([n.document for n in found])


async def inspect(request: web.Request) -> web.Response:
    name = request.match_info["id"]
    return common.json_response(await common.blocking(request, lambda: _service(request).inspect(name)))


def _create_options(body: dict) -> NetworkCreateOptions:
    if not isinstance(body.get("Name"), str) or not body["Name"]:
        raise ApiError(400, "network name must not be empty")
    if body.get("EnableIPv6") or body.get("Attachable") or body.get("Ingress") or body.get("ConfigOnly") \
            or (body.get("ConfigFrom") or {}).get("Network") or body.get("Scope") not in (None, "", "local"):
        raise ApiError(400, "strata does not implement IPv6, attachable, ingress, config-only or "
                            "non-local networks")
    ipam = body.get("IPAM") or {}
    if (ipam.get("Driver") or "default") != "default" or ipam.get("Options"):
        raise ApiError(400, "strata implements the default IPAM driver without options only")
    configs = ipam.get("Config") or []
    if len(configs) > 1:
        raise ApiError(400, "strata takes one IPAM config (one IPv4 subnet) per network")
    config = configs[0] if configs else {}
    if config.get("AuxiliaryAddresses"):
        raise ApiError(400, "strata does not implement auxiliary addresses")
    return NetworkCreateOptions(name=body["Name"], driver=body.get("Driver") or "bridge",
                                subnet=config.get("Subnet") or "", gateway=config.get("Gateway") or "",
                                ip_range=config.get("IPRange") or "", internal=bool(body.get("Internal")),
                                labels=body.get("Labels") or {}, options=body.get("Options") or {})


async def create(request: web.Request) -> web.Response:
    body = await common.json_body(request, {})
    options = _create_options(body)
    net = await common.blocking(request, lambda: _service(request).create(options))
    return common.json_response({"Id": net.id, "Warning": ""}, status=201)


async def remove(request: web.Request) -> web.Response:
    name = request.match_info["id"]
    await common.blocking(request, lambda: _service(request).remove(name))
    return web.Response(status=204)


async def prune(request: web.Request) -> web.Response:
    filters = common.filters(request)
    report = await common.blocking(request, lambda: _service(request).prune(filters))
    return common.json_response({"NetworksDeleted": report.deleted or None})


async def connect(request: web.Request) -> web.Response:
    body = await common.json_body(request, {})
    endpoint = body.get("EndpointConfig") or {}
    if endpoint.get("Links") or endpoint.get("MacAddress") or (endpoint.get("IPAMConfig") or {}).get("IPv6Address"):
        raise ApiError(400, "strata does not implement endpoint links, MAC addresses or IPv6 addresses")
    options = ConnectOptions(network=request.match_info["id"], container=str(body.get("Container") or ""),
                             aliases=_strings(endpoint.get("Aliases"), "Aliases"),
                             ip=(endpoint.get("IPAMConfig") or {}).get("IPv4Address") or "")
    await common.blocking(request, lambda: _service(request).connect(options))
    return web.Response(status=200)


async def disconnect(request: web.Request) -> web.Response:
    body = await common.json_body(request, {})
    network, container = request.match_info["id"], str(body.get("Container") or "")
    await common.blocking(request, lambda: _service(request).disconnect(network, container,
                                                                        bool(body.get("Force"))))
    return web.Response(status=200)
