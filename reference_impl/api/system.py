"""/_ping, /version, /info; networks, volumes and plugins answer 404 (strata has none:
only `docker inspect NAME` probes them, and a 404 there is what it expects)."""
from __future__ import annotations

import os
import platform

from aiohttp import web

from reference_impl import images
from reference_impl.api import common
from reference_impl.api.common import API_VERSION, MIN_API_VERSION

VERSION = "0.1.0"


def routes():
    return [
        ("GET", "/_ping", ping),
        ("GET", "/version", version),
        ("GET", "/info", info),
        ("GET", "/networks/{name}", no_network),
        ("GET", "/volumes/{name}", no_volume),
        ("GET", "/plugins/{name}/json", no_plugin),
    ]


async def ping(request: web.Request) -> web.Response:
    headers = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"}
    return web.Response(text="OK", headers=headers, content_type="text/plain", charset="utf-8")


def _kernel() -> str:
    return platform.release()


async def version(request: web.Request) -> web.Response:
    details = {"ApiVersion": API_VERSION, "Arch": images.ARCH, "BuildTime": "", "Experimental": "false",
               "GitCommit": "", "GoVersion": "", "KernelVersion": _kernel(), "MinAPIVersion": MIN_API_VERSION,
               "Os": "linux"}
    return common.json_response({
        "Platform": {"Name": "strata"},
        "Components": [{"Name": "Engine", "Version": VERSION, "Details": details}],
        "Version": VERSION, "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "", "GoVersion": "", "Os": "linux", "Arch": images.ARCH,
        "KernelVersion": _kernel(), "BuildTime": ""})


def _info(root) -> dict:
    from reference_impl.store import Store
    store = Store(root)
    containers = store.containers.all()
    running = sum(1 for c in containers if c.running)
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        mem = 0
    return {
        "ID": "", "Containers": len(containers), "ContainersRunning": running, "ContainersPaused": 0,
        "ContainersStopped": len(containers) - running, "Images": len(store.images.ids()),
        "Driver": "overlay2", "DriverStatus": [["Backing Filesystem", "overlayfs"]],
        "Plugins": {"Volume": None, "Network": None, "Authorization": None, "Log": ["json-file"]},
        "MemoryLimit": False, "SwapLimit": False, "KernelMemory": False, "KernelMemoryTCP": False,
        "CpuCfsPeriod": False, "CpuCfsQuota": False, "CPUShares": False, "CPUSet": False,
        "PidsLimit": False, "IPv4Forwarding": True, "BridgeNfIptables": False, "BridgeNfIp6tables": False,
        "Debug": False, "NFd": 0, "OomKillDisable": False, "NGoroutines": 0, "SystemTime": "",
        "LoggingDriver": "json-file", "CgroupDriver": "none", "CgroupVersion": "2", "NEventsListener": 0,
        "KernelVersion": _kernel(), "OperatingSystem": "strata", "OSVersion": "", "OSType": "linux",
        "Architecture": platform.machine(), "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {"AllowNondistributableArtifactsCIDRs": [],
                           "AllowNondistributableArtifactsHostnames": [],
                           "InsecureRegistryCIDRs": ["127.0.0.0/8"], "IndexConfigs": {}, "Mirrors": []},
        "NCPU": os.cpu_count() or 1, "MemTotal": mem, "GenericResources": None,
        "DockerRootDir": str(store.root), "HttpProxy": "", "HttpsProxy": "", "NoProxy": "",
        "Name": platform.node(), "Labels": [], "ExperimentalBuild": False, "ServerVersion": VERSION,
        "Runtimes": {"strata": {"path": "strata-shim"}}, "DefaultRuntime": "strata",
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": False,
                  "Error": "", "RemoteManagers": None},
        "LiveRestoreEnabled": False, "Isolation": "", "InitBinary": "", "ContainerdCommit": {"ID": ""},
        "RuncCommit": {"ID": ""}, "InitCommit": {"ID": ""}, "SecurityOptions": [], "Warnings": None,
    }


async def info(request: web.Request) -> web.Response:
    return common.json_response(await common.blocking(request, _info, request.app[common.STATE]["root"]))


async def no_network(request: web.Request) -> web.Response:
    return common.error_response(404, f"network {request.match_info['name']} not found")


async def no_volume(request: web.Request) -> web.Response:
    return common.error_response(404, f"get {request.match_info['name']}: no such volume")


async def no_plugin(request: web.Request) -> web.Response:
    return common.error_response(404, f'plugin "{request.match_info["name"]}" not found')
