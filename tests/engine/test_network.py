"""reference_impl/cli/ports.py: `-p`/`--expose` parsing, `port` and PORTS formatting (unit),
and, as root, reference_impl/network/ (allocation and forwarding) through the real `strata` CLI.

Expected words and values are what docker 28.2 CLI / dockerd 20.10 printed for the same
input on this project's CI host (see the docstrings of reference_impl/network/).
"""
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reference_impl.cli import ports as cli_ports
from reference_impl.network import allocation
from reference_impl.network.ports import port_map_from_json, port_map_to_json
from reference_impl.errors import InvalidInput

STRATA = str(Path(sys.executable).with_name("strata"))


def bindings(*specs):
    return port_map_to_json(cli_ports.parse_publish(list(specs))[1])


@pytest.mark.parametrize("spec, message", [
    ("80:abc", "invalid containerPort: abc"),
    ("abc", "invalid containerPort: abc"),
    ("70000", "invalid containerPort: 70000"),
    ("-1", "invalid containerPort: -1"),
    ("80-", "invalid containerPort: 80-"),
    ("80-79", "invalid containerPort: 80-79"),
    ("127.0.0.1:99999:80", "invalid hostPort: 99999"),
    ("127.0.0.1::80/xyz", "invalid proto: xyz"),
    ("", "no port specified: <empty>"),
    ("1.2.3:80:80", "invalid IP address: 1.2.3"),
    ("300.1.1.1::80", "invalid IP address: 300.1.1.1"),
    ("a:b:c:d", "invalid IP address: a:b"),
    ("8000-8002:80-81", "invalid ranges specified for container and host Ports: 80-81 and 8000-8002"),
    ("80:8000-8001", "invalid ranges specified for container and host Ports: 8000-8001 and 80"),
    ("target=80,published", "invalid publish opts format (should be name=value but got 'published')"),
])
def test_invalid_publish_specs_are_refused_in_dockers_words(spec, message):
    with pytest.raises(InvalidInput) as info:
        cli_ports.parse_publish([spec])
    assert str(info.value) == message


@pytest.mark.parametrize("spec, expected", [
    ("80", {"80/tcp": [{"HostIp": "", "HostPort": ""}]}),
    ("0", {"0/tcp": [{"HostIp": "", "HostPort": ""}]}),
    (":80", {"80/tcp": [{"HostIp": "", "HostPort": ""}]}),
    ("::80", {"80/tcp": [{"HostIp": "", "HostPort": ""}]}),
    ("[::1]::80", {"80/tcp": [{"HostIp": "::1", "HostPort": ""}]}),
    ("::1::80", {"80/tcp": [{"HostIp": "::1", "HostPort": ""}]}),
    ("80/TCP", {"80/tcp": [{"HostIp": "", "HostPort": ""}]}),
    ("8080:80", {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}),
    ("127.0.0.1:8080:80", {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}),
    ("127.0.0.1:0:80", {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "0"}]}),
    ("0.0.0.0:80:80", {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "80"}]}),
    ("8000-8001:80", {"80/tcp": [{"HostIp": "", "HostPort": "8000-8001"}]}),
    ("80/sctp", {"80/sctp": [{"HostIp": "", "HostPort": ""}]}),
    ("8000-8001:8000-8001/udp", {"8000/udp": [{"HostIp": "", "HostPort": "8000"}],
                                 "8001/udp": [{"HostIp": "", "HostPort": "8001"}]}),
    ("127.0.0.1::8000-8001", {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
                              "8001/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}),
    ("published=8080,target=80,protocol=udp", {"80/udp": [{"HostIp": "", "HostPort": "8080"}]}),
    ("target=80", {"80/tcp": [{"HostIp": "", "HostPort": ""}]}),
])
def test_publish_specs_give_dockers_port_bindings(spec, expected):
    assert bindings(spec) == expected


