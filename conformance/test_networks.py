"""User-defined networks (issue 19): `network create/ls/inspect/rm/prune/connect/disconnect`,
the default networks, name resolution by the embedded DNS at 127.0.0.11, isolation between
networks, the network modes `none` and `container:X`, and /etc/hosts and /etc/resolv.conf as
Docker writes them.

Traffic goes only to the run's own containers: HTTP from inside one container to another with
busybox `nc` (busybox `wget` crashes inside containers on this kind of machine), names looked up
with busybox `nslookup`, which asks the container's first nameserver. On the default bridge the
nameserver is the host's own, which must never be asked: lookups there are made with
`--dns 127.0.0.1`, the container's own loopback, where nothing answers.

Subnets: each check that needs a fixed subnet draws one at random from 10.64.0.0/10 in /24s and
draws again while the engine says it overlaps (other workers, other runs, other engines here).
Every network a check makes carries the run's and the check's labels, so the per-check cleanup
and the end-of-session leak check find it.
"""
from __future__ import annotations

import ipaddress
import json
import random
import re
import time

import pytest

from conformance.fixtures import http_get
from conformance.messages import expect_message, template_regex
from conformance.naming import LABEL_CHECK, LABEL_RUN

HTTPD = ["sh", "-c", "echo served-by-$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www"]
GET = "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} 80"
SUBNET_ATTEMPTS = 20


def random_subnet() -> ipaddress.IPv4Network:
    """A /24 in 10.64.0.0/10, away from docker0, podman's 10.88 and strata0."""
    while True:
        second, third = random.randint(64, 127), random.randint(0, 255)
        if second != 88:
            return ipaddress.ip_network(f"10.{second}.{third}.0/24")


def create_network(cli, names, messages, what: str = "net", *options: str,
                   subnet: bool = False) -> tuple[str, str, ipaddress.IPv4Network | None]:
    """`network create` with the check's labels; with a random subnet of its own when asked.
    Returns (name, full id, subnet)."""
    __tracebackhide__ = True
    name = names(what)
    labels = ["--label", f"{LABEL_RUN}={names.run}", "--label", f"{LABEL_CHECK}={names.prefix}"]
    for _ in range(SUBNET_ATTEMPTS if subnet else 1):
        net = random_subnet() if subnet else None
        chosen = ["--subnet", str(net)] if net else []
        result = cli.run("network", "create", *labels, *chosen, *options, name)
        if result.rc == 0:
            return name, result.stdout.strip(), net
        if not (net and template_regex(messages["network.pool_overlaps"], {}).search(result.stderr)):
            break
    raise AssertionError(f"network create failed:\n{result.describe()}")


def serve(cli, base, names, network: str, what: str = "srv", *options: str) -> str:
    """A detached busybox httpd on `network`; returns its name."""
    name = names(what)
    cli.ok("run", "-d", "--name", name, "--network", network, *options, base.ref, *HTTPD)
    return name


def inside(cli, base, network: str, script: str, *options: str):
    """Run `script` in a throwaway container on `network`; the result, success or not."""
    return cli.run("run", "--rm", "--network", network, *options, base.ref, "sh", "-c", script)


def endpoints(cli, container: str) -> dict:
    return json.loads(cli.inspect(container, "{{json .NetworkSettings.Networks}}"))


def network_json(cli, network: str) -> dict:
    """`network inspect` of one network, in Docker's shape."""
    __tracebackhide__ = True
    shown = json.loads(cli.ok("network", "inspect", network).stdout)[0]
    missing = {"Name", "Id", "Driver", "IPAM", "Internal", "Containers", "Labels"} - set(shown)
    assert not missing, f"network inspect lacks {sorted(missing)}: {shown}"
    return shown


def interfaces(cli, container: str) -> list[str]:
    return sorted(cli.ok("exec", container, "ls", "/sys/class/net").lines)


# --- the network objects -------------------------------------------------------------------

