"""`serve` command: run the registry on an address (port 0 allowed) and print
`listening on HOST:PORT` once ready; `garbage-collect` command: collect.py.
main(argv) is what `strata registry` calls."""
import argparse
import asyncio
import logging
import os
import signal
import socket
import sys

from aiohttp import web

from .app import Registry, make_app
from .collect import DEFAULT_GRACE_SECONDS, collect

STALE_UPLOAD_SECONDS = 7 * 24 * 3600


def parse_addr(addr: str) -> tuple[str, int]:
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"address must be HOST:PORT, got {addr!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="strata registry", description="Registry HTTP API v2 server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a registry from a storage root")
    serve.add_argument("--root", required=True, help="storage directory")
    serve.add_argument("--addr", default="127.0.0.1:5000", type=parse_addr,
                       help="HOST:PORT to listen on; port 0 picks a free port (default 127.0.0.1:5000)")
    serve.add_argument("--htpasswd", help="htpasswd file with bcrypt entries: the users")
    serve.add_argument("--auth", choices=["none", "basic", "token"],
                       help="basic: every request carries the user's password; token: requests carry "
                            "bearer tokens from the token service at /token (default: basic with "
                            "--htpasswd, else none)")
    serve.add_argument("--realm", default="strata-registry", help="basic auth realm")
    serve.add_argument("--token-realm",
                       help="the realm URL the token challenges name (default http://ADDR/token)")
    serve.add_argument("--token-service", default="strata-registry",
                       help="the service (token audience) the registry is (default strata-registry)")
    serve.add_argument("--token-issuer", default="strata-token-service", help="the tokens' issuer")
    serve.add_argument("--token-ttl", type=int, default=300, help="token lifetime in seconds (default 300)")
    gc = sub.add_parser("garbage-collect",
                        help="delete the blobs no manifest refers to (safe beside a running registry)")
    gc.add_argument("--root", required=True, help="storage directory")
    gc.add_argument("--dry-run", action="store_true", help="say what would be deleted, delete nothing")
    gc.add_argument("--grace", type=float, default=DEFAULT_GRACE_SECONDS, metavar="SECONDS",
                    help="keep unreferenced blobs written or used this recently: a push in "
                         f"progress has not put its manifest yet (default {DEFAULT_GRACE_SECONDS})")
    serve.add_argument("--log-level", default="warning",
                       choices=["debug", "info", "warning", "error"],
                       help="stderr log level; info logs every request")
    return parser


async def _serve(registry: Registry, host: str, port: int) -> None:
    app = make_app(registry)
    registry.uploads.purge_stale(STALE_UPLOAD_SECONDS)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    runner = web.AppRunner(app, access_log=logging.getLogger("strata.registry.access"))
    await runner.setup()
    site = web.SockSite(runner, sock, backlog=256)
    await site.start()
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    registry.bound(f"http://{shown}:{bound}")
    print(f"listening on {shown}:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "garbage-collect":
        return _garbage_collect(args.root, args.grace, args.dry_run)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.log_level != "debug":   # malformed HTTP is answered with 400; no tracebacks for it
        logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    host, port = args.addr
    auth = args.auth or ("basic" if args.htpasswd else "none")
    if auth != "none" and not args.htpasswd:
        print(f"strata registry: --auth {auth} needs --htpasswd (the users)", file=sys.stderr)
        return 2
    if auth == "none" and args.htpasswd:
        print("strata registry: --htpasswd with --auth none: say which auth", file=sys.stderr)
        return 2
    if args.token_ttl <= 0:
        print("strata registry: --token-ttl must be positive", file=sys.stderr)
        return 2
    registry = Registry(args.root, htpasswd=args.htpasswd if auth == "basic" else None,
                        realm=args.realm)
    if auth == "token":
        registry.storage.prepare()
        registry.use_tokens(args.htpasswd, args.realm, args.token_service, args.token_issuer,
                            args.token_ttl, args.token_realm)
    try:
        asyncio.run(_serve(registry, host, port))
    except OSError as exc:
        print(f"strata registry: {exc}", file=sys.stderr)
        return 1
    return 0


def _garbage_collect(root: str, grace: float, dry_run: bool) -> int:
    if grace < 0:
        print("strata registry: --grace must not be negative", file=sys.stderr)
        return 2
    if not os.path.isdir(os.path.join(root, "repositories")):
        print(f"strata registry: {root}: not a registry root", file=sys.stderr)
        return 1
    collect(root, dry_run=dry_run, grace_seconds=grace,
            out=lambda line: print(line, flush=True))
    return 0
