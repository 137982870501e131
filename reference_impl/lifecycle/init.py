"""--init: Debian's tini (static, so any image can run it) at /sbin/docker-init, run as PID 1
with the command after `--`, as Docker runs its docker-init. tini reaps zombies and
forwards signals to the command.

The binary is linked (or copied, across filesystems) into the container's init layer,
which Docker too keeps apart from the image's layers and from the container's changes:
a bind mount from the host cannot be made once the container's root is entered."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

BINARY = Path("/usr/bin/tini-static")
MOUNT_POINT = "/sbin/docker-init"


def install(container_dir: Path) -> None:
    """Before the container's root is mounted: the init in its init layer."""
    target = Path(container_dir) / "init" / MOUNT_POINT.lstrip("/")
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".docker-init.{os.getpid()}")
    try:
        os.link(BINARY, partial)
    except FileNotFoundError:
        raise FileNotFoundError(f'exec: "docker-init": executable file not found in $PATH ({BINARY} is '
                                "not installed)") from None
    except OSError:
        shutil.copy2(BINARY, partial)
    os.replace(partial, target)


def argv(command: list[str]) -> list[str]:
    return [MOUNT_POINT, "--", *command]