def test_default_networks_bridge_host_and_none_are_listed(cli):
    rows = {tuple(line.split()) for line in
            cli.ok("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}").lines}
    assert {("bridge", "bridge", "local"), ("host", "host", "local"), ("none", "null", "local")} <= rows


def test_create_prints_the_id_and_inspect_shows_subnet_gateway_range_internal_and_labels(cli, names, messages):
    name, net_id, subnet = create_network(cli, names, messages, "net", "--internal", "--label", "tier=back",
                                          subnet=True)
    assert re.fullmatch(r"[0-9a-f]{64}", net_id), net_id
    shown = network_json(cli, name)
    assert (shown["Name"], shown["Id"], shown["Driver"], shown["Scope"]) == (name, net_id, "bridge", "local")
    assert shown["IPAM"]["Config"] == [{"Subnet": str(subnet)}]
    assert shown["Internal"] is True
    assert shown["Labels"]["tier"] == "back" and shown["Labels"][LABEL_CHECK] == names.prefix
    assert shown["Containers"] == {}


def test_gateway_and_ip_range_choose_the_gateway_and_the_first_container_address(cli, base, names, messages):
    for _ in range(SUBNET_ATTEMPTS):
        candidate = random_subnet()
        hosts = list(candidate.hosts())
        gateway, ip_range = hosts[-1], ipaddress.ip_network(f"{candidate[128]}/25")
        try:
            name, _, _ = create_network(cli, names, messages, "net", "--subnet", str(candidate),
                                             "--gateway", str(gateway), "--ip-range", str(ip_range))
            break
        except AssertionError as failure:
            if "overlaps" not in str(failure):
                raise
    config = network_json(cli, name)["IPAM"]["Config"]
    assert config == [{"Subnet": str(candidate), "IPRange": str(ip_range), "Gateway": str(gateway)}]
    server = serve(cli, base, names, name)
    endpoint = endpoints(cli, server)[name]
    assert (endpoint["IPAddress"], endpoint["Gateway"]) == (str(candidate[128]), str(gateway))


def test_ls_columns_quiet_and_filters_by_name_label_and_driver(cli, names, messages):
    name, net_id, _ = create_network(cli, names, messages, "net", "--label", "role=ls")
    table = cli.ok("network", "ls", "--filter", f"label={LABEL_CHECK}={names.prefix}").lines
    assert re.fullmatch(r"NETWORK ID\s+NAME\s+DRIVER\s+SCOPE", table[0]), table[0]
    assert table[1].split() == [net_id[:12], name, "bridge", "local"]
    assert len(table) == 2
    assert cli.ok("network", "ls", "-q", "--filter", f"name={name}").lines == [net_id[:12]]
    assert cli.ok("network", "ls", "-q", "--no-trunc", "--filter", "label=role=ls",
                  "--filter", f"label={LABEL_CHECK}={names.prefix}").lines == [net_id]
    assert cli.ok("network", "ls", "-q", "--filter", f"name={name}", "--filter", "driver=null").lines == []
    assert cli.ok("network", "ls", "-q", "--filter", f"id={net_id[:10]}").lines == [net_id[:12]]


def test_rm_by_name_prints_the_name_and_a_missing_network_is_not_found(cli, names, messages):
    name, net_id, _ = create_network(cli, names, messages)
    assert cli.ok("network", "rm", name).lines == [name]
    assert cli.run("network", "inspect", name).rc != 0
    missing = cli.fails("network", "rm", name)
    expect_message(missing.stderr, messages, "network.not_found", name=name)


def test_rm_of_a_network_in_use_is_refused_in_dockers_words(cli, base, names, messages):
    name, net_id, _ = create_network(cli, names, messages)
    serve(cli, base, names, name)
    refused = cli.fails("network", "rm", name)
    expect_message(refused.stderr, messages, "network.active_endpoints", name=name, id=net_id)
    assert network_json(cli, name)["Id"] == net_id


