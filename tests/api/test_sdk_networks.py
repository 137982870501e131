"""The docker SDK's network calls against strata's Engine API socket: create with IPAM, list
with filters, get, connect/disconnect a running container, containers.run with a network and
aliases, remove (refused while in use), prune — and the `strata` CLI sees the same networks."""
import random

import docker
import pytest


@pytest.fixture(scope="module")
def client(service):
    c = docker.DockerClient(base_url=service.url, version="auto", timeout=120)
    yield c
    c.close()


def _subnet() -> str:
    return f"10.{random.randint(64, 127)}.{random.randint(0, 255)}.0/24"


def _create(client, name: str, **kwargs):
    for _ in range(20):
        subnet = _subnet()
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
        try:
            return client.networks.create(name, driver="bridge", ipam=ipam, **kwargs), subnet
        except docker.errors.APIError as exc:
            if "overlaps" not in str(exc):
                raise
    raise AssertionError("no free subnet")


@pytest.fixture(autouse=True)
def no_network_left(client, service):
    """A network's bridge is host-wide: a failing test must not leave one behind its store."""
    yield
    ids = service.strata("ps", "-aq").stdout.split()
    if ids:
        service.strata("rm", "-f", *ids)
    service.strata("network", "prune", "-f")


def test_network_lifecycle_through_the_sdk(client, service):
    net, subnet = _create(client, "sdk-net", labels={"sdk": "yes"}, internal=True)
    other, _ = _create(client, "sdk-other")
    server = client.containers.run("bb", "sh -c 'echo sdk > /www/index.html; exec httpd -f -p 80 -h /www'",
                                   detach=True, name="sdk-srv", network="sdk-net")
    try:
        net.reload()
        assert net.attrs["IPAM"]["Config"] == [{"Subnet": subnet}] and net.attrs["Internal"] is True
        assert [n.name for n in client.networks.list(filters={"label": "sdk=yes"})] == ["sdk-net"]
        assert {"bridge", "host", "none", "sdk-net", "sdk-other"} <= {n.name for n in client.networks.list()}
        assert server.id in {c.id for c in net.containers}

        # by name, once its httpd listens (it may still be starting: `run` returns at the exec);
        # wget reads the whole answer (nc may leave at its input's end, before the reply)
        reply = client.containers.run("bb", ["sh", "-c", "nslookup sdk-srv >/dev/null && for i in $(seq 100); do "
                                             "wget -q -O - http://sdk-srv/ && exit 0; sleep 0.1; done; exit 1"],
                                      network="sdk-net", remove=True)
        assert reply.endswith(b"sdk\n")

        other.connect(server, aliases=["web"])
        server.reload()
        assert sorted(server.attrs["NetworkSettings"]["Networks"]) == ["sdk-net", "sdk-other"]
        assert "web" in server.attrs["NetworkSettings"]["Networks"]["sdk-other"]["Aliases"]
        assert client.containers.run("bb", ["nslookup", "web"], network="sdk-other", remove=True)
        other.disconnect(server)
        server.reload()
        assert sorted(server.attrs["NetworkSettings"]["Networks"]) == ["sdk-net"]

        with pytest.raises(docker.errors.APIError) as in_use:
            net.remove()
        assert "has active endpoints" in in_use.value.explanation
        # the other face sees the same network
        assert "sdk-net" in service.strata("network", "ls", "--format", "{{.Name}}").stdout.split()
    finally:
        server.remove(force=True)
    assert client.networks.prune(filters={"label": "sdk=yes"})["NetworksDeleted"] == ["sdk-net"]
    other.remove()
    with pytest.raises(docker.errors.NotFound):
        client.networks.get("sdk-other")


def test_create_refuses_what_strata_does_not_implement(client):
    with pytest.raises(docker.errors.APIError) as refused:
        client.networks.create("sdk-v6", enable_ipv6=True)
    assert refused.value.status_code == 400
    with pytest.raises(docker.errors.APIError) as mac:
        client.containers.create("bb", "true", mac_address="02:42:ac:11:00:99")
    assert mac.value.status_code == 400


def test_links_through_the_api(client):
    """HostConfig.Links (refused before): recorded as /name:/container/alias, the variables
    and the hosts line at start; a missing container is a bad parameter (400)."""
    server = client.containers.run("bb", ["sleep", "300"], detach=True, name="sdk-link-srv",
                                   ports={"80/tcp": None})
    try:
        address = client.api.inspect_container(server.id)["NetworkSettings"]["IPAddress"]
        out = client.containers.run("bb", ["sh", "-c", "env; cat /etc/hosts"], links={"sdk-link-srv": "web"},
                                    name="sdk-link-client", remove=True).decode().splitlines()
        assert f"WEB_PORT_80_TCP_ADDR={address}" in out and "WEB_NAME=/sdk-link-client/web" in out
        assert f"{address}\tweb {server.id[:12]} sdk-link-srv" in out
        with pytest.raises(docker.errors.APIError) as missing:
            client.containers.create("bb", "true", links={"no-such-server": "x"})
        assert missing.value.status_code == 400
        assert "could not get container for no-such-server" in str(missing.value)
    finally:
        server.remove(force=True)
