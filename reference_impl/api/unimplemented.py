"""Create-body fields of HostConfig, and build parameters, that no part of this engine carries out (another IPC,
PID or UTS namespace than its own, a shm size, a volume driver, a runtime, storage options, a cgroup, masked and read-only paths of the caller's
choosing). The docker CLI sends each of them with its zero value; a value other than one
that means what the engine does anyway is refused with 400 — never accepted and ignored.
"""
from __future__ import annotations

from reference_impl.api.common import ApiError
from reference_impl.confinement.settings import MASKED_PATHS, READONLY_PATHS

# field -> the values that ask for nothing beyond what strata does
ACCEPTED = {
    "IpcMode": (None, "", "private", "shareable"),    # strata: a private IPC namespace
    "PidMode": (None, ""),
    "UTSMode": (None, ""),
    "Cgroup": (None, ""),
    "ShmSize": (None, 0),                             # /dev/shm is 64 MiB, dockerd's default
    "VolumeDriver": (None, "", "local"),
    "Runtime": (None, "", "runc"),
    "StorageOpt": (None, {}),
    "MaskedPaths": (None, MASKED_PATHS),
    "ReadonlyPaths": (None, READONLY_PATHS),
}


def refuse_unimplemented(host: dict) -> None:
    """400 for the first field of `host` (a create body's HostConfig) strata would ignore."""
    for name, accepted in ACCEPTED.items():
        if host.get(name) not in accepted:
            raise _refusal(name)


def _refusal(name: str) -> ApiError:
    return ApiError(400, f"invalid HostConfig: {name} is not supported by this engine")


# build query parameter -> the values that ask for nothing the classic builder here does not
# do (the docker CLI sends one only when its flag is set)
BUILD_ACCEPTED = {
    "extrahosts": ("",), "cachefrom": ("", "[]", "null"), "memory": ("", "0"), "memswap": ("", "0"),
    "cpushares": ("", "0"), "cpusetcpus": ("",), "cpuperiod": ("", "0"), "cpuquota": ("", "0"),
    "shmsize": ("", "0"), "squash": ("", "0", "false"), "networkmode": ("", "default", "bridge"),
    "platform": ("", "linux", "linux/amd64"), "outputs": ("",), "isolation": ("", "default"),
    "cgroupparent": ("",), "ulimits": ("", "[]", "null"), "securityopt": ("", "[]", "null"),
}


def refuse_unapplied_build(query) -> None:
    """400 for the first build parameter in `query` whose value strata's builder would ignore."""
    for name, accepted in BUILD_ACCEPTED.items():
        for value in query.getall(name, []):
            if value not in accepted:
                raise ApiError(400, f"invalid build parameter: {name}={value} is not supported by this engine")
