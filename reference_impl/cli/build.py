"""`build`: the classic builder, with Docker's flags and the docker CLI's context handling
(a directory, a git URL, or `-`: a tar or a bare Dockerfile on stdin)."""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from reference_impl import refs
from reference_impl.errors import InvalidInput
from reference_impl.ownership import staging_prefix
from reference_impl.store import Store, hex_of


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
    p.add_argument("--iidfile", help="write the image ID to the file")
    p.add_argument("path")
    p.set_defaults(handler=cmd_build)


def _pairs(items: list[str]) -> dict[str, str]:
    result = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            if key not in os.environ:
                continue
            value = os.environ[key]
        result[key] = value
    return result


class CliError(InvalidInput):
    """Refused by the client before anything reaches the engine (no daemon prefix)."""


def _context_from_stdin(scratch: Path) -> Path:
    from reference_impl import layers
    from reference_impl.builder import context
    spooled, _ = layers.spool_uncompressed(sys.stdin.buffer, scratch)
    directory = scratch / "stdin-context"
    directory.mkdir()
    if tarfile.is_tarfile(spooled):
        context.unpack_context(spooled, directory)
    else:
        os.replace(spooled, directory / "Dockerfile")
    return directory


def _reference_words(tag: str, exc: InvalidInput) -> str:
    """reference.ParseNormalizedNamed's words: an uppercase repository is named as normalized."""
    name = tag.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    if name != name.lower():
        first, _, rest = name.partition("/")
        path = name if rest and not any(c in first for c in ".:") and first != "localhost" else rest
        return f"invalid reference format: repository name ({path or 'library/' + name}) must be lowercase"
    return str(exc)


@contextlib.contextmanager
def _held_if(quiet: bool):
    """-q: what the build prints (its lines, and its steps' output on fds 1 and 2) is held
    back, and shown on stderr only if the build fails, as the docker CLI does."""
    if not quiet:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 1)
        os.dup2(held.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, target in zip(saved, (1, 2)):
                os.dup2(fd, target)
                os.close(fd)
            if failed:
                held.seek(0)
                shutil.copyfileobj(held, sys.stderr.buffer)
                sys.stderr.flush()


def cmd_build(store: Store, args) -> int:
    from reference_impl.builder import context
    from reference_impl.builder.build import BuildError, Options, build
    for tag in args.tag:
        try:
            refs.parse(tag)
        except InvalidInput as exc:  # the docker CLI refuses the flag itself: 125
            print(f'invalid argument "{tag}" for "-t, --tag" flag: {_reference_words(tag, exc)}\n'
                  "See 'strata build --help'.", file=sys.stderr)
            return 125
    if args.iidfile:  # as the docker CLI: an old file never passes for this build's id
        Path(args.iidfile).unlink(missing_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=store.images.tmp_dir, prefix=staging_prefix("ctx-")))
    try:
        dockerfile = args.file or "Dockerfile"
        if args.path == "-":
            directory = _context_from_stdin(scratch)
        elif context.is_git_source(args.path):
            directory = context.checkout_git(args.path, scratch)
        else:
            directory = Path(args.path).resolve()
            if not directory.is_dir():
                raise CliError(f'unable to prepare context: path "{args.path}" not found')
            wanted = Path(dockerfile) if os.path.isabs(dockerfile) else directory / dockerfile
            if not wanted.exists():
                raise CliError("unable to prepare context: unable to evaluate symlinks in Dockerfile "
                               f"path: lstat {wanted}: no such file or directory")
        options = Options(context_dir=directory, dockerfile=dockerfile, tags=args.tag,
                          no_cache=args.no_cache, build_args=_pairs(args.build_arg),
                          labels=_pairs(args.label), rm=args.rm, force_rm=args.force_rm,
                          quiet=args.quiet, target=args.target, pull=args.pull)
        with _held_if(args.quiet):
            image_id = build(store, options)
        if args.quiet:
            print(f"sha256:{hex_of(image_id)}")
        if args.iidfile:
            Path(args.iidfile).write_text(f"sha256:{hex_of(image_id)}")
        return 0
    except BuildError as exc:
        print(exc.message, file=sys.stderr)
        return exc.exit_code or 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
