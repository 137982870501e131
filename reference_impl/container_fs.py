"""Running a piece of work inside a container's filesystem, chrooted into it, as dockerd's
chrootarchive does for `cp`: whatever a path or a tar member says, it resolves inside
the container's root (a `..` stops there, an absolute symlink starts from there).

A running container's root is entered through its mount namespace (its volumes and
binds included); a stopped one's is mounted in a mount namespace of the work's own
(overlay, then its volumes and binds), which goes away with it: nothing on the host.
The work runs in a forked child; its result (JSON) or its error comes back by a pipe.
"""
from __future__ import annotations

import json
import os

from reference_impl import mounting, rootfs
from reference_impl import syscalls as sc
from reference_impl.errors import EngineError, InvalidArgument, NotFound


def run_in(store, container, work, *args, root_only: bool = False):
    """work(*args) in a child chrooted into the container's root; returns its (JSON) result.
    EngineErrors it raises come back as they were (their class and words). root_only: the
    root without its volumes and binds, and no chroot (the current directory is the root: the
    work sees the host too, so it must resolve paths with mounting.resolve_in_root)."""
    result_r, result_w = os.pipe2(os.O_CLOEXEC)
    child = os.fork()
    if child == 0:
        code = 0
        try:
            os.close(result_r)
            _enter(store, container, root_only)
            answer = {"value": work(*args)}
        except EngineError as exc:
            answer = {"error": type(exc).__name__, "message": exc.message}
        except BaseException as exc:  # noqa: BLE001 — reported to the parent, never a traceback here
            import traceback
            answer = {"error": "EngineError", "message": _words(exc), "trace": traceback.format_exc()}
            code = 1
        try:
            os.write(result_w, json.dumps(answer).encode())
        finally:
            os._exit(code)
    os.close(result_w)
    with os.fdopen(result_r, "rb") as reader:
        raw = reader.read()
    os.waitpid(child, 0)
    answer = json.loads(raw) if raw else {"error": "EngineError", "message": "the copy was interrupted"}
    if "error" in answer:
        kind = {"NotFound": NotFound, "InvalidArgument": InvalidArgument}.get(answer["error"], EngineError)
        raise kind(answer["message"])
    return answer["value"]


def _words(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror[:1].lower() + exc.strerror[1:]
        return f"{exc.filename}: {reason}" if exc.filename else reason
    return str(exc)


def _enter(store, container, root_only: bool = False) -> None:
    if root_only:
        os.chdir(_mount_stopped(store, container, root_only=True))
        return
    if container.running:
        pid = container.state["Pid"]
        root_fd = os.open(f"/proc/{pid}/root", os.O_RDONLY)
        ns_fd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY)
        sc.setns(ns_fd)
        os.fchdir(root_fd)
    else:
        os.chdir(_mount_stopped(store, container))
    os.chroot(".")
    os.chdir("/")


def fill_volumes(store, container) -> None:
    """Docker's copy-up, at create as dockerd does it: each empty volume the container mounts
    with CopyData is filled with what the container's root has at its destination (owners,
    modes and times kept); the record then says the copy is done (a start does not copy)."""
    points = container.config.get("MountPoints", [])
    if not any(p.get("CopyData") for p in points):
        return
    run_in(store, container, _fill, [p for p in points if p.get("CopyData")], root_only=True)
    store.containers.update_config(container, MountPoints=[{**p, "CopyData": False} for p in points])


def _fill(points: list[dict]) -> None:
    root = os.getcwd()
    for point in points:
        try:
            image_dir = mounting.resolve_in_root(root, point["Destination"])
        except OSError:  # a symlink loop on the way: nothing to copy
            continue
        if os.path.isdir(point["Source"]):
            mounting.copy_up(image_dir, point["Source"])


def _mount_stopped(store, container, root_only: bool = False) -> str:
    """The stopped container's root with its volumes and binds (root_only: without), in a new
    mount namespace."""
    sc.unshare(sc.CLONE_NEWNS)
    sc.mount("none", "/", None, sc.MS_REC | sc.MS_PRIVATE)
    directory = container.dir
    rootfs.prepare_init_layer(directory, container.config["Config"]["Hostname"])
    for sub in ("upper", "work", "merged"):
        (directory / sub).mkdir(exist_ok=True)
    os.chdir(store.images.layers_dir)  # the overlay options name layers relative to it
    merged = str(directory / "merged")
    sc.mount("overlay", merged, "overlay", 0,
             rootfs.overlay_options(store.images.layers_dir, container.config["Layers"], directory / "init",
                                    directory / "upper", directory / "work"))
    if not root_only:
        mounting.apply(merged, [p for p in container.config.get("MountPoints", []) if p["Type"] != "tmpfs"])
    return merged