def test_several_publish_flags_for_one_port_accumulate_and_expose_it_once():
    exposed, found = cli_ports.parse_publish(["127.0.0.1::80", "8080:80", "53/udp"])
    assert exposed == ["80/tcp", "53/udp"]
    assert port_map_to_json(found)["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": ""}, {"HostIp": "", "HostPort": "8080"}]


def test_expose_expands_ranges_and_protocols():
    assert cli_ports.parse_expose(["80", "5000-5002/udp", "80/tcp"]) == [
        "80/tcp", "5000/udp", "5001/udp", "5002/udp"]


@pytest.mark.parametrize("spec, message", [
    ("80:80", "invalid port format for --expose: 80:80"),
    ("abc", 'invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax'),
    ("90-80", "invalid range format for --expose: 90-80, error: Invalid range specified for the Port: 90-80"),
])
def test_invalid_expose_is_refused(spec, message):
    with pytest.raises(InvalidInput) as info:
        cli_ports.parse_expose([spec])
    assert str(info.value) == message


# What dockerd 20.10 reported for `run -p 46678:46678 -p 46679:46679 -p 127.0.0.1:46680:46680
# -p 127.0.0.1:46681:46681/udp -p 127.0.0.1:46682:46682/udp`, and what the 28.2 CLI printed.
DOCKER_PORTS = {
    "46678/tcp": [{"HostIp": "0.0.0.0", "HostPort": "46678"}, {"HostIp": "::", "HostPort": "46678"}],
    "46679/tcp": [{"HostIp": "0.0.0.0", "HostPort": "46679"}, {"HostIp": "::", "HostPort": "46679"}],
    "46680/tcp": [{"HostIp": "127.0.0.1", "HostPort": "46680"}],
    "46681/udp": [{"HostIp": "127.0.0.1", "HostPort": "46681"}],
    "46682/udp": [{"HostIp": "127.0.0.1", "HostPort": "46682"}],
}


def test_ps_ports_column_collapses_ranges_as_docker_does():
    assert cli_ports.displayable_ports(port_map_from_json(DOCKER_PORTS)) == (
        "0.0.0.0:46678-46679->46678-46679/tcp, [::]:46678-46679->46678-46679/tcp, "
        "127.0.0.1:46680->46680/tcp, 127.0.0.1:46681-46682->46681-46682/udp")


def test_ps_ports_column_lists_exposed_ranges_first_then_mappings():
    ports = {"5000/tcp": None, "5001/tcp": None,
             "7000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32827"}, {"HostIp": "::", "HostPort": "32824"}],
             "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32899"}]}
    assert cli_ports.displayable_ports(port_map_from_json(ports)) == (
        "5000-5001/tcp, 127.0.0.1:32899->80/tcp, 0.0.0.0:32827->7000/tcp, [::]:32824->7000/tcp")
    assert cli_ports.displayable_ports({}) == ""


