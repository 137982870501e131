"""System verbs: check (store consistency), service (the Engine API), version, info."""
from __future__ import annotations

import platform
import sys

from reference_impl import check
from reference_impl.images import DOCKER_VERSION
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
    v = verbs.add_parser("version", help="show the version")
    v.add_argument("-f", "--format")
    v.set_defaults(handler=cmd_version)


def cmd_check(store: Store, args) -> int:
    if args.repair:
        removed = check.repair_staging(store)
        print(f"removed {removed} leftovers of interrupted writes")
    found = check.problems(store, deep=not args.quick)
    for problem in found:
        print(problem)
    if not found:
        print("store is consistent")
    return 1 if found else 0


def cmd_version(store: Store, args) -> int:
    data = {"Client": {"Version": "0.1.0", "ApiVersion": "1.41", "Os": "linux"},
            "Server": {"Version": "0.1.0", "ApiVersion": "1.41", "Os": "linux",
                       "KernelVersion": platform.release(), "Compat": DOCKER_VERSION}}
    if args.format:
        from reference_impl import gotemplate
        sys.stdout.write(gotemplate.parse(args.format).execute(data) + "\n")
    else:
        print(f"strata 0.1.0 (image format of Docker {DOCKER_VERSION}), root {store.root}")
    return 0


def cmd_service(store: Store, args) -> int:
    from pathlib import Path

    from reference_impl.api.server import serve
    path = Path(args.socket or store.root / "strata.sock").absolute()

    def ready(where) -> None:
        print(f"strata: serving the Engine API on unix://{where}", file=sys.stderr, flush=True)
    return serve(store.root, path, args.time, ready)
