"""A container's root filesystem: overlayfs of its image's layers and its own, plus
/proc, a minimal /dev and /sys — set up inside the container's new mount namespace,
so nothing of it is ever visible (or left behind) on the host.

Like Docker, each container has an *init* layer between the image and its own
layer: the mount points (/proc, /sys, /dev …) and the files the engine provides
(/etc/hostname, /etc/hosts, /etc/resolv.conf, /.dockerenv). It is a lower layer,
so the container's diff never shows them.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from reference_impl import syscalls as sc

INIT_DIRS = ["proc", "sys", "dev", "dev/pts", "dev/shm", "etc"]
INIT_FILES = ["etc/hostname", "etc/hosts", "etc/resolv.conf", ".dockerenv"]
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8),
           "urandom": (1, 9), "tty": (5, 0)}


def prepare_init_layer(container_dir: Path, hostname: str) -> Path:
    """Create (once) the container's init layer and its hostname/hosts/resolv.conf files."""
    init = container_dir / "init"
    if not init.exists():
        staging = container_dir / "init.partial"
        for d in INIT_DIRS:
            (staging / d).mkdir(parents=True, exist_ok=True)
        for f in INIT_FILES:
            (staging / f).touch()
        os.rename(staging, init)
    (container_dir / "hostname").write_text(hostname + "\n")
    (container_dir / "hosts").write_text(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        f"127.0.1.1\t{hostname}\n")
    try:
        resolv = Path("/etc/resolv.conf").read_text()
    except OSError:
        resolv = ""
    (container_dir / "resolv.conf").write_text(resolv)
    return init


def overlay_options(layers_dir: Path, diff_ids: list[str], init: Path, upper: Path, work: Path) -> str:
    # lowerdir lists the top layer first; paths relative to layers_dir keep the option short
    lowers = [str(init)] + [f"{d.removeprefix('sha256:')}/diff" for d in reversed(diff_ids)]
    return f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={work}"


def mount_rootfs(layers_dir: Path, diff_ids: list[str], container_dir: Path, privileged: bool = False, cgroups: list[Path] = (), nodev: bool = False,
                 mounts: list[dict] = ()) -> Path:
    """In the container's mount namespace: mount its root and enter it (pivot_root).
    Privileged: every device of the host in /dev, and /sys read-write. `cgroups`: the
    container's own groups, shown at /sys/fs/cgroup. `nodev`: no device node the
    container makes can be opened (where no devices cgroup refuses them: cgroup v2);
    the root and /dev are nodev, /dev's devices are bound in from a mount that is not."""
    sc.mount("none", "/", None, sc.MS_REC | sc.MS_PRIVATE)
    merged = container_dir / "merged"
    merged.mkdir(exist_ok=True)
    os.chdir(layers_dir)
    no_devices = sc.MS_NODEV if nodev else 0
    sc.mount("overlay", str(merged), "overlay", no_devices,
             overlay_options(layers_dir, diff_ids, container_dir / "init",
                             container_dir / "upper", container_dir / "work"))
    root = str(merged)
    for name in ("hostname", "hosts", "resolv.conf"):
        sc.mount(str(container_dir / name), f"{root}/etc/{name}", None, sc.MS_BIND)
    sc.mount("proc", f"{root}/proc", "proc", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
    sc.mount("tmpfs", f"{root}/dev", "tmpfs", sc.MS_NOSUID | no_devices, "mode=755,size=65536k")
    nodes = f"{root}/dev"
    if nodev:  # made on a mount of their own (left behind with the old root), bound in
        nodes = str(container_dir / "devices")
        os.makedirs(nodes, exist_ok=True)
        sc.mount("tmpfs", nodes, "tmpfs", sc.MS_NOSUID, "mode=755,size=64k")
    for name, (major, minor) in DEVICES.items():
        os.mknod(f"{nodes}/{name}", stat.S_IFCHR | 0o666, os.makedev(major, minor))
        os.chmod(f"{nodes}/{name}", 0o666)
        if nodev:
            open(f"{root}/dev/{name}", "w").close()
            sc.mount(f"{nodes}/{name}", f"{root}/dev/{name}", None, sc.MS_BIND)
    if privileged:
        _copy_host_devices(f"{root}/dev")
    for d in ("pts", "shm", "mqueue"):
        os.mkdir(f"{root}/dev/{d}")
    # a devpts of its own: its terminals (lifecycle/terminal.py) and none of the host's,
    # of the tty group, as runc's
    sc.mount("devpts", f"{root}/dev/pts", "devpts", sc.MS_NOSUID | sc.MS_NOEXEC,
             "newinstance,ptmxmode=0666,mode=0620,gid=5")
    sc.mount("shm", f"{root}/dev/shm", "tmpfs", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC, "mode=1777,size=65536k")
    # the IPC namespace's POSIX message queues, as runc mounts them (this process is in it)
    sc.mount("mqueue", f"{root}/dev/mqueue", "mqueue", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
    for link, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                         ("ptmx", "pts/ptmx")):
        os.symlink(target, f"{root}/dev/{link}")
    sc.mount("sysfs", f"{root}/sys", "sysfs",
             (0 if privileged else sc.MS_RDONLY) | sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
    if cgroups:
        from reference_impl.confinement.cgroups import mount_view
        mount_view(root, list(cgroups))
    if mounts:  # volumes, binds, tmpfs (mounting.py), while the host's paths are in view
        from reference_impl import mounting
        mounting.apply(root, list(mounts))
    os.chdir(root)
    sc.pivot_root(".", ".")
    sc.umount2(".", sc.MNT_DETACH)
    os.chdir("/")
    return merged


def _copy_host_devices(dev: str) -> None:
    for entry in os.scandir("/dev"):
        if entry.name == "ptmx" or os.path.lexists(f"{dev}/{entry.name}"):
            continue  # /dev/ptmx is the devpts instance's, a link made below
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
                os.mknod(f"{dev}/{entry.name}", info.st_mode, info.st_rdev)
        except FileNotFoundError:  # a device that went away meanwhile (a VM's tap, a loop device)
            continue
