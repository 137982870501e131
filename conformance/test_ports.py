"""Publishing container ports (seed §6, "Ports"): -p forms, -P and EXPOSE, `port`,
the PORTS column, NetworkSettings, a taken host port, traffic through the ports.

The seed's nginx is busybox httpd serving /www. Traffic goes only to 127.0.0.1.
Where Docker binds the unspecified address (`-p 80`, `-p H:80`, `-P`), dockerd 20.10
with a 28.x CLI reports both an IPv4 (0.0.0.0) and an IPv6 ([::]) binding; the
checks require the IPv4 one and allow the IPv6 one beside it (older CLIs print only
the first), and send their traffic to 127.0.0.1 through the IPv4 one.
"""
import ipaddress
import json
import re
import time

import pytest
import requests

from conformance.fixtures import http_get
from conformance.messages import expect_message

PAGE = "Hi, I am in your container"
WEB_DOCKERFILE = (
    "FROM {base}\n"
    f"RUN mkdir -p /www && echo '{PAGE}' > /www/index.html\n"
    "EXPOSE 80\n"
)
HTTPD = ["httpd", "-f", "-p", "80", "-h", "/www"]
MAPPING = re.compile(r"^(?P<port>\d+/(?:tcp|udp|sctp)) -> (?P<ip>.+):(?P<host_port>\d+)$")
UNSPECIFIED = {"0.0.0.0", "[::]"}


def web_image(cli, base, names, context, extra: str = "") -> str:
    """The seed's static web image: FROM base, /www/index.html, EXPOSE 80."""
    ref = f"{names('web')}:v1"
    cli.build_ok(context({"Dockerfile": WEB_DOCKERFILE.format(base=base.ref) + extra}), tag=ref)
    return ref


def run_web(cli, image: str, name: str, *options: str, command=HTTPD) -> str:
    """`run -d --name NAME OPTIONS IMAGE httpd ...`; returns the container id."""
    return cli.ok("run", "-d", "--name", name, *options, image, *command).stdout.strip()


def mappings(cli, name: str, *port: str) -> list[tuple[str, str, int]]:
    """`port NAME` as (container port, host ip, host port) triples."""
    found = []
    for line in cli.ok("port", name, *port).lines:
        m = MAPPING.match(line)
        assert m, f"not a port mapping line: {line!r}"
        found.append((m["port"], m["ip"], int(m["host_port"])))
    return found


def ipv4_port(cli, name: str, container_port: str = "80/tcp") -> int:
    """The host port of the IPv4 binding of a published container port."""
    ports = [hp for cp, ip, hp in mappings(cli, name) if cp == container_port and ":" not in ip.strip("[]")]
    assert len(ports) == 1, f"expected one IPv4 binding of {container_port}, got {ports}"
    return ports[0]


def serve_content(content: str) -> list[str]:
    """A command that serves `content` as / (to tell containers of one image apart)."""
    return ["sh", "-c", f"echo {content} > /www/index.html && exec httpd -f -p 80 -h /www"]


def test_publish_without_host_port_maps_a_random_port_on_all_addresses(cli, base, names, context):
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name, "-p", "80")
    found = mappings(cli, name)
    assert {cp for cp, _, _ in found} == {"80/tcp"}
    assert "0.0.0.0" in {ip for _, ip, _ in found} and {ip for _, ip, _ in found} <= UNSPECIFIED, found
    assert all(1024 <= hp <= 65535 for _, _, hp in found), found
    assert http_get("127.0.0.1", ipv4_port(cli, name), via=cli).text == PAGE + "\n"


def test_publish_fixed_host_port_on_all_addresses(cli, base, names, context, host_port_allocator):
    name, host_port = names("web"), host_port_allocator()
    run_web(cli, web_image(cli, base, names, context), name, "-p", f"{host_port}:80")
    found = mappings(cli, name)
    assert {(cp, hp) for cp, _, hp in found} == {("80/tcp", host_port)}
    assert "0.0.0.0" in {ip for _, ip, _ in found} and {ip for _, ip, _ in found} <= UNSPECIFIED, found
    assert http_get("127.0.0.1", host_port, via=cli).text == PAGE + "\n"


def test_publish_fixed_host_port_on_loopback(cli, base, names, context, host_port_allocator):
    name, host_port = names("web"), host_port_allocator()
    run_web(cli, web_image(cli, base, names, context), name, "-p", f"127.0.0.1:{host_port}:80")
    assert cli.ok("port", name).lines == [f"80/tcp -> 127.0.0.1:{host_port}"]
    assert cli.ok("port", name, "80").lines == [f"127.0.0.1:{host_port}"]
    assert http_get("127.0.0.1", host_port, via=cli).text == PAGE + "\n"


def test_publish_random_port_on_loopback_port_prints_the_mapping(cli, base, names, context):
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name, "-p", "127.0.0.1::80")
    listed = cli.ok("port", name).lines
    assert len(listed) == 1 and re.fullmatch(r"80/tcp -> 127\.0\.0\.1:\d+", listed[0]), listed
    host_port = int(listed[0].rsplit(":", 1)[1])
    assert cli.ok("port", name, "80").lines == [f"127.0.0.1:{host_port}"]
    assert cli.ok("port", name, "80/tcp").lines == [f"127.0.0.1:{host_port}"]
    assert http_get("127.0.0.1", host_port, via=cli).text == PAGE + "\n"