def test_name_clash_and_overlapping_subnet_are_refused(cli, names, messages):
    name, _, subnet = create_network(cli, names, messages, "net", subnet=True)
    clash = cli.fails("network", "create", "--label", f"{LABEL_CHECK}={names.prefix}",
                      "--label", f"{LABEL_RUN}={names.run}", name)
    expect_message(clash.stderr, messages, "network.name_exists", name=name)
    overlap = cli.fails("network", "create", "--label", f"{LABEL_CHECK}={names.prefix}",
                        "--label", f"{LABEL_RUN}={names.run}", "--subnet", str(subnet), names("other"))
    expect_message(overlap.stderr, messages, "network.pool_overlaps")
    assert cli.run("network", "inspect", names("other")).rc != 0


def test_invalid_subnet_and_gateway_outside_the_subnet_are_refused(cli, names, messages):
    labels = ["--label", f"{LABEL_CHECK}={names.prefix}", "--label", f"{LABEL_RUN}={names.run}"]
    bad = cli.fails("network", "create", *labels, "--subnet", "10.70.0.0/33", names("bad"))
    expect_message(bad.stderr, messages, "network.invalid_subnet", subnet="10.70.0.0/33")
    gateway = cli.fails("network", "create", *labels, "--subnet", "10.70.0.0/24", "--gateway", "10.70.1.1",
                        names("gw"))
    expect_message(gateway.stderr, messages, "network.no_subnet_for_gateway", gateway="10.70.1.1")


def test_prune_removes_unused_networks_only(cli, base, names, messages):
    unused, _, _ = create_network(cli, names, messages, "unused")
    used, _, _ = create_network(cli, names, messages, "used")
    serve(cli, base, names, used)
    pruned = cli.ok("network", "prune", "-f", "--filter", f"label={LABEL_CHECK}={names.prefix}")
    assert pruned.lines == ["Deleted Networks:", unused], pruned.stdout
    assert cli.run("network", "inspect", unused).rc != 0
    assert network_json(cli, used)["Name"] == used


def test_connecting_to_a_missing_network_is_not_found(cli, base, names, messages):
    missing = names("missing")
    run = cli.fails("run", "--rm", "--network", missing, base.ref, "true")
    expect_message(run.stderr, messages, "network.not_found", name=missing)


# --- containers on networks ------------------------------------------------------------------

def test_containers_on_a_user_network_reach_each_other_by_name_alias_and_short_id(cli, base, names, messages):
    net, _, _ = create_network(cli, names, messages)
    server = serve(cli, base, names, net, "srv", "--network-alias", "web-alias")
    short_id = cli.inspect(server, "{{.Id}}")[:12]
    address = endpoints(cli, server)[net]["IPAddress"]
    resolv = inside(cli, base, net, "cat /etc/resolv.conf")
    assert resolv.rc == 0 and "nameserver 127.0.0.11" in resolv.lines, resolv.describe()
    for host in (server, "web-alias", short_id):
        looked_up = inside(cli, base, net, f"nslookup {host}")
        assert looked_up.rc == 0 and f"Address: {address}" in looked_up.lines, looked_up.describe()
        fetched = inside(cli, base, net, GET.format(host=host))
        assert fetched.rc == 0 and f"served-by-{short_id}" in fetched.lines, fetched.describe()


def test_a_container_its_restart_policy_runs_again_rejoins_its_network_and_resolves(cli, base, names, messages):
    net, _, _ = create_network(cli, names, messages)
    server = names("again")
    script = HTTPD[2]
    cli.ok("run", "-d", "--name", server, "--network", net, "--restart", "on-failure:1", base.ref, "sh", "-c",
           f"if [ -e /ran ]; then {script}; fi; touch /ran; exit 1")
    deadline = time.monotonic() + 20
    while cli.inspect(server, "{{.RestartCount}} {{.State.Running}} {{.State.Restarting}}") != "1 true false":
        assert time.monotonic() < deadline, cli.inspect(server, "{{.RestartCount}} {{json .State}}")
        time.sleep(0.2)
    address = endpoints(cli, server)[net]["IPAddress"]
    assert address and ipaddress.ip_address(address).version == 4, endpoints(cli, server)
    short_id = cli.inspect(server, "{{.Id}}")[:12]
    looked_up = inside(cli, base, net, f"nslookup {server}")
    assert looked_up.rc == 0 and f"Address: {address}" in looked_up.lines, looked_up.describe()
    fetched = inside(cli, base, net, GET.format(host=server))
    assert fetched.rc == 0 and f"served-by-{short_id}" in fetched.lines, fetched.describe()


