"""run/create's network flags, as the engine's NetworkingOptions."""
from __future__ import annotations

import ipaddress
import sys

from reference_impl.engine.records.containers import NetworkingOptions


def add_flags(p) -> None:
    # -h is --hostname here, as in docker run; --help stays
    p.conflict_handler = p._optionals.conflict_handler = "resolve"
    p.add_argument("--network", "--net", dest="network", default="default")
    p.add_argument("--network-alias", "--net-alias", dest="network_alias", action="append", default=[])
    p.add_argument("--ip", default="")
    p.add_argument("-h", "--hostname", default="")
    p.add_argument("--domainname", default="")
    p.add_argument("--add-host", dest="add_host", action="append", default=[])
    p.add_argument("--link", action="append", default=[])
    p.add_argument("--dns", action="append", default=[])
    p.add_argument("--dns-search", dest="dns_search", action="append", default=[])
    p.add_argument("--dns-option", "--dns-opt", dest="dns_option", action="append", default=[])


def networking_options(args) -> NetworkingOptions:
    if any(_loopback(server) for server in args.dns):
        print(f"WARNING: Localhost DNS ({next(s for s in args.dns if _loopback(s))}) may fail in containers.",
              file=sys.stderr)
    return NetworkingOptions(mode=args.network, aliases=args.network_alias, ip=args.ip, hostname=args.hostname,
                             domainname=args.domainname, extra_hosts=args.add_host, dns=args.dns,
                             dns_search=args.dns_search, dns_options=args.dns_option, links=args.link)


def _loopback(server: str) -> bool:
    try:
        return ipaddress.ip_address(server).is_loopback
    except ValueError:
        return False
