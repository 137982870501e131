"""`strata cp`: the docker CLI's half of a copy (which end is the container, where the
resource lands: into an existing directory, as a new name, or its content for `SRC/.`)
around the ArchiveService's tar streams. `-` is a tar stream on stdin or stdout."""
from __future__ import annotations

import os
import posixpath
import sys
import tarfile
import tempfile

from reference_impl.engine.copying import ArchiveService, open_reader, open_writer
from reference_impl.errors import InvalidInput, NotFound
from reference_impl.store import Store


def register(verbs, management: bool = False) -> None:
    p = verbs.add_parser("cp", help="copy files between a container and the local filesystem")
    p.add_argument("-a", "--archive", action="store_true")
    p.add_argument("-L", "--follow-link", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("source")
    p.add_argument("destination")
    p.set_defaults(handler=cmd_cp)


def _split(arg: str) -> tuple[str | None, str]:
    """`container:path` or a local path (an absolute or ./ path is always local)."""
    if arg.startswith(("/", ".")) or ":" not in arg:
        return None, arg
    container, _, path = arg.partition(":")
    return container, path


def cmd_cp(store: Store, args) -> int:
    src_container, src = _split(args.source)
    dst_container, dst = _split(args.destination)
    if src_container and dst_container:
        raise InvalidInput("copying between containers is not supported")
    if not src_container and not dst_container:
        raise InvalidInput("must specify at least one container source")
    service = ArchiveService(store)
    if src_container:
        copy_out(service, src_container, src, dst, args.follow_link)
    else:
        copy_in(service, src, dst_container, dst, args.archive, args.follow_link)
    return 0


def _in_container(path: str) -> str:
    return path if path.startswith("/") else "/" + path


def _contents_of(path: str) -> bool:
    return path.endswith("/.") or path == "."


# --- out of the container ---------------------------------------------------------------------

def copy_out(service: ArchiveService, container: str, src: str, dst: str, follow: bool) -> None:
    src = _in_container(src)
    if dst == "-":
        sys.stdout.flush()
        service.export(container, src, sys.stdout.fileno())
        return
    found = service.stat(container, src)
    if follow and found.link_target:
        src = found.link_target
        found = service.stat(container, src)
    if os.path.isdir(dst):
        rename = None          # into the directory, under its own name (or its content: SRC/.)
        into = dst
    else:
        if dst.endswith("/"):
            raise InvalidInput(f"destination directory {dst} must exist")
        if os.path.exists(dst) and found.is_dir:
            raise InvalidInput(f"cannot copy a directory to a file: {dst}")
        into = os.path.dirname(os.path.abspath(dst))
        if not os.path.isdir(into):
            raise InvalidInput(f"lstat {into}: no such file or directory")
        rename = (found.name, os.path.basename(dst))
    with tempfile.TemporaryFile() as spool:  # unpacked from a file: faster than from a pipe (open_reader)
        service.export(container, src, spool.fileno())
        spool.seek(0)
        _unpack_here(spool, into, rename)


def _unpack_here(spool, into: str, rename: tuple[str, str] | None) -> None:
    """Unpack on this host: owned by whoever copies (as the docker CLI does), nothing outside `into`."""
    uid, gid = os.getuid(), os.getgid()

    def member_filter(member: tarfile.TarInfo, destination: str) -> tarfile.TarInfo:
        if rename is not None:
            member = member.replace(name=_rebase(member.name, *rename), deep=False)
        member = tarfile.tar_filter(member, destination)
        return member.replace(uid=uid, gid=gid, uname="", gname="", deep=False)

    with open_reader(spool) as tar:
        try:
            tar.extractall(into, numeric_owner=True, filter=member_filter)
        except tarfile.FilterError as exc:
            raise InvalidInput(f"Error processing tar file: {exc}") from None


def _rebase(name: str, old: str, new: str) -> str:
    name = name.rstrip("/")
    if old == ".":
        rest = name[2:] if name.startswith("./") else "" if name == "." else name
        return posixpath.join(new, rest) if rest else new
    if name == old:
        return new
    return new + name[len(old):] if name.startswith(old + "/") else name


# --- into the container -------------------------------------------------------------------------

def copy_in(service: ArchiveService, src: str, container: str, dst: str, archive: bool, follow: bool) -> None:
    dst = _in_container(dst)
    if src == "-":
        service.extract(container, dst, sys.stdin.fileno(), copy_uid_gid=archive)
        return
    if not os.path.lexists(src) or (follow and not os.path.exists(src)):
        raise InvalidInput(f"lstat {src}: no such file or directory")
    source_is_dir = os.path.isdir(src) and (follow or not os.path.islink(src))
    root = "." if _contents_of(src) else os.path.basename(os.path.normpath(src))
    try:
        target = service.stat(container, dst if not dst.endswith("/") else dst + ".")
    except NotFound:
        target = None
    if target is not None and target.is_dir:
        into, name = dst, root
    else:
        if target is None and dst.endswith("/"):
            raise NotFound(f"Could not find the file {dst} in container {container}")
        if target is not None and source_is_dir:
            raise InvalidInput(f"cannot copy a directory to a file: {dst}")
        into, name = posixpath.dirname(dst.rstrip("/")) or "/", posixpath.basename(dst.rstrip("/"))
    with tempfile.TemporaryFile() as spool:  # extracted from a file: faster than from a pipe (open_reader)
        with open_writer(spool, format=tarfile.PAX_FORMAT, dereference=follow) as tar:
            tar.add(os.path.normpath(src) if root != "." else src, arcname=name)
        spool.flush()
        spool.seek(0)
        service.extract(container, into, spool.fileno(), copy_uid_gid=archive)