def test_link_on_the_default_bridge_sets_variables_and_a_hosts_line(cli, base, names):
    server, client = names("srv"), names("client")
    cli.ok("run", "-d", "--name", server, "-e", "SECRET=x", "-e", "FOO=bar", "--expose", "80-82",
           "--expose", "53/udp", base.ref, "sleep", "300")
    address = cli.inspect(server, "{{.NetworkSettings.IPAddress}}")
    short_id = cli.inspect(server, "{{.Id}}")[:12]
    seen = cli.ok("run", "--rm", "--name", client, "--link", f"{server}:db-1", "-e", "DB_1_ENV_FOO=mine",
                  base.ref, "sh", "-c", "env; cat /etc/hosts").lines
    tcp, udp = f"tcp://{address}", f"udp://{address}"
    expected = {f"DB_1_NAME=/{client}/db-1", f"DB_1_PORT={udp}:53",          # the lowest port first
                f"DB_1_PORT_53_UDP={udp}:53", f"DB_1_PORT_53_UDP_ADDR={address}", "DB_1_PORT_53_UDP_PORT=53",
                "DB_1_PORT_53_UDP_PROTO=udp",
                f"DB_1_PORT_80_TCP={tcp}:80", f"DB_1_PORT_80_TCP_ADDR={address}", "DB_1_PORT_80_TCP_PORT=80",
                "DB_1_PORT_80_TCP_PROTO=tcp",
                f"DB_1_PORT_81_TCP={tcp}:81", f"DB_1_PORT_81_TCP_ADDR={address}", "DB_1_PORT_81_TCP_PORT=81",
                "DB_1_PORT_81_TCP_PROTO=tcp",
                f"DB_1_PORT_82_TCP={tcp}:82", f"DB_1_PORT_82_TCP_ADDR={address}", "DB_1_PORT_82_TCP_PORT=82",
                "DB_1_PORT_82_TCP_PROTO=tcp",
                f"DB_1_PORT_80_TCP_START={tcp}:80", "DB_1_PORT_80_TCP_PORT_START=80",   # a range of ports
                f"DB_1_PORT_80_TCP_END={tcp}:82", "DB_1_PORT_80_TCP_PORT_END=82",
                "DB_1_ENV_SECRET=x", "DB_1_ENV_FOO=mine"}                  # its own variable wins
    assert {line for line in seen if line.startswith("DB_1_")} == expected, seen
    assert f"{address}\tdb-1 {short_id} {server}" in seen, seen
    created = names("linked")
    cli.ok("create", "--name", created, "--link", server, base.ref, "true")
    assert json.loads(cli.inspect(created, "{{json .HostConfig.Links}}")) == [f"/{server}:/{created}/{server}"]


def test_link_to_a_missing_or_a_stopped_container_is_refused(cli, base, names, messages):
    missing = names("nope")
    result = cli.fails("run", "--rm", "--link", f"{missing}:x", base.ref, "true")
    assert result.rc == 125
    expect_message(result.stderr, messages, "network.link_missing", name=missing)
    stopped = names("stopped")
    cli.ok("create", "--name", stopped, base.ref, "true")
    result = cli.fails("run", "--rm", "--link", f"{stopped}:x", base.ref, "true")
    assert result.rc == 125
    expect_message(result.stderr, messages, "network.link_not_running", name=stopped, alias="x")


def test_on_the_default_bridge_names_do_not_resolve(cli, base, names):
    server = names("srv")
    cli.ok("run", "-d", "--name", server, base.ref, *HTTPD)
    looked_up = cli.run("run", "--rm", "--dns", "127.0.0.1", base.ref, "sh", "-c",
                        f"grep -w {server} /etc/hosts; nslookup -timeout=1 {server}")
    assert looked_up.rc != 0, looked_up.describe()
    assert f"Address: " not in looked_up.stdout.replace("Address:\t127.0.0.1", ""), looked_up.describe()


