"""`strata`: the engine's command line, with Docker's verbs, flags, output and exit codes.

Exit codes as the docker CLI gives them: 1 for an error the engine reports, 125
when `run`/`create` cannot create or start the container, 126 when the command
cannot be invoked, 127 when it is not found, and the command's own code otherwise.
"""
from __future__ import annotations

import argparse
import functools
import gc
import os
import re
import sys
from collections.abc import Callable

from reference_impl.cli.errors import ClientRefusal, words
from reference_impl.errors import ContainerStartError, EngineError, from_os_error
from reference_impl.gotemplate.values import TemplateError


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # as pflag: a word starting with "-" and a digit is a value (`-p -1:80`), not a flag
        self._negative_number_matcher = re.compile(r"^-\d")

    def error(self, message):
        raise UsageError(message)

    def _get_values(self, action, arg_strings):
        # Python 3.11's argparse strips a second "--" too (`tag SRC -- --`) and hands the
        # one-value positional an empty list; as pflag, that "--" is the value itself
        value = super()._get_values(action, arg_strings)
        if action.nargs is None and value == [] and arg_strings == []:
            return "--"
        return value


# which module's register() makes each verb: a call builds (and imports) only its own
_MODULE_OF = {
    **dict.fromkeys(("import", "images", "inspect", "history", "tag", "rmi", "save", "load", "image"), "images"),
    **dict.fromkeys(("run", "create", "start", "stop", "restart", "kill", "wait", "rm", "ps", "logs", "top",
                     "diff", "commit", "exec", "port", "container", "pause", "unpause", "rename", "stats",
                     "update", "attach"),
                    "containers"),
    **dict.fromkeys(("system", "version"), "system"),
    "volume": "volumes",
    "cp": "copying",
    "build": "build",
    **dict.fromkeys(("pull", "push", "search", "login", "logout", "registry"), "registry"),
    "network": "networks",
}
_GROUPS = {"image": "images", "container": "containers", "network": "networks"}


class _Unbuilt:
    """Stands in for the parser of a verb this call does not run: every call is a no-op."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: self


class _OnlyVerb:
    """The subparsers action as register() sees it, building the parser of one verb only."""

    def __init__(self, action, wanted: str | None):
        self.action, self.wanted = action, wanted

    def add_parser(self, name: str, **kwargs):
        if self.wanted is None or name == self.wanted:
            return self.action.add_parser(name, **kwargs)
        return _Unbuilt()


def verb_of(argv: list[str]) -> str | None:
    """The first word that is not a global option (--root DIR / --root=DIR / -h)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--root":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(verb: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; given a known verb, with only that verb's subparser
    (building all of them costs tens of milliseconds on every call)."""
    import importlib

    parser = Parser(prog="strata", description="A small Docker-compatible engine.")
    parser.add_argument("--root", help="state directory (default $STRATA_ROOT or /var/lib/strata)")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=Parser)
    wanted = verb if verb in _MODULE_OF else None
    names = [_MODULE_OF[wanted]] if wanted else ["images", "containers", "system", "build", "registry",
                                                 "volumes", "copying", "networks"]
    modules = {name: importlib.import_module(f"reference_impl.cli.{name}") for name in names}
    for name, module in modules.items():
        module.register(_OnlyVerb(verbs, wanted))
    for group, name in _GROUPS.items():
        if name in modules and wanted in (None, group):
            sub = verbs.add_parser(group, help=f"manage {group}s")
            modules[name].register(sub.add_subparsers(dest="subverb", metavar="COMMAND", parser_class=Parser),
                                   management=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    return parse(sys.argv[1:] if argv is None else argv)()


def parse(argv: list[str]) -> Callable[[], int]:
    """The command argv asks for, ready to run (importing what its verb needs); or, for
    a wrong command line, what prints the usage error and gives its exit code."""
    parser = build_parser(verb_of(argv))
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        verb = next((a for a in argv if not a.startswith("-")), "")
        return functools.partial(_usage_error, verb, str(exc))
    handler = getattr(args, "handler", None)
    if handler is None:
        return lambda: parser.print_help() or 0
    return lambda: _run(handler, args)


def _usage_error(verb: str, message: str) -> int:
    print(f"strata: {message}\nSee 'strata {verb} --help'.".replace("  ", " "), file=sys.stderr)
    return 125 if verb in ("run", "create") else 1


def _run(handler, args) -> int:
    from reference_impl.store import Store  # with the verb's modules, in parse() (entry pauses the collector there)
    store = Store(args.root)
    try:
        return handler(store, args) or 0
    except ContainerStartError as exc:
        print(f"strata: {words(exc)}", file=sys.stderr)
        return exc.exit_code
    except ClientRefusal as exc:
        print(exc, file=sys.stderr)
        return 1
    except EngineError as exc:
        prefix = "strata: " if getattr(args, "verb", "") in ("run", "create") else ""
        print(f"{prefix}{words(exc)}", file=sys.stderr)
        return 125 if prefix else exc.exit_code
    except BrokenPipeError:
        return 0
    except TemplateError as exc:
        message, code = _template_words(getattr(args, "verb", ""), getattr(args, "subverb", ""), exc)
        print(message, file=sys.stderr)
        return code
    except OSError as exc:  # a full disk, a name too long: the daemon's error, never a traceback
        prefix = "strata: " if getattr(args, "verb", "") in ("run", "create") else ""
        print(f"{prefix}{words(from_os_error(exc))}", file=sys.stderr)
        return 125 if prefix else 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 — a bug of ours: one line and where the details are
        where = _record_unexpected(store, exc)
        print(f"strata: unexpected error: {type(exc).__name__}: {exc} (details in {where})", file=sys.stderr)
        return 125  # as the docker CLI exits when its daemon fails


def _template_words(verb: str, subverb: str, exc: Exception) -> tuple[str, int]:
    """The docker CLI's words and exit code for a --format template that fails: inspect
    says "template parsing error" (64 when parsing, 1 when executing); the list commands
    say they failed to parse or to execute it (1)."""
    executing = "executing" in str(exc)
    if "inspect" in (verb, subverb):
        return f"template parsing error: {exc}", 1 if executing else 64
    return f"failed to {'execute' if executing else 'parse'} template: {exc}", 1


def _record_unexpected(store, exc: Exception) -> str:
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
    # The imports of a verb make some 100 000 objects and no garbage: the cycle collector's
    # passes over them cost milliseconds of every command. Once they are in, they are frozen
    # (no later pass walks them, nor touches their pages in a forked shim) and it runs again.
    gc.disable()
    try:
        command = parse(sys.argv[1:])
    finally:
        gc.freeze()
        gc.enable()
    code = command()
    threading = sys.modules.get("threading")
    if threading is not None and any(t.is_alive() and not t.daemon and t is not threading.main_thread()
                                     for t in threading.enumerate()):
        sys.exit(code)  # a thread still working (the service's pool): Python waits for it
    # Leave without the interpreter's teardown (freeing every module costs tens of ms, on
    # every command): no exit handler of ours is left to run, only output to flush.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code & 0xFF)
