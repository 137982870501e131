"""`build`: the classic builder, with Docker's flags."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from reference_impl.builder import context
from reference_impl.builder.build import BuildError, Options, build
from reference_impl.errors import EngineError
from reference_impl.store import Store


def register(verbs, management: bool = False) -> None:
    p = verbs.add_parser("build", help="build an image from a Dockerfile")
    p.add_argument("-t", "--tag", action="append", default=[])
    p.add_argument("-f", "--file")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--build-arg", action="append", default=[])
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--rm", type=lambda t: t.lower() != "false", default=True)
    p.add_argument("--force-rm", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--target")
    p.add_argument("--pull", action="store_true")
    p.add_argument("path")
    p.set_defaults(handler=cmd_build)


def _pairs(items: list[str]) -> dict[str, str]:
    result = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            env_value = os.environ.get(key)
            if env_value is None:
                continue
            value = env_value
        result[key] = value
    return result


def cmd_build(store: Store, args) -> int:
    from reference_impl import refs
    for tag in args.tag:
        refs.parse(tag)
    scratch = None
    try:
        source = args.path
        if context.is_git_source(source) or (os.path.isdir(os.path.join(source, ".git")) and False):
            scratch = Path(tempfile.mkdtemp(dir=store.images.tmp_dir, prefix="git-"))
            directory = context.checkout_git(source, scratch)
        else:
            directory = Path(source)
            if not directory.is_dir():
                raise EngineError(f"unable to prepare context: path \"{source}\" not found")
        dockerfile = args.file or "Dockerfile"
        options = Options(context_dir=directory.resolve(), dockerfile=dockerfile, tags=args.tag,
                          no_cache=args.no_cache, build_args=_pairs(args.build_arg),
                          labels=_pairs(args.label), rm=args.rm, force_rm=args.force_rm,
                          quiet=args.quiet, target=args.target)
        build(store, options)
        return 0
    except BuildError as exc:
        print(exc.message, file=sys.stderr)
        return exc.exit_code if exc.exit_code else 1
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