def test_ps_ports_column_shows_the_published_mapping(cli, base, names, context):
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name, "-p", "127.0.0.1::80")
    host_port = ipv4_port(cli, name)
    out = cli.ok("ps", "--filter", f"name=^{name}$")
    header, row = out.lines[0], out.lines[1]
    start, end = header.index("PORTS"), header.index("NAMES")
    assert row[start:end].strip() == f"127.0.0.1:{host_port}->80/tcp"
    assert cli.ok("ps", "--filter", f"name=^{name}$", "--format", "{{.Ports}}").lines == [
        f"127.0.0.1:{host_port}->80/tcp"]


def test_inspect_network_settings_ports_is_the_binding_map(cli, base, names, context):
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name, "-p", "127.0.0.1::80")
    ports = json.loads(cli.inspect(name, "{{json .NetworkSettings.Ports}}"))
    assert ports == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(ipv4_port(cli, name))}]}


def test_inspect_ip_address_is_an_ipv4_address(cli, base, names, context):
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name)
    address = ipaddress.ip_address(cli.inspect(name, "{{.NetworkSettings.IPAddress}}"))
    assert address.version == 4 and not address.is_unspecified and not address.is_loopback


def test_publish_all_publishes_every_exposed_port(cli, base, names, context):
    name = names("web")
    image = web_image(cli, base, names, context, extra="EXPOSE 8080\n")
    run_web(cli, image, name, "-P")
    found = mappings(cli, name)
    assert {cp for cp, _, _ in found} == {"80/tcp", "8080/tcp"}
    assert {ip for _, ip, _ in found} <= UNSPECIFIED, found
    assert ipv4_port(cli, name, "80/tcp") != ipv4_port(cli, name, "8080/tcp")
    assert http_get("127.0.0.1", ipv4_port(cli, name, "80/tcp"), via=cli).text == PAGE + "\n"


def test_expose_alone_publishes_nothing(cli, base, names, context):
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name)
    listed = cli.ok("port", name)
    assert listed.stdout.strip() == "" and listed.stderr.strip() == ""
    assert json.loads(cli.inspect(name, "{{json .NetworkSettings.Ports}}")) == {"80/tcp": None}
    assert cli.ok("ps", "--filter", f"name=^{name}$", "--format", "{{.Ports}}").lines == ["80/tcp"]


def test_expose_flag_exposes_without_publishing(cli, base, names, context):
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name, "--expose", "8080")
    assert json.loads(cli.inspect(name, "{{json .Config.ExposedPorts}}")) == {"80/tcp": {}, "8080/tcp": {}}
    assert json.loads(cli.inspect(name, "{{json .NetworkSettings.Ports}}")) == {"80/tcp": None, "8080/tcp": None}
    assert cli.ok("port", name).stdout.strip() == ""


def test_port_of_an_unpublished_port_says_no_public_port(cli, base, names, context, messages):
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name, "-p", "127.0.0.1::80")
    result = cli.fails("port", name, "99")
    assert result.rc == 1
    assert result.stdout.strip() == ""
    expect_message(result.stderr, messages, "ports.not_published", port="99", name=name)


def test_taken_host_port_is_refused_and_the_second_container_does_not_run(cli, base, names, context, messages):
    image = web_image(cli, base, names, context)
    first, second = names("first"), names("second")
    run_web(cli, image, first, "-p", "127.0.0.1::80")
    taken = ipv4_port(cli, first)
    result = cli.fails("run", "-d", "--name", second, "-p", f"127.0.0.1:{taken}:80", image, *HTTPD)
    assert result.rc == 125
    expect_message(result.stderr, messages, "ports.bind_taken", address="127.0.0.1", port=taken)
    assert cli.inspect(second, "{{.State.Running}} {{.State.Status}}") == "false created"
    assert cli.inspect(first, "{{.State.Running}}") == "true"
    assert http_get("127.0.0.1", taken, via=cli).text == PAGE + "\n"


def test_port_range_publishes_each_port_of_the_range(cli, base, names, context):
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name, "-p", "127.0.0.1::8000-8001",
            command=["httpd", "-f", "-p", "8001", "-h", "/www"])
    found = mappings(cli, name)
    assert sorted(cp for cp, _, _ in found) == ["8000/tcp", "8001/tcp"]
    assert {ip for _, ip, _ in found} == {"127.0.0.1"}
    assert len({hp for _, _, hp in found}) == 2
    assert http_get("127.0.0.1", ipv4_port(cli, name, "8001/tcp"), via=cli).text == PAGE + "\n"
    # EXPOSE 80 stays exposed and unpublished beside the range
    ports = json.loads(cli.inspect(name, "{{json .NetworkSettings.Ports}}"))
    assert ports["80/tcp"] is None and set(ports) == {"80/tcp", "8000/tcp", "8001/tcp"}


