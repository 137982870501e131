"""/etc/hosts and /etc/resolv.conf of a container, as dockerd 20.10 writes them.

hosts: localhost and the IPv6 names, then each --add-host (`IP\\tNAME`), then the container's
own address with its hostname (`IP\\tHOST.DOMAIN HOST` with --domainname); no address line
without an address (--network none).

resolv.conf: on a user-defined network the embedded DNS (`nameserver 127.0.0.11`) with
`options ndots:0` unless options are given; elsewhere the --dns servers, or the host's file
as it is when nothing is overridden. --dns-search and --dns-option replace the host's search
and options lines.
"""
from __future__ import annotations

from pathlib import Path

EMBEDDED_DNS = "127.0.0.11"
HOSTS_HEAD = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
              "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")


def hosts_text(extra_hosts: list[str], address: str, hostname: str, domainname: str,
               links: list[str] = ()) -> str:
    """`links`: the lines of --link (network/legacy_links.py), before the container's own."""
    lines = [HOSTS_HEAD]
    for entry in extra_hosts:
        name, _, ip = entry.partition(":")
        lines.append(f"{ip}\t{name}\n")
    lines += links
    if address:
        names = f"{hostname}.{domainname} {hostname}" if domainname else hostname
        lines.append(f"{address}\t{names}\n")
    return "".join(lines)


def _host_resolv() -> str:
    try:
        return Path("/etc/resolv.conf").read_text()
    except OSError:
        return ""


def resolv_text(host_config: dict, embedded: bool) -> str:
    dns = host_config.get("Dns") or []
    search = host_config.get("DnsSearch") or []
    options = host_config.get("DnsOptions") or []
    host = _host_resolv()
    if not (dns or search or options or embedded):
        return host
    host_lines = [line.split() for line in host.splitlines() if line.strip() and not line.startswith("#")]
    if not search:
        search = [w for line in host_lines if line[0] == "search" for w in line[1:]]
    if not options:
        options = [w for line in host_lines if line[0] == "options" for w in line[1:]]
        if embedded and not any(o.startswith("ndots:") for o in options):
            options.append("ndots:0")
    servers = [EMBEDDED_DNS] if embedded else dns or [
        line[1] for line in host_lines if line[0] == "nameserver" and len(line) > 1]
    out = []
    if search:
        out.append("search " + " ".join(search))
    out += [f"nameserver {server}" for server in servers]
    if options:
        out.append("options " + " ".join(options))
    return "\n".join(out) + "\n"


def write_in_place(path: Path, text: str) -> None:
    """Rewrite a file the container may have bound already: same inode, new contents."""
    with open(path, "w") as f:
        f.write(text)
