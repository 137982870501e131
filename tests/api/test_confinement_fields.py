"""Engine API create: the confinement fields of HostConfig are applied and shown as
dockerd shows them, or refused with dockerd's status and words — never ignored."""
import json

from test_bad_input import _request

JSON = {"Content-Type": "application/json"}


def _create(service, host_config: dict):
    body = json.dumps({"Image": "bb:latest", "Cmd": ["true"], "HostConfig": host_config}).encode()
    status, raw = _request(service, "POST", "/v1.41/containers/create", body, JSON)
    return status, json.loads(raw)


def test_confinement_fields_are_kept_and_shown(service):
    status, created = _create(service, {"Memory": 64 << 20, "CapDrop": ["ALL"], "CapAdd": ["CAP_CHOWN"],
                                        "ReadonlyRootfs": True, "PidsLimit": 0, "NanoCpus": 500_000_000,
                                        "SecurityOpt": ["no-new-privileges"]})
    assert status == 201 and created["Warnings"] == [], created
    status, raw = _request(service, "GET", f"/v1.41/containers/{created['Id']}/json")
    host = json.loads(raw)["HostConfig"]
    assert (host["Memory"], host["MemorySwap"], host["CapDrop"], host["CapAdd"]) == \
        (64 << 20, 128 << 20, ["ALL"], ["CAP_CHOWN"])
    assert (host["ReadonlyRootfs"], host["PidsLimit"], host["NanoCpus"], host["SecurityOpt"]) == \
        (True, None, 500_000_000, ["no-new-privileges"])
    _request(service, "DELETE", f"/v1.41/containers/{created['Id']}")


def test_invalid_and_unimplemented_fields_are_refused(service):
    for host, message in (
            ({"Memory": 1 << 20}, "Minimum memory limit allowed is 6MB"),
            ({"CapAdd": ["CAP_BOGUS"]}, 'invalid CapAdd: unknown capability: "CAP_BOGUS"'),
            ({"SecurityOpt": ["seccomp=not json"]}, None),
            ({"CpuQuota": 5000}, "invalid HostConfig: CpuQuota is not supported by this engine"),
            ({"OomKillDisable": True}, "invalid HostConfig: OomKillDisable is not supported by this engine")):
        status, body = _create(service, host)
        assert status == 400, (host, body)
        if message is not None:
            assert body["message"] == message


def test_fields_no_part_of_the_engine_carries_out_are_refused_unless_zero(service):
    """IPC/PID/UTS modes, shm size, volume driver, runtime, storage options, cgroup, masked
    and read-only paths: accepted with the values the docker CLI sends by default (or ones
    that mean what strata does), refused otherwise; log drivers other than json-file and
    none, and json-file options other than max-size and max-file, likewise."""
    zero = {"IpcMode": "", "PidMode": "", "UTSMode": "", "Cgroup": "", "ShmSize": 0, "VolumeDriver": "",
            "Runtime": "", "StorageOpt": None, "MaskedPaths": None, "ReadonlyPaths": None,
            "LogConfig": {"Type": "", "Config": {}}, "ConsoleSize": [0, 0]}
    status, created = _create(service, zero)
    assert status == 201, created
    _request(service, "DELETE", f"/v1.41/containers/{created['Id']}")
    status, created = _create(service, {"IpcMode": "private", "Runtime": "runc", "VolumeDriver": "local",
                                        "LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}}})
    assert status == 201, created
    _request(service, "DELETE", f"/v1.41/containers/{created['Id']}")
    for host, message in (
            ({"IpcMode": "host"}, "invalid HostConfig: IpcMode is not supported by this engine"),
            ({"PidMode": "host"}, "invalid HostConfig: PidMode is not supported by this engine"),
            ({"UTSMode": "host"}, "invalid HostConfig: UTSMode is not supported by this engine"),
            ({"ShmSize": 1 << 20}, "invalid HostConfig: ShmSize is not supported by this engine"),
            ({"Runtime": "kata"}, "invalid HostConfig: Runtime is not supported by this engine"),
            ({"MaskedPaths": []}, "invalid HostConfig: MaskedPaths is not supported by this engine"),
            ({"MaskedPaths": ["/proc/kcore", "/etc/secret"]},
             "invalid HostConfig: MaskedPaths is not supported by this engine"),
            ({"LogConfig": {"Type": "bogus"}}, 'error looking up logging plugin bogus: plugin "bogus" not found'),
            ({"LogConfig": {"Type": "syslog"}},
             "strata implements the json-file and none log drivers only, not syslog"),
            ({"LogConfig": {"Type": "json-file", "Config": {"compress": "true"}}},
             "strata does not implement the json-file log opt 'compress'")):
        status, body = _create(service, host)
        assert (status, body.get("message")) == (400, message), host
