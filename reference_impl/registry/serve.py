"""`serve` command: run the registry on an address (port 0 allowed) and print
`listening on HOST:PORT` once ready. main(argv) is what `strata registry` calls."""
import argparse
import asyncio
import logging
import signal
import socket
import sys

from aiohttp import web

from .app import Registry, make_app

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
    serve.add_argument("--htpasswd", help="htpasswd file with bcrypt entries: enables basic auth")
    serve.add_argument("--realm", default="strata-registry", help="basic auth realm")
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
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.log_level != "debug":   # malformed HTTP is answered with 400; no tracebacks for it
        logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    host, port = args.addr
    registry = Registry(args.root, htpasswd=args.htpasswd, realm=args.realm)
    try:
        asyncio.run(_serve(registry, host, port))
    except OSError as exc:
        print(f"strata registry: {exc}", file=sys.stderr)
        return 1
    return 0