def test_port_lines_are_naturally_sorted_as_docker_prints_them():
    ports = {**DOCKER_PORTS, "9/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}], "10/tcp": None}
    assert cli_ports.port_lines(port_map_from_json(ports), None, "web") == [
        "9/tcp -> 127.0.0.1:32768",
        "46678/tcp -> 0.0.0.0:46678", "46678/tcp -> [::]:46678",
        "46679/tcp -> 0.0.0.0:46679", "46679/tcp -> [::]:46679",
        "46680/tcp -> 127.0.0.1:46680", "46681/udp -> 127.0.0.1:46681", "46682/udp -> 127.0.0.1:46682"]
    assert cli_ports.port_lines(port_map_from_json(ports), "46678", "web") == ["0.0.0.0:46678", "[::]:46678"]
    assert cli_ports.port_lines(port_map_from_json(ports), "46681/udp", "web") == ["127.0.0.1:46681"]


@pytest.mark.parametrize("wanted, message", [
    ("99", "Error: No public port '99' published for web"),
    ("46681", "Error: No public port '46681' published for web"),
    ("10", "Error: No public port '10' published for web"),
    ("80/xyz", "Error: No public port '80/xyz' published for web"),
    ("abc", 'Error: invalid port (abc): strconv.ParseUint: parsing "abc": invalid syntax'),
    ("70000", 'Error: invalid port (70000): strconv.ParseUint: parsing "70000": value out of range'),
])
def test_port_of_a_port_not_published_fails_in_dockers_words(wanted, message):
    ports = {**DOCKER_PORTS, "10/tcp": None}
    with pytest.raises(InvalidInput) as info:
        cli_ports.port_lines(port_map_from_json(ports), wanted, "web")
    assert str(info.value) == message


# --- with the real engine (root) ------------------------------------------------------------

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces, overlayfs)")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """A strata store of this module's own, with a busybox image."""
    from conformance.fixtures import write_busybox_rootfs
    tmp = tmp_path_factory.mktemp("network-engine")
    env = {**os.environ, "STRATA_ROOT": str(tmp / "store")}
    write_busybox_rootfs(tmp / "rootfs.tar")
    with open(tmp / "rootfs.tar", "rb") as f:
        subprocess.run([STRATA, "import", "-", "netbase:latest"], stdin=f, env=env, check=True,
                       capture_output=True)
    yield env
    ids = subprocess.run([STRATA, "ps", "-aq"], env=env, capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run([STRATA, "rm", "-f", *ids], env=env, capture_output=True)


def strata(env, *args, check=True):
    result = subprocess.run([STRATA, *args], env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"strata {' '.join(args)}: rc={result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def host_port(env, name, port="80"):
    return int(strata(env, "port", name, port).stdout.split()[0].rsplit(":", 1)[1])


def http_get(port: int) -> bytes:
    for _ in range(50):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
                if data:
                    return data.split(b"\r\n\r\n", 1)[1]
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"no answer on 127.0.0.1:{port}")


def serve(content: str) -> list[str]:
    return ["sh", "-c", f"mkdir -p /www && echo {content} > /www/index.html && exec httpd -f -p 80 -h /www"]


@needs_root
def test_concurrent_runs_get_distinct_sequential_ports_and_their_own_traffic(engine):
    names = [f"netrace-{i}" for i in range(6)]

    def run(name):
        return strata(engine, "run", "-d", "--name", name, "-p", "127.0.0.1::80", "netbase:latest",
                      *serve(name))

    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        list(pool.map(run, names))
    ports = {name: host_port(engine, name) for name in names}
    assert len(set(ports.values())) == len(names), ports
    low, high = allocation.ephemeral_range()
    assert all(low <= p <= high for p in ports.values()), ports
    for name, port in ports.items():
        assert http_get(port) == f"{name}\n".encode()
    strata(engine, "rm", "-f", *names)


@needs_root
def test_port_held_by_another_listener_fails_like_docker_proxy_and_leaves_created(engine):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        result = strata(engine, "run", "-d", "--name", "netheld", "-p", f"127.0.0.1:{taken}:80",
                        "netbase:latest", "httpd", "-f", "-p", "80", check=False)
    assert result.returncode == 125
    assert (f"Error starting userland proxy: listen tcp4 127.0.0.1:{taken}: bind: address already in use"
            in result.stderr), result.stderr
    assert strata(engine, "inspect", "-f", "{{.State.Status}}", "netheld").stdout.strip() == "created"
    strata(engine, "rm", "-f", "netheld")


@needs_root
def test_udp_is_forwarded_into_the_containers_namespace(engine):
    strata(engine, "run", "-d", "--name", "netudp", "-p", "127.0.0.1::5353/udp", "netbase:latest",
           "sleep", "60")
    port = host_port(engine, "netudp", "5353/udp")
    pid = strata(engine, "inspect", "-f", "{{.State.Pid}}", "netudp").stdout.strip()
    # a UDP echo inside the container's network namespace only (busybox has no UDP server)
    echo = subprocess.Popen(["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-c",
                             "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                             "s.bind(('127.0.0.1', 5353)); print('ready', flush=True); s.settimeout(10)\n"
                             "for _ in range(3):\n d, a = s.recvfrom(100); s.sendto(b'echo ' + d, a)\n"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert echo.stdout.readline().strip() == "ready"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            for i in range(3):
                s.sendto(f"ping{i}".encode(), ("127.0.0.1", port))
                assert s.recvfrom(100)[0] == f"echo ping{i}".encode()
    finally:
        echo.kill()
        echo.wait()
        strata(engine, "rm", "-f", "netudp")


@needs_root
def test_container_gets_an_address_on_the_bridge_released_on_stop(engine):
    strata(engine, "run", "-d", "--name", "netaddr", "netbase:latest", "sleep", "60")
    try:
        address = strata(engine, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", "netaddr").stdout.strip()
        assert address.startswith("172.29.")
        inside = strata(engine, "exec", "netaddr", "ip", "-4", "addr", "show", "eth0").stdout
        assert f"inet {address}/16" in inside
        strata(engine, "stop", "-t", "0", "netaddr")
        assert strata(engine, "inspect", "-f", "{{.NetworkSettings.IPAddress}}",
                      "netaddr").stdout.strip() == ""
        # the shim gives the address back just after it records the exit, and the table is
        # host-wide: another engine's container may take the same address at once
        container_id = strata(engine, "inspect", "-f", "{{.Id}}", "netaddr").stdout.strip()
        assert held_addresses(container_id, within=5.0) == set()
    finally:
        strata(engine, "rm", "-f", "netaddr")


def held_addresses(container_id: str, within: float) -> set[str]:
    """The bridge addresses the IPAM table gives `container_id`, once that is none or `within`
    seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        ipam = allocation.IPAM_DIR / "ipam.json"
        table = json.loads(ipam.read_text() or "{}") if ipam.exists() else {}
        held = {ip for ip, entry in table.items() if entry.get("id") == container_id}
        if not held or time.monotonic() > deadline:
            return held
        time.sleep(0.05)


@needs_root
def test_fixed_host_port_is_free_again_after_stop_and_comes_back_on_restart(engine):
    strata(engine, "run", "-d", "--name", "netfirst", "-p", "127.0.0.1::80", "netbase:latest",
           *serve("netfirst"))
    port = host_port(engine, "netfirst")
    strata(engine, "stop", "-t", "0", "netfirst")
    try:
        strata(engine, "run", "-d", "--name", "netsecond", "-p", f"127.0.0.1:{port}:80", "netbase:latest",
               *serve("netsecond"))
        assert http_get(port) == b"netsecond\n"
        taken = strata(engine, "start", "netfirst", check=False)  # 127.0.0.1::80 takes another port
        assert taken.returncode == 0, taken.stderr
        assert host_port(engine, "netfirst") != port
        strata(engine, "restart", "-t", "0", "netsecond")
        assert host_port(engine, "netsecond") == port
        assert http_get(port) == b"netsecond\n"
        clash = strata(engine, "run", "-d", "--name", "netthird", "-p", f"{port}:80", "netbase:latest",
                       "httpd", "-f", "-p", "80", check=False)
        assert clash.returncode == 125
        # dockerd's allocator keeps addresses apart: 0.0.0.0:P against 127.0.0.1:P fails in the bind
        assert (f"Error starting userland proxy: listen tcp4 0.0.0.0:{port}: bind: address already in use"
                in clash.stderr), clash.stderr
        clash = strata(engine, "run", "-d", "--name", "netfourth", "-p", f"127.0.0.1:{port}:80",
                       "netbase:latest", "httpd", "-f", "-p", "80", check=False)
        assert clash.returncode == 125
        assert f"Bind for 127.0.0.1:{port} failed: port is already allocated" in clash.stderr, clash.stderr
    finally:
        strata(engine, "rm", "-f", "netfirst", "netsecond", "netthird", "netfourth", check=False)
