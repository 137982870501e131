"""`strata network create/ls/inspect/rm/prune/connect/disconnect`, in the docker CLI's words."""
from __future__ import annotations

import sys

from reference_impl.cli import output
from reference_impl.cli.errors import words
from reference_impl.cli.filters import parse_filters
from reference_impl.engine.networks import NetworkService
from reference_impl.engine.records.networks import ConnectOptions, NetworkCreateOptions, NetworkListOptions
from reference_impl.errors import EngineError, InvalidInput, NotFound
from reference_impl.store import Store

COLUMNS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE"}


def register(verbs, management: bool = False) -> None:
    if not management:
        return  # `network` is a management command only
    p = verbs.add_parser("create", help="create a network")
    p.add_argument("-d", "--driver", default="bridge")
    p.add_argument("--subnet", action="append", default=[])
    p.add_argument("--gateway", action="append", default=[])
    p.add_argument("--ip-range", dest="ip_range", action="append", default=[])
    p.add_argument("--internal", action="store_true")
    p.add_argument("--label", action="append", default=[])
    p.add_argument("-o", "--opt", action="append", default=[])
    p.add_argument("name")
    p.set_defaults(handler=cmd_create)

    p = verbs.add_parser("ls", aliases=["list"], help="list networks")
    p.add_argument("-f", "--filter", action="append", default=[])
    p.add_argument("--format")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--no-trunc", dest="no_trunc", action="store_true")
    p.set_defaults(handler=cmd_ls)

    p = verbs.add_parser("inspect", help="show networks")
    p.add_argument("-f", "--format")
    p.add_argument("networks", nargs="+")
    p.set_defaults(handler=cmd_inspect)

    p = verbs.add_parser("rm", aliases=["remove"], help="remove networks")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("networks", nargs="+")
    p.set_defaults(handler=cmd_rm)

    p = verbs.add_parser("prune", help="remove unused networks")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("--filter", action="append", default=[])
    p.set_defaults(handler=cmd_prune)

    p = verbs.add_parser("connect", help="connect a container to a network")
    p.add_argument("--alias", action="append", default=[])
    p.add_argument("--ip", default="")
    p.add_argument("network")
    p.add_argument("container")
    p.set_defaults(handler=cmd_connect)

    p = verbs.add_parser("disconnect", help="disconnect a container from a network")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("network")
    p.add_argument("container")
    p.set_defaults(handler=cmd_disconnect)


def _one(values: list[str], flag: str) -> str:
    if len(values) > 1:
        raise InvalidInput(f"strata takes one {flag} per network (IPv4 only)")
    return values[0] if values else ""


def _pairs(specs: list[str]) -> dict[str, str]:
    return {k: v for k, _, v in (s.partition("=") for s in specs)}


def cmd_create(store: Store, args) -> int:
    net = NetworkService(store).create(NetworkCreateOptions(
        name=args.name, driver=args.driver, subnet=_one(args.subnet, "--subnet"),
        gateway=_one(args.gateway, "--gateway"), ip_range=_one(args.ip_range, "--ip-range"),
        internal=args.internal, labels=_pairs(args.label), options=_pairs(args.opt)))
    print(net.id)
    return 0


def cmd_ls(store: Store, args) -> int:
    found = NetworkService(store).list(NetworkListOptions(filters=parse_filters(args.filter)))
    if args.quiet:
        for net in found:
            print(output.truncate_id(net.id, args.no_trunc))
        return 0
    rows = [{"ID": output.truncate_id(n.id, args.no_trunc), "Name": n.name, "Driver": n.driver,
             "Scope": n.scope, "IPv6": "false", "IPv4": "true" if n.driver == "bridge" else "false",
             "Internal": str(n.internal).lower(), "CreatedAt": n.created,
             "Labels": ",".join(f"{k}={v}" for k, v in n.labels.items())} for n in found]
    if args.format:
        output.formatted(args.format, rows, COLUMNS)
        return 0
    output.table(list(COLUMNS.values()), [[r[c] for c in COLUMNS] for r in rows])
    return 0


def cmd_inspect(store: Store, args) -> int:
    service, found, failed = NetworkService(store), [], False
    for name in args.networks:
        try:
            found.append(service.inspect(name))
        except NotFound as exc:
            failed = True
            print(words(exc), file=sys.stderr)
    output.inspected(found, args.format)
    return 1 if failed else 0


def cmd_rm(store: Store, args) -> int:
    service, failed = NetworkService(store), False
    for name in args.networks:
        try:
            service.remove(name)
            print(name)
        except NotFound as exc:
            if not args.force:
                failed = True
                print(words(exc), file=sys.stderr)
        except EngineError as exc:
            failed = True
            print(words(exc), file=sys.stderr)
    return 1 if failed else 0


def cmd_prune(store: Store, args) -> int:
    if not args.force:
        print("WARNING! This will remove all custom networks not used by at least one container.\n"
              "Are you sure you want to continue? [y/N] ", end="", flush=True)
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    report = NetworkService(store).prune(parse_filters(args.filter))
    output.prune_report("Networks", report.deleted, None)
    return 0


def cmd_connect(store: Store, args) -> int:
    NetworkService(store).connect(ConnectOptions(network=args.network, container=args.container,
                                                 aliases=args.alias, ip=args.ip))
    return 0


def cmd_disconnect(store: Store, args) -> int:
    NetworkService(store).disconnect(args.network, args.container, force=args.force)
    return 0
