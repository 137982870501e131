"""System verbs: check (store consistency), service (the Engine API), version."""
from __future__ import annotations

import os
import sys

from reference_impl.engine.system import SystemService
from reference_impl.store import Store


def register(verbs, management: bool = False) -> None:
    p = verbs.add_parser("system", help="manage strata")
    sub = p.add_subparsers(dest="subverb", metavar="COMMAND")
    c = sub.add_parser("check", help="check the store for corruption")
    c.add_argument("--repair", action="store_true", help="remove leftovers of interrupted writes")
    c.add_argument("--quick", action="store_true", help="do not rehash layer tars")
    c.set_defaults(handler=cmd_check)
    s = sub.add_parser("service", help="serve the Docker Engine API (1.41) on a unix socket")
    s.add_argument("--socket", help="socket path (default <root>/strata.sock)")
    s.add_argument("-t", "--time", type=float, default=0,
                   help="seconds without a request before the service exits (0: never)")
    s.set_defaults(handler=cmd_service)
    d = sub.add_parser("df", help="show the space images, containers and volumes take")
    d.add_argument("-v", "--verbose", action="store_true")
    d.add_argument("--format")
    d.set_defaults(handler=cmd_df)
    v = verbs.add_parser("version", help="show the version")
    v.add_argument("-f", "--format")
    v.set_defaults(handler=cmd_version)


def cmd_df(store: Store, args) -> int:
    from reference_impl.cli import disk_usage
    document = SystemService(store).df()
    if args.verbose and not args.format:
        disk_usage.print_verbose(document)
    else:
        disk_usage.print_summary(document, args.format)
    return 0


def cmd_check(store: Store, args) -> int:
    report = SystemService(store).check(repair=args.repair, deep=not args.quick)
    if args.repair:
        print(f"removed {report.removed_leftovers} leftovers of interrupted writes")
    for problem in report.problems:
        print(problem)
    if not report.problems:
        print("store is consistent")
    return 1 if report.problems else 0


def cmd_version(store: Store, args) -> int:
    server = SystemService(store).version()
    data = {"Client": {"Version": server["Version"], "ApiVersion": server["ApiVersion"], "Os": "linux"},
            "Server": {"Version": server["Version"], "ApiVersion": server["ApiVersion"], "Os": "linux",
                       "KernelVersion": server["KernelVersion"], "Compat": server["Compat"]}}
    if args.format:
        from reference_impl import gotemplate
        sys.stdout.write(gotemplate.parse(args.format).execute(data) + "\n")
    else:
        print(f"strata {server['Version']} (image format of Docker {server['Compat']}), root {store.root}")
    return 0


def cmd_service(store: Store, args) -> int:
    """The Engine API is its own program (`python -m reference_impl.api`), as dockerd is the
    docker CLI's: this process becomes it, keeping its pid."""
    path = os.path.abspath(args.socket or store.root / "strata.sock")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "reference_impl.api", "--root", str(store.root),
                              "--socket", path, "--time", str(args.time)])
