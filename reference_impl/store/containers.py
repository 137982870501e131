"""Container records under <root>/containers/<id>/ and names under <root>/names/.

    config.json   what the container is (image, layers, command, env, ports …)
    state.json    what it is doing (written by its shim): status, pid, exit code
    upper/ work/  its overlayfs read-write layer
    log.json      its output, one JSON object a line ({"stream", "log", "time"})

A name is a symlink names/<name> -> <id>: creating it is atomic, so two `run
--name x` at once cannot both win.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from reference_impl import humanize
from reference_impl.ownership import process_alive
from reference_impl.errors import Conflict, NotFound
from reference_impl.fsutil import read_json, write_json
from reference_impl.ownership import staging_prefix


@dataclass
class Container:
    id: str
    dir: Path
    config: dict
    state: dict

    @property
    def name(self) -> str:
        return self.config["Name"]

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.state.get("Status") == "running" and process_alive(self.state.get("Pid", 0))

    @property
    def restarting(self) -> bool:
        """Between two runs of its restart policy: no process, its shim waiting out the back-off."""
        return self.state.get("Status") == "restarting" and process_alive(self.state.get("ShimPid", 0))

    @property
    def counts_as_running(self) -> bool:
        """Docker's State.Running: a process runs, or its restart policy will run one (ps
        lists it, rm and prune leave it alone), or its process has just ended and its shim
        has not yet recorded what follows (an exit, or the back-off of its policy)."""
        return self.running or self.restarting or self.exit_pending

    @property
    def exit_pending(self) -> bool:
        return (self.state.get("Status") == "running" and not process_alive(self.state.get("Pid", 0))
                and process_alive(self.state.get("ShimPid", 0)))

    @property
    def starting(self) -> bool:
        """Created by a command that is starting it right now (not yet up, not stopped)."""
        return self.state.get("Status") == "created" and process_alive(self.state.get("StartingPid", 0))

    @property
    def status(self) -> str:
        status = self.state.get("Status", "created")
        if status == "running" and not self.running:
            return "exited"
        return status

    @property
    def upper(self) -> Path:
        return self.dir / "upper"

    @property
    def log_path(self) -> Path:
        return self.dir / "log.json"


SHIM_DIED = "the container's shim died: its process was killed"


def _shim_died(state: dict) -> bool:
    return state.get("Status") in ("running", "restarting") and bool(state.get("ShimPid")) and not process_alive(state["ShimPid"])


def _in_own_pid_namespace(pid: int) -> bool:
    """Whether pid is a container's PID 1 (not a host process that reused the number)."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
    except OSError:
        return False


def name_entry(name: str) -> str:
    """The entry of names/ for a container name: the name itself, or for one too long to be
    a file name (Docker takes any length) a digest of it."""
    if len(name.encode()) <= 200:
        return name
    return "~" + hashlib.sha256(name.encode()).hexdigest()


