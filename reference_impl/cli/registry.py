"""Registry verbs: pull, push, search, login, logout, and `registry serve`."""
from __future__ import annotations

import sys

from reference_impl import refs
from reference_impl.errors import EngineError
from reference_impl.store import Store

# the registry client (requests) is imported by the verbs that use it: `run` stays fast


def register(verbs, management: bool = False) -> None:
    p = verbs.add_parser("pull", help="pull an image from a registry")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("name")
    p.set_defaults(handler=cmd_pull)

    p = verbs.add_parser("push", help="push an image to a registry")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("name")
    p.set_defaults(handler=cmd_push)

    p = verbs.add_parser("search", help="search a registry for images")
    p.add_argument("-f", "--filter", action="append", default=[])
    p.add_argument("--limit", type=int, default=25)
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("--format")
    p.add_argument("term")
    p.set_defaults(handler=cmd_search)

    p = verbs.add_parser("login", help="log in to a registry")
    p.add_argument("-u", "--username")
    p.add_argument("-p", "--password")
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument("server", nargs="?")
    p.set_defaults(handler=cmd_login)

    p = verbs.add_parser("logout", help="log out from a registry")
    p.add_argument("server", nargs="?")
    p.set_defaults(handler=cmd_logout)

    p = verbs.add_parser("registry", help="run a registry (Registry HTTP API v2)")
    p.add_argument("args", nargs="...", help="serve --root DIR [--addr 127.0.0.1:0] [--htpasswd F [--auth basic|token]] | garbage-collect --root DIR [--dry-run]")
    p.set_defaults(handler=cmd_registry)


def _printer(quiet: bool, stream=None):
    def out(line: str) -> None:
        if not quiet:
            print(line, file=stream or sys.stdout, flush=True)
    return out


def cmd_pull(store: Store, args) -> int:
    from reference_impl import distribution
    distribution.pull(store, args.name, _printer(args.quiet))
    ref = refs.parse(args.name)
    print(ref if (ref.tag or ref.digest) else ref.with_default_tag())
    return 0


def cmd_push(store: Store, args) -> int:
    from reference_impl import distribution
    distribution.push(store, args.name, _printer(args.quiet))
    return 0


def cmd_search(store: Store, args) -> int:
    from reference_impl.cli import output
    from reference_impl.cli.filters import parse_filters
    from reference_impl.engine.search import search
    results = search(args.term, args.limit, parse_filters(args.filter))
    rows = []
    for r in results:
        description = r.get("description") or ""
        if not args.no_trunc and len(description) > 45:
            description = description[:44] + "…"
        rows.append({"Name": r["name"], "Description": description, "StarCount": str(r.get("star_count", 0)),
                     "IsOfficial": "[OK]" if r.get("is_official") else "",
                     "IsAutomated": "[OK]" if r.get("is_automated") else ""})
    # the docker CLI 28 columns (AUTOMATED is gone; --format can still ask for .IsAutomated)
    columns = {"Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS", "IsOfficial": "OFFICIAL"}
    if args.format:
        output.formatted(args.format, rows, columns)
    else:
        output.table(list(columns.values()), [[r[c] for c in columns] for r in rows])
    return 0


def cmd_login(store: Store, args) -> int:
    from reference_impl import credentials
    from reference_impl.registry.client import AuthenticationError, RegistryAPIError, RegistryClient
    server = args.server
    if not server:
        raise EngineError("logging in to Docker Hub is not possible from here: give a registry address")
    password = args.password
    if args.password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    if args.username is None or password is None:
        raise EngineError("Must provide --username with --password-stdin" if args.password_stdin
                          else "username and password are required (-u and -p or --password-stdin)")
    client = RegistryClient(server, auth=(args.username, password))
    try:
        client.login()
    except AuthenticationError as exc:
        if exc.token_service:   # the token service refused them: Docker names the /v2/ call
            raise EngineError(f'Get "{client.base}/v2/": {exc.reason}') from None
        raise EngineError(f"login attempt to {client.base}/v2/ failed with status: 401 Unauthorized") from None
    except RegistryAPIError as exc:
        raise EngineError(f"login attempt to {client.base}/v2/ failed with status: {exc.status}") from None
    path = credentials.store(server, args.username, password)
    print(f"WARNING! Your credentials are stored unencrypted in '{path}'.\n"
          "Configure a credential helper to remove this warning. See\n"
          "https://docs.docker.com/engine/reference/commandline/login/#credentials-store\n",
          file=sys.stderr)
    print("Login Succeeded")
    return 0


def cmd_logout(store: Store, args) -> int:
    from reference_impl import credentials
    if not args.server:
        raise EngineError("logging out of Docker Hub is not possible from here: give a registry address")
    print(f"Removing login credentials for {args.server}")
    credentials.forget(args.server)
    return 0


def cmd_registry(store: Store, args) -> int:
    from reference_impl.registry.serve import main
    return main(list(args.args)) or 0