def test_containers_on_two_user_networks_cannot_reach_each_other(cli, base, names, messages):
    first, _, _ = create_network(cli, names, messages, "first")
    second, _, _ = create_network(cli, names, messages, "second")
    server = serve(cli, base, names, first)
    address = endpoints(cli, server)[first]["IPAddress"]
    same = inside(cli, base, first, GET.format(host=address))
    assert same.rc == 0 and "served-by-" in same.stdout, same.describe()
    other = inside(cli, base, second, GET.format(host=address) + f"; nslookup {server}")
    assert "served-by-" not in other.stdout and other.rc != 0, other.describe()


def test_network_none_has_only_loopback(cli, base):
    result = cli.ok("run", "--rm", "--network", "none", base.ref, "ls", "/sys/class/net")
    assert result.lines == ["lo"]


def test_network_container_shares_the_other_containers_interfaces_and_ports(cli, base, names, messages):
    net, _, _ = create_network(cli, names, messages)
    server = serve(cli, base, names, net)
    mac = endpoints(cli, server)[net]["MacAddress"]
    shared = cli.ok("run", "--rm", "--network", f"container:{server}", base.ref, "sh", "-c",
                    "cat /sys/class/net/eth0/address; " + GET.format(host="127.0.0.1"))
    assert shared.lines[0] == mac
    assert any(line.startswith("served-by-") for line in shared.lines), shared.stdout


def test_connect_and_disconnect_take_effect_on_a_running_container(cli, base, names, messages):
    first, _, _ = create_network(cli, names, messages, "first")
    second, second_id, _ = create_network(cli, names, messages, "second")
    server = serve(cli, base, names, first)
    assert interfaces(cli, server) == ["eth0", "lo"]
    cli.ok("network", "connect", second, server)
    assert sorted(endpoints(cli, server)) == sorted([first, second])
    assert interfaces(cli, server) == ["eth0", "eth1", "lo"]
    address = endpoints(cli, server)[second]["IPAddress"]
    assert endpoints(cli, server)[second]["NetworkID"] == second_id
    reached = inside(cli, base, second, GET.format(host=server))
    assert reached.rc == 0 and "served-by-" in reached.stdout, reached.describe()
    cli.ok("network", "disconnect", second, server)
    assert sorted(endpoints(cli, server)) == [first]
    assert interfaces(cli, server) == ["eth0", "lo"]
    gone = inside(cli, base, second, GET.format(host=address))
    assert "served-by-" not in gone.stdout, gone.describe()


def test_a_container_of_the_default_bridge_connected_to_a_network_resolves_its_names_and_keeps_it(
        cli, base, names, messages):
    """Connected while it runs: the embedded DNS answers in it from then on; stopped and
    started again: it is on both networks again."""
    net, _, _ = create_network(cli, names, messages)
    server = serve(cli, base, names, net)
    client = names("client")
    cli.ok("run", "-d", "--name", client, base.ref, "sleep", "300")
    cli.ok("network", "connect", net, client)
    assert net in endpoints(cli, client) and len(endpoints(cli, client)) == 2, endpoints(cli, client)
    address = endpoints(cli, server)[net]["IPAddress"]

    def looked_up():
        return cli.run("exec", client, "nslookup", server)
    found = looked_up()
    assert found.rc == 0 and f"Address: {address}" in found.lines, found.describe()
    cli.ok("stop", "-t", "1", client)
    cli.ok("start", client)
    assert interfaces(cli, client) == ["eth0", "eth1", "lo"]
    found = looked_up()
    assert found.rc == 0 and f"Address: {address}" in found.lines, found.describe()
    shown = endpoints(cli, client)
    assert all(e["IPAddress"] for e in shown.values()) and sorted(shown) == sorted(["bridge", net]), shown


