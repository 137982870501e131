"""User-defined networks (issue 19) through the real `strata` CLI: after a container on a
network is killed with -9 — its process, or its shim — `network rm` works and no veth, no
address and no DNS answer is left; bad input in Docker's words; the network store's files."""
import ipaddress
import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from reference_impl.network import etcfiles, ipam
from reference_impl.network.networks import BRIDGE_PREFIX, NetworkStore


@pytest.fixture(autouse=True)
def no_network_left(strata):
    """A network's bridge is host-wide: a failing test must not leave one behind its store."""
    yield
    strata.remove_all_containers()
    strata("network", "prune", "-f")


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def _network(strata, name: str) -> tuple[str, str]:
    for _ in range(20):
        subnet = f"10.{random.randint(64, 127)}.{random.randint(0, 255)}.0/24"
        made = strata("network", "create", "--subnet", subnet, name)
        if made.returncode == 0:
            return made.stdout.strip(), subnet
        assert "overlaps" in made.stderr, made.stderr
    raise AssertionError("no free subnet")


def _veths(container_id: str) -> list[str]:
    return [n for n in os.listdir("/sys/class/net") if n.startswith(f"ve{container_id[:7]}")]


def _state(strata, container_id: str) -> dict:
    return json.loads((strata.root / "containers" / container_id / "state.json").read_text())


def _gone(pid: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return
        except OSError:
            return
        time.sleep(0.05)


@pytest.mark.parametrize("victim", ["Pid", "ShimPid"])
def test_after_a_kill_9_nothing_of_the_endpoint_is_left(strata, victim):
    net_id, _ = _network(strata, f"kill-{victim.lower()}")
    cid = _ok(strata("run", "-d", "--name", "victim", "--network", f"kill-{victim.lower()}", "base",
                     "sleep", "300")).strip()
    state = _state(strata, cid)
    endpoint = state["Network"]["Endpoints"][f"kill-{victim.lower()}"]
    assert _veths(cid) and endpoint["IPAddress"]
    looked_up = _ok(strata("run", "--rm", "--network", f"kill-{victim.lower()}", "base", "nslookup", "victim"))
    assert f"Address: {endpoint['IPAddress']}" in looked_up

    os.kill(state[victim], signal.SIGKILL)
    _gone(state[victim])
    _ok(strata("ps", "-a"))  # the engine notices a dead shim at its next look (and kills the process)
    deadline = time.monotonic() + 10
    while _veths(cid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _veths(cid) == []
    net = NetworkStore(strata.root).resolve(net_id)
    # the address is free again: the next allocation may take it
    assert str(ipam.allocate(net, "probe", os.getpid(), endpoint["IPAddress"])) == endpoint["IPAddress"]
    ipam.release(net_id, endpoint["IPAddress"])
    _ok(strata("network", "rm", f"kill-{victim.lower()}"))
    assert not Path(f"/sys/class/net/{BRIDGE_PREFIX}{net_id[:11]}").exists()
    assert not list((strata.root / "networks").glob(f"{net_id}*"))
    checked = strata("system", "check")
    assert checked.returncode == 0 and "consistent" in checked.stdout, checked.stdout + checked.stderr


def test_a_stopped_container_no_longer_resolves(strata):
    _network(strata, "dns-net")
    _ok(strata("run", "-d", "--name", "short", "--network", "dns-net", "base", "sleep", "300"))
    _ok(strata("kill", "short"))
    after = strata("run", "--rm", "--network", "dns-net", "base", "nslookup", "short")
    assert after.returncode != 0 and "NXDOMAIN" in after.stdout
    _ok(strata("rm", "short"))
    _ok(strata("network", "rm", "dns-net"))


@pytest.mark.parametrize("args, words", [
    (["network", "create", "--subnet", "10.300.0.0/24", "bad"],
     "Error response from daemon: Invalid subnet 10.300.0.0/24 : invalid CIDR address: 10.300.0.0/24"),
    (["network", "create", "--gateway", "10.70.0.1", "bad"],
     "every ip-range or gateway must have a corresponding subnet"),
    (["network", "connect", "no-such-net", "no-such-container"],
     "Error response from daemon: network no-such-net not found"),
    (["network", "rm", "bridge"],
     "Error response from daemon: bridge is a pre-defined network and cannot be removed"),
    (["run", "--rm", "--network", "none", "--network-alias", "x", "base", "true"],
     "network-scoped aliases are only supported for user-defined networks"),
    (["run", "--rm", "--add-host", "nocolon", "base", "true"], 'invalid IP address in add-host: ""'),
])
def test_bad_input_in_dockers_words(strata, args, words):
    result = strata(*args)
    assert result.returncode != 0 and words in result.stderr, result.stderr


def test_name_clash_is_refused(strata):
    _network(strata, "twice")
    clash = strata("network", "create", "twice")
    assert clash.returncode == 1
    assert "Error response from daemon: network with name twice already exists" in clash.stderr
    _ok(strata("network", "rm", "twice"))


def test_resolv_conf_keeps_the_hosts_search_and_options_unless_overridden(monkeypatch, tmp_path):
    host = tmp_path / "resolv.conf"
    host.write_text("nameserver 10.0.0.53\nsearch corp.test\noptions timeout:2\n")
    monkeypatch.setattr(etcfiles, "_host_resolv", host.read_text)
    assert etcfiles.resolv_text({}, embedded=False) == host.read_text()
    assert etcfiles.resolv_text({}, embedded=True) == \
        "search corp.test\nnameserver 127.0.0.11\noptions timeout:2 ndots:0\n"
    assert etcfiles.resolv_text({"Dns": ["10.1.1.1"], "DnsOptions": ["ndots:3"]}, embedded=False) == \
        "search corp.test\nnameserver 10.1.1.1\noptions ndots:3\n"
    assert etcfiles.hosts_text(["a.test:10.1.2.3"], "", "h", "") == etcfiles.HOSTS_HEAD + "10.1.2.3\ta.test\n"
    assert ipaddress.ip_address("10.1.2.3")