def test_udp_port_is_published_as_udp(cli, base, names, context, messages):
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name, "-p", "127.0.0.1::53/udp")
    found = mappings(cli, name)
    assert [(cp, ip) for cp, ip, _ in found] == [("53/udp", "127.0.0.1")]
    assert cli.ok("port", name, "53/udp").lines == [f"127.0.0.1:{found[0][2]}"]
    # the bare number means tcp, which is not published
    expect_message(cli.fails("port", name, "53").stderr, messages, "ports.not_published", port="53", name=name)
    assert f"127.0.0.1:{found[0][2]}->53/udp" in cli.ok(
        "ps", "--filter", f"name=^{name}$", "--format", "{{.Ports}}").stdout


@pytest.mark.parametrize("spec, key, values", [
    ("80:abc", "ports.invalid_container_port", {"port": "abc"}),
    ("127.0.0.1:99999:80", "ports.invalid_host_port", {"port": "99999"}),
    ("127.0.0.1::80/xyz", "ports.invalid_proto", {"proto": "xyz"}),
], ids=["container-port", "host-port", "proto"])
def test_invalid_port_spec_is_refused_before_creating_a_container(cli, base, names, messages, spec, key, values):
    name = names("bad")
    result = cli.fails("run", "-d", "--name", name, "-p", spec, base.ref, *HTTPD)
    assert result.rc == 125
    expect_message(result.stderr, messages, key, **values)
    assert not cli.exists("container", name)


def test_traffic_reaches_the_container_that_published_the_port(cli, base, names, context):
    image = web_image(cli, base, names, context)
    served = {}
    for what in ("left", "right"):
        content = names(f"page-{what}")
        run_web(cli, image, names(what), "-p", "127.0.0.1::80", command=serve_content(content))
        served[ipv4_port(cli, names(what))] = content
    assert len(served) == 2
    for host_port, content in served.items():
        assert http_get("127.0.0.1", host_port, via=cli).text == content + "\n"


def test_stopped_container_no_longer_answers_on_its_port(cli, base, names, context, messages):
    name, content = names("web"), names("page")
    run_web(cli, web_image(cli, base, names, context), name, "-p", "127.0.0.1::80",
            command=serve_content(content))
    host_port = ipv4_port(cli, name)
    assert http_get("127.0.0.1", host_port, via=cli).text == content + "\n"
    cli.ok("stop", "-t", "1", name)
    assert cli.ok("port", name).stdout.strip() == ""
    expect_message(cli.fails("port", name, "80").stderr, messages, "ports.not_published", port="80", name=name)
    try:
        answer = http_get("127.0.0.1", host_port, attempts=1, via=cli).text
    except (AssertionError, requests.RequestException):
        answer = None
    assert answer != content + "\n"


def until_run_again(cli, name: str, seconds: float = 20) -> None:
    """Wait until the restart policy has run `name` a second time and it runs (during the
    back-off Docker shows Running true with Restarting true)."""
    __tracebackhide__ = True
    deadline = time.monotonic() + seconds
    while cli.inspect(name, "{{.RestartCount}} {{.State.Running}} {{.State.Restarting}}") != "1 true false":
        assert time.monotonic() < deadline, cli.inspect(name, "{{.RestartCount}} {{json .State}}")
        time.sleep(0.2)


# the first run fails, the second serves: the container's filesystem outlives a run
FAIL_THEN_SERVE = ["sh", "-c", "if [ -e /ran ]; then exec httpd -f -p 80 -h /www; fi; touch /ran; exit 1"]


def test_a_container_its_restart_policy_runs_again_has_an_address_and_serves(cli, base, names, context):
    """The policy runs the process again in a new network namespace: it is on the bridge
    again and its published port reaches the new process."""
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name, "-p", "127.0.0.1::80",
            "--restart", "on-failure:1", command=FAIL_THEN_SERVE)
    until_run_again(cli, name)
    address = ipaddress.ip_address(cli.inspect(name, "{{.NetworkSettings.IPAddress}}"))
    assert address.version == 4 and not address.is_unspecified and not address.is_loopback
    inside = cli.ok("exec", name, "ip", "-4", "-o", "addr", "show", "eth0").stdout
    assert f" {address}/" in inside, inside
    assert http_get("127.0.0.1", ipv4_port(cli, name), via=cli).text == PAGE + "\n"


@pytest.mark.parametrize("verb", ["start", "restart"])
def test_started_again_container_is_published_and_serves_again(cli, base, names, context, verb):
    name = names("web")
    run_web(cli, web_image(cli, base, names, context), name, "-p", "127.0.0.1::80")
    if verb == "start":
        cli.ok("stop", "-t", "1", name)
        cli.ok("start", name)
    else:
        cli.ok("restart", "-t", "1", name)
    assert cli.inspect(name, "{{.State.Running}}") == "true"
    found = mappings(cli, name)
    assert [(cp, ip) for cp, ip, _ in found] == [("80/tcp", "127.0.0.1")]
    assert http_get("127.0.0.1", found[0][2], via=cli).text == PAGE + "\n"