def test_inspect_shows_the_endpoint_on_each_network(cli, base, names, messages):
    net, net_id, subnet = create_network(cli, names, messages, "net", subnet=True)
    fixed = str(subnet[10])
    server = serve(cli, base, names, net, "srv", "--network-alias", "api", "--ip", fixed)
    short_id = cli.inspect(server, "{{.Id}}")[:12]
    endpoint = endpoints(cli, server)[net]
    assert endpoint["IPAddress"] == fixed and endpoint["IPPrefixLen"] == 24
    assert endpoint["Gateway"] == str(subnet[1])
    assert endpoint["MacAddress"] == "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.ip_address(fixed).packed)
    assert endpoint["NetworkID"] == net_id
    assert re.fullmatch(r"[0-9a-f]{64}", endpoint["EndpointID"])
    assert endpoint["Aliases"] == ["api", short_id]
    members = network_json(cli, net)["Containers"]
    full_id = cli.inspect(server, "{{.Id}}")
    assert members[full_id]["Name"] == server and members[full_id]["IPv4Address"] == f"{fixed}/24"


def test_a_port_published_from_a_container_on_a_user_network_answers_on_loopback(cli, base, names, messages):
    net, _, _ = create_network(cli, names, messages)
    server = serve(cli, base, names, net, "srv", "-p", "127.0.0.1::80")
    port = cli.ok("port", server, "80/tcp").lines[0].rsplit(":", 1)[1]
    short_id = cli.inspect(server, "{{.Id}}")[:12]
    assert http_get("127.0.0.1", port, "/index.html", via=cli).text == f"served-by-{short_id}\n"


def test_an_ip_outside_the_subnet_is_refused(cli, base, names, messages):
    net, _, subnet = create_network(cli, names, messages, "net", subnet=True)
    outside = str(subnet.network_address + 256 * 256)
    refused = cli.fails("run", "--rm", "--network", net, "--ip", outside, base.ref, "true")
    expect_message(refused.stderr, messages, "network.ip_outside_subnet", ip=outside)


# --- /etc/hosts and /etc/resolv.conf -----------------------------------------------------------

HOSTS_HEAD = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::0\tip6-localnet",
              "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters"]


def test_hosts_and_resolv_conf_on_a_user_network(cli, base, names, messages):
    net, _, _ = create_network(cli, names, messages)
    result = inside(cli, base, net, "cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; hostname; "
                    "ip -4 -o addr show eth0",
                    "--hostname", "box", "--domainname", "example.test", "--add-host", "db.test:10.1.2.3",
                    "--dns", "127.0.0.1", "--dns-search", "search.test", "--dns-option", "ndots:2")
    assert result.rc == 0, result.describe()
    hosts, resolv, rest = result.stdout.split("---\n")
    address = re.search(r"inet (\S+)/", rest).group(1)
    assert hosts.splitlines() == [*HOSTS_HEAD, "10.1.2.3\tdb.test", f"{address}\tbox.example.test box"]
    assert resolv.splitlines() == ["search search.test", "nameserver 127.0.0.11", "options ndots:2"]
    assert rest.splitlines()[0] == "box"


def test_hosts_and_resolv_conf_on_the_default_bridge_and_on_none(cli, base):
    bridge = cli.ok("run", "--rm", "--hostname", "box", "--dns", "127.0.0.1", "--dns-search", "search.test",
                    "--dns-option", "ndots:2", base.ref, "sh", "-c",
                    "cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; ip -4 -o addr show eth0")
    hosts, resolv, rest = bridge.stdout.split("---\n")
    address = re.search(r"inet (\S+)/", rest).group(1)
    assert hosts.splitlines() == [*HOSTS_HEAD, f"{address}\tbox"]
    assert resolv.splitlines() == ["search search.test", "nameserver 127.0.0.1", "options ndots:2"]
    none = cli.ok("run", "--rm", "--network", "none", "--add-host", "db.test:10.1.2.3", base.ref,
                  "cat", "/etc/hosts")
    assert none.lines == [*HOSTS_HEAD, "10.1.2.3\tdb.test"]
