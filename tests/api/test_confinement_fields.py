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