class ContainerStore:
    def __init__(self, root: Path):
        self.dir = root / "containers"
        self.names = root / "names"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.names.mkdir(parents=True, exist_ok=True)

    def new_id(self) -> str:
        while True:
            cid = secrets.token_hex(32)
            if not cid[:12].isdigit() and not (self.dir / cid).exists():
                return cid

    def create(self, config: dict, starting_pid: int = 0) -> Container:
        """Make a container visible all at once (caller holds the store lock): its directory
        is prepared aside, the name is claimed, then the directory is renamed into place.
        A crash in between leaves only a name pointing nowhere, which counts as free."""
        cid, name = config["Id"], config["Name"]
        staging = self.dir / f".partial-{cid}"
        for sub in ("upper", "work"):
            (staging / sub).mkdir(parents=True)
        write_json(staging / "state.json", {"Status": "created", "Pid": 0, "ExitCode": 0,
                                            "StartedAt": "", "FinishedAt": "",
                                            "StartingPid": starting_pid}, durable=False)
        write_json(staging / "config.json", config)
        link = self.names / name_entry(name)
        if os.path.islink(link):
            owner = os.readlink(link)
            if (self.dir / owner / "config.json").exists():
                shutil.rmtree(staging, ignore_errors=True)
                raise Conflict(f'Conflict. The container name "/{name}" is already in use by container '
                               f'"{owner}". You have to remove (or rename) that container to be able to '
                               f"reuse that name.")
        claim = self.names / f".{name_entry(name)}.{cid[:12]}"
        os.symlink(cid, claim)
        os.replace(claim, link)
        os.rename(staging, self.dir / cid)
        return self.get(cid)

    def get(self, cid: str) -> Container:
        directory = self.dir / cid
        config = read_json(directory / "config.json")
        if config is None:
            raise NotFound(f"No such container: {cid}")
        container = Container(cid, directory, config, read_json(directory / "state.json", {}))
        if _shim_died(container.state):
            self._record_shim_death(container)
        return container

    def _record_shim_death(self, container: Container) -> None:
        """A running container whose shim was killed: nobody would ever record its exit, and
        its process would run on unreachable. Kill the process (its namespace and eth0 go
        with it) and record it as killed, 137, with the reason in State.Error."""
        pid = container.state.get("Pid", 0)
        if process_alive(pid) and _in_own_pid_namespace(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.set_state(container, Status="exited", ExitCode=137, Pid=0, Error=SHIM_DIED,
                       FinishedAt=humanize.now_rfc3339())

    def ids(self) -> list[str]:
        return [d.name for d in self.dir.iterdir()
                if not d.name.startswith(".") and (d / "config.json").exists()]

    def all(self) -> list[Container]:
        found = []
        for cid in self.ids():
            try:
                found.append(self.get(cid))
            except NotFound:
                continue
        return sorted(found, key=lambda c: c.config.get("CreatedNs", 0), reverse=True)

    def resolve(self, text: str) -> Container:
        """A name, full id or unique id prefix (Docker's order: full id, name, prefix)."""
        if len(text) == 64 and text.isalnum() and (self.dir / text / "config.json").exists():
            return self.get(text)
        link = self.names / name_entry(text.lstrip("/"))
        if "/" not in text.lstrip("/") and not text.startswith(".") and os.path.islink(link) \
                and (self.dir / os.readlink(link) / "config.json").exists():
            return self.get(os.readlink(link))
        matches = [cid for cid in self.ids() if cid.startswith(text)] if text else []
        if len(matches) == 1:
            return self.get(matches[0])
        if len(matches) > 1:
            raise NotFound(f"Multiple IDs found with provided prefix: {text}")
        raise NotFound(f"No such container: {text}")

    def set_state(self, container: Container, **values) -> None:
        state = read_json(container.dir / "state.json", {})
        state.update(values)
        container.state = state
        if not container.dir.is_dir():
            return  # removed meanwhile (rm -f, a killed build's container reclaimed)
        try:
            write_json(container.dir / "state.json", state, durable=False, staging=container.dir,
                       staging_prefix=".state.json.")
        except FileNotFoundError:
            pass

    def rename(self, container: Container, new_name: str) -> None:
        """Give the container another name (caller holds the store lock); the old one is free."""
        link = self.names / name_entry(new_name)
        if os.path.islink(link):
            owner = os.readlink(link)
            if (self.dir / owner / "config.json").exists():
                raise Conflict(f'Error when allocating new name: Conflict. The container name "/{new_name}" is '
                               f'already in use by container "{owner}". You have to remove (or rename) that '
                               "container to be able to reuse that name.")
        claim = self.names / f".{name_entry(new_name)}.{container.id[:12]}"
        os.symlink(container.id, claim)
        os.replace(claim, link)
        old = self.names / name_entry(container.name)
        container.config = {**container.config, "Name": new_name}
        write_json(container.dir / "config.json", container.config)
        if os.path.islink(old) and os.readlink(old) == container.id:
            os.unlink(old)

    def update_config(self, container: Container, **fields) -> None:
        """Replace top-level fields of the container's record (caller holds the store lock)."""
        container.config = {**container.config, **fields}
        write_json(container.dir / "config.json", container.config)

    def remove(self, container: Container) -> None:
        trash = self.detach(container)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)

    def detach(self, container: Container) -> Path | None:
        """Take the container out of the store at once (caller holds the store lock): its
        name freed, its directory moved to the store's tmp/ as this process's scratch entry.
        Returns that entry for the caller to delete (a leftover if the caller dies first),
        None when it was removed already (--rm racing rm -f)."""
        link = self.names / name_entry(container.name)
        if os.path.islink(link) and os.readlink(link) == container.id:
            os.unlink(link)
        tmp = self.dir.parent / "tmp"
        tmp.mkdir(exist_ok=True)
        trash = tmp / f"{staging_prefix('gone-')}{container.id}-{time.monotonic_ns()}"
        try:
            os.rename(container.dir, trash)
        except FileNotFoundError:
            return None
        return trash

    def layers_in_use(self) -> set[str]:
        used: set[str] = set()
        for container in self.all():
            used.update(container.config.get("Layers", []))
        return used
