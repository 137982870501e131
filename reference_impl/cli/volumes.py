"""`strata volume create/ls/inspect/rm/prune`, in the docker CLI's columns and words."""
from __future__ import annotations

import sys

from reference_impl.cli import output
from reference_impl.cli.errors import words
from reference_impl.cli.filters import parse_filters
from reference_impl.engine.records.volumes import Volume, VolumeCreateOptions, VolumeListOptions
from reference_impl.engine.volumes import VolumeService, inspect_json
from reference_impl.errors import EngineError, InvalidInput
from reference_impl.store import Store

LS_COLUMNS = {"Driver": "DRIVER", "Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT", "Labels": "LABELS",
              "Scope": "SCOPE", "Links": "LINKS", "Size": "SIZE"}


def register(verbs, management: bool = False) -> None:
    p = verbs.add_parser("volume", help="manage volumes")
    sub = p.add_subparsers(dest="subverb", metavar="COMMAND")
    c = sub.add_parser("create", help="create a volume")
    c.add_argument("-d", "--driver", default="local")
    c.add_argument("--label", action="append", default=[])
    c.add_argument("-o", "--opt", action="append", default=[])
    c.add_argument("name", nargs="?", default="")
    c.set_defaults(handler=cmd_create)
    for verb in ("ls", "list"):
        c = sub.add_parser(verb, help="list volumes")
        c.add_argument("-q", "--quiet", action="store_true")
        c.add_argument("-f", "--filter", action="append", default=[])
        c.add_argument("--format")
        c.set_defaults(handler=cmd_ls)
    c = sub.add_parser("inspect", help="inspect volumes")
    c.add_argument("-f", "--format")
    c.add_argument("names", nargs="+")
    c.set_defaults(handler=cmd_inspect)
    for verb in ("rm", "remove"):
        c = sub.add_parser(verb, help="remove volumes")
        c.add_argument("-f", "--force", action="store_true")
        c.add_argument("names", nargs="+")
        c.set_defaults(handler=cmd_rm)
    c = sub.add_parser("prune", help="remove unused volumes")
    c.add_argument("-f", "--force", action="store_true")
    c.add_argument("--filter", action="append", default=[])
    c.set_defaults(handler=cmd_prune)


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    found = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key:
            raise InvalidInput(f'invalid argument "{item}" for "{flag}" flag: invalid label \'{item}\': empty name')
        found[key] = value
    return found


def cmd_create(store: Store, args) -> int:
    volume = VolumeService(store).create(VolumeCreateOptions(
        name=args.name, driver=args.driver, labels=_pairs(args.label, "--label"),
        driver_opts=_pairs(args.opt, "-o, --opt")))
    print(volume.name)
    return 0


def _ls_record(volume: Volume) -> dict:
    return {"Driver": volume.driver, "Name": volume.name, "Mountpoint": volume.mountpoint,
            "Labels": ",".join(f"{k}={v}" for k, v in sorted((volume.labels or {}).items())),
            "Scope": volume.scope, "Links": "N/A", "Size": "N/A", "Availability": "N/A", "Group": "N/A",
            "Status": "N/A"}


def cmd_ls(store: Store, args) -> int:
    found = VolumeService(store).list(VolumeListOptions(filters=parse_filters(args.filter)))
    records = [_ls_record(v) for v in found]
    if args.quiet:
        for r in records:
            print(r["Name"])
    elif args.format:
        output.formatted(args.format, records, {"Driver": "DRIVER", "Name": "VOLUME NAME"})
    else:
        output.table(["DRIVER", "VOLUME NAME"], [[r["Driver"], r["Name"]] for r in records])
    return 0


def cmd_inspect(store: Store, args) -> int:
    service, found, failed = VolumeService(store), [], False
    for name in args.names:
        try:
            found.append(inspect_json(service.inspect(name)))
        except EngineError as exc:
            failed = True
            print(words(exc), file=sys.stderr)
    output.inspected(found, args.format)
    return 1 if failed else 0


def cmd_rm(store: Store, args) -> int:
    failed = False
    for name in args.names:
        try:
            VolumeService(store).remove(name, force=args.force)
            print(name)
        except EngineError as exc:
            failed = True
            print(words(exc), file=sys.stderr)
    return 1 if failed else 0


def cmd_prune(store: Store, args) -> int:
    from reference_impl.cli.images import confirmed
    filters = parse_filters(args.filter)
    if not confirmed(args.force, "WARNING! This will remove all local volumes not used by at least one "
                                 "container."):
        return 0
    report = VolumeService(store).prune(filters)
    output.prune_report("Volumes", report.deleted, report.space_reclaimed)
    return 0
