"""`strata`: the engine's command line, with Docker's verbs, flags, output and exit codes.

Exit codes as the docker CLI gives them: 1 for an error the engine reports, 125
when `run`/`create` cannot create or start the container, 126 when the command
cannot be invoked, 127 when it is not found, and the command's own code otherwise.
"""
from __future__ import annotations

import argparse
import sys

from reference_impl.errors import ContainerStartError, EngineError, from_os_error
from reference_impl.store import Store


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    from reference_impl.cli import build, containers, images, registry, system

    parser = Parser(prog="strata", description="A small Docker-compatible engine.")
    parser.add_argument("--root", help="state directory (default $STRATA_ROOT or /var/lib/strata)")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=Parser)
    images.register(verbs)
    containers.register(verbs)
    system.register(verbs)
    build.register(verbs)
    registry.register(verbs)
    for group, module in (("image", images), ("container", containers)):
        sub = verbs.add_parser(group, help=f"manage {group}s")
        module.register(sub.add_subparsers(dest="subverb", metavar="COMMAND", parser_class=Parser),
                        management=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        verb = next((a for a in argv if not a.startswith("-")), "")
        print(f"strata: {exc}\nSee 'strata {verb} --help'.".replace("  ", " "), file=sys.stderr)
        return 125 if verb in ("run", "create") else 1
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    store = Store(args.root)
    try:
        return handler(store, args) or 0
    except ContainerStartError as exc:
        print(f"strata: {exc}", file=sys.stderr)
        return exc.exit_code
    except EngineError as exc:
        prefix = "strata: " if getattr(args, "verb", "") in ("run", "create") else ""
        print(f"{prefix}{exc}", file=sys.stderr)
        return 125 if prefix else exc.exit_code
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a full disk, a name too long: the daemon's error, never a traceback
        prefix = "strata: " if getattr(args, "verb", "") in ("run", "create") else ""
        print(f"{prefix}{from_os_error(exc)}", file=sys.stderr)
        return 125 if prefix else 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 — a bug of ours: one line and where the details are
        where = _record_unexpected(store, exc)
        print(f"strata: unexpected error: {type(exc).__name__}: {exc} (details in {where})", file=sys.stderr)
        return 125  # as the docker CLI exits when its daemon fails


def _record_unexpected(store: Store, exc: Exception) -> str:
    """The traceback, appended to <root>/errors.log (or the temporary directory's)."""
    import tempfile
    import time
    import traceback
    text = f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} strata {' '.join(sys.argv[1:])[:500]}\n" + \
        "".join(traceback.format_exception(exc))
    for directory in (store.root, tempfile.gettempdir()):
        path = f"{directory}/errors.log" if directory == store.root else f"{directory}/strata-errors.log"
        try:
            with open(path, "a") as log:
                log.write(text)
            return path
        except OSError:
            continue
    return "nowhere (no writable log)"


def entry() -> None:
    sys.exit(main())
