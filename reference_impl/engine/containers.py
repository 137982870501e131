"""ContainerService: what `strata run/ps/…` and /containers/… do, once."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import time

from reference_impl import humanize, mountpoints, refs, runtime
from reference_impl.engine import filters as flt
from reference_impl.engine.records.containers import CreateOptions, ExecOptions
from reference_impl.errors import Conflict, EngineError, InvalidArgument, InvalidInput, NotFound
from reference_impl.network.ports import PortMap, split_port_key
from reference_impl.network.settings import network_settings, published_ports
from reference_impl.lifecycle.settings import host_config as lifecycle_host_config, of_record as lifecycle_of
from reference_impl.store import Container, Store

PRUNE_FILTERS = frozenset({"label", "label!", "until"})
_HOST_DEFAULTS = {"LogConfig": {"Type": "json-file", "Config": {}},
                  "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
                  "Binds": None, "Dns": [], "Links": None, "Isolation": ""}
_STOPPED_ENDPOINT = {"IPAMConfig": None, "Links": None, "Aliases": None, "NetworkID": "", "EndpointID": "",
                     "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
                     "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": "", "DriverOpts": None}


class ContainerService:
    def __init__(self, store: Store):
        self.store = store

    def get(self, name: str) -> Container:
        """By name, full id or unique id prefix."""
        return self.store.containers.resolve(name)

    # --- create / start / stop ----------------------------------------------------------

    def create(self, options: CreateOptions, on_pull=None) -> Container:
        """A new container. on_pull(line): pull an image the store lacks, reporting progress
        (the CLI's run and create); without it a missing image is NotFound (the API's create)."""
        if not refs.ID_PREFIX.match(options.image):
            try:
                refs.parse(options.image)
            except InvalidInput:
                raise InvalidInput("invalid reference format") from None
        try:
            return self._create(options)
        except NotFound as exc:
            if on_pull is None or not exc.message.startswith("No such image"):
                raise
        self._pull_for_create(options.image, on_pull)
        return self._create(options)

    def _create(self, o: CreateOptions) -> Container:
        extra = {"confinement": o.host.confinement} if o.host.confinement is not None else {}
        if o.host.storage is not None:
            extra["storage"] = o.host.storage
        return runtime.create(self.store, o.image, name=o.name, cmd=o.cmd, starting=o.starting,
                              entrypoint=o.entrypoint, env=o.env, workdir=o.workdir, user=o.user,
                              tty=o.tty, stdin_open=o.stdin_open, auto_remove=o.host.auto_remove,
                              labels=o.labels, exposed=o.exposed, port_bindings=o.host.port_bindings,
                              publish_all=o.host.publish_all, networking=o.networking, lifecycle=o.lifecycle,
                              **extra)

    def _pull_for_create(self, name: str, on_pull) -> None:
        from reference_impl import distribution
        ref = refs.parse_tagged(name)
        on_pull(f"Unable to find image '{ref}' locally")
        if ref.domain is None:
            raise EngineError(f"pull access denied for {ref.name}, repository does not exist or may require "
                              "'docker login': denied: requested access to the resource is denied")
        distribution.pull(self.store, str(ref), on_pull)

    def start(self, name: str, attach: bool = False, stdin: bool = False, on_started=None,
              detach_keys: bytes = b"") -> int | None:
        """Detached: returns once the process runs. Attached to this process's stdio: its exit
        code, or None when the detach keys were typed on its TTY (it runs on)."""
        container = self.get(name)
        return runtime.start(self.store, container, attach=attach, stdin=stdin, on_started=on_started,
                             detach_keys=detach_keys)

    def stop(self, name: str, timeout: float | None = None) -> bool:
        """False when it was not running (the API's 304)."""
        container = self.get(name)
        if not container.running:
            if runtime.shim_gone(container):
                return False
            # its shim is still there: between two runs of a restart policy (the state says
            # "exited" for a moment before "restarting"), or finishing the last run — either
            # way no next run
            runtime.stop(self.store, container, timeout)
            policy = (container.config["HostConfig"].get("RestartPolicy") or {}).get("Name") or "no"
            return container.state.get("Status") == "restarting" or policy != "no"
        runtime.stop(self.store, container, timeout)
        return True

    def restart(self, name: str, timeout: float | None = None) -> None:
        container = self.get(name)
        runtime.stop(self.store, container, timeout)
        runtime.start(self.store, self.store.containers.get(container.id))

    def kill(self, name: str, signal_name: str = "KILL") -> None:
        """Send a signal; for SIGKILL, return once the exit is recorded (as dockerd does)."""
        sig = signal_number(signal_name)
        container = self.get(name)
        runtime.kill(container, sig, name)
        if sig == signal.SIGKILL:
            runtime.wait(self.store, container)

    # --- pause / unpause / rename (lifecycle/) -------------------------------------------------

    def pause(self, name: str) -> None:
        from reference_impl.lifecycle import health, pause
        container = self.get(name)
        if not container.running:
            raise Conflict(f"Container {container.id} is not running")
        if pause.is_paused(container.id):
            raise Conflict(f"Container {container.id} is already paused")
        pause.freeze(container.id)
        health.mark_unhealthy(container.dir)  # dockerd stops the monitor of a paused container

    def unpause(self, name: str) -> None:
        from reference_impl.lifecycle import pause
        container = self.get(name)
        if not container.running or not pause.is_paused(container.id):
            raise Conflict(f"Container {container.id} is not paused")
        pause.thaw(container.id)

    def rename(self, name: str, new_name: str) -> None:
        if not new_name or not runtime.refs_valid_name(new_name):
            raise InvalidArgument(f"Invalid container name ({new_name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                                  "are allowed")
        new_name = new_name.lstrip("/")
        with self.store.lock():
            container = self.get(name)
            if container.name == new_name:
                raise InvalidArgument("Renaming a container with the same name as its current name")
            self.store.containers.rename(container, new_name)

    def update(self, name: str, restart=None, resources: dict | None = None) -> None:
        """`update`: a restart policy (it counts from the next exit of a shim started after
        it) and resource limits (HostConfig's Memory, MemorySwap, NanoCpus, CpuShares,
        CpusetCpus, PidsLimit: written to a running container's cgroups at once)."""
        from reference_impl.confinement import cgroups
        from reference_impl.confinement.settings import SettingsError, updated_host_config
        with self.store.lock():
            container = self.get(name)
            if resources:
                try:
                    host, settings = updated_host_config(container.config["HostConfig"], resources, container.id)
                    if container.running:
                        cgroups.update(container.id, settings)
                except (SettingsError, cgroups.CgroupError) as exc:
                    raise InvalidArgument(str(exc)) from None
                self.store.containers.update_config(container, HostConfig=host)
            if restart is not None:
                restart.check()
                if container.config["HostConfig"].get("AutoRemove") and restart.name not in ("", "no"):
                    raise InvalidArgument("Restart policy cannot be updated because AutoRemove is enabled "
                                          "for the container")
                self.store.containers.update_config(container, HostConfig={
                    **container.config["HostConfig"], "RestartPolicy": restart.to_json()})

    def attach(self, name: str, stdin: bool, stdout: bool, stderr: bool):
        """A socket on a running container's stdio, served by its shim (lifecycle/attach_point.py):
        output frames from it, stdin bytes into it (taken only when the container has -i)."""
        from reference_impl.lifecycle import attach_point, pause
        container = self.get(name)
        if container.running and pause.is_paused(container.id):
            raise Conflict(f"container {name} is paused, unpause the container before attach")
        if not container.running:
            raise Conflict(f"container {name} is not running")
        open_stdin = bool(container.config["Config"].get("OpenStdin"))
        try:
            return attach_point.connect(container.dir, stdin and open_stdin, stdout, stderr)
        except ConnectionError:
            raise Conflict(f"container {name} is not running") from None

    def wait(self, name: str) -> int:
        return self.wait_for(self.get(name))

    def wait_for(self, container: Container) -> int:
        """Its exit code, once recorded (also when it was removed meanwhile, as --rm does)."""
        return runtime.wait(self.store, container)

    def finished(self, container: Container) -> bool:
        """Not running, and its shim has recorded the exit."""
        return not container.running and runtime.shim_gone(container)

    def remove(self, name: str, force: bool = False, volumes: bool = False) -> None:
        """volumes: its anonymous volumes go too (rm -v)."""
        runtime.remove(self.store, self.get(name), force, volumes=volumes)

    def prune(self, filters: flt.Filters) -> PruneReport:
        from reference_impl.engine.records.prune import PruneReport
        flt.check_keys(filters, PRUNE_FILTERS)
        cutoff = flt.until(filters["until"][-1]) if filters.get("until") else None
        removed = []
        for container in self.store.containers.all():
            if container.counts_as_running or container.starting:
                continue
            if "label" in filters and not flt.labels_match(_labels(container), filters["label"]):
                continue
            if "label!" in filters and not flt.labels_unmatched(_labels(container), filters["label!"]):
                continue
            if cutoff is not None and humanize.parse_rfc3339(container.config.get("Created", "")) >= cutoff:
                continue
            runtime.remove(self.store, container)
            removed.append(container.id)
        return PruneReport(deleted=removed, space_reclaimed=0)

    # --- list / inspect -----------------------------------------------------------------

    def list(self, options: ContainerListOptions) -> list[ContainerSummary]:
        """Newest first; running ones only, unless `all`, a limit or a status filter."""
        from reference_impl.engine.ps_filters import Matcher
        matcher = Matcher(self.store, options.filters)
        show_stopped = options.all or options.limit > 0 or matcher.shows_stopped
        found = []
        for container in self.store.containers.all():
            if not show_stopped and not container.counts_as_running:
                continue
            summary = self.summary(container)
            if matcher.matches(container, summary):
                found.append(summary)
        found = found[:options.limit] if options.limit > 0 else found
        return [self._sized(summary) for summary in found] if options.size else found

    def _sized(self, summary: ContainerSummary) -> ContainerSummary:
        try:
            rw, root_fs = self.sizes(self.store.containers.get(summary.id))
        except NotFound:  # removed since it was listed: nothing of its own left
            rw, root_fs = 0, 0
        return dataclasses.replace(summary, size_rw=rw, size_root_fs=root_fs)

    def sizes(self, container: Container) -> tuple[int, int]:
        """(bytes of its own layer, with its image's), as dockerd's SizeRw and SizeRootFs."""
        from reference_impl.fsutil import bytes_under
        from reference_impl.images import size_of
        own = bytes_under(container.upper)
        try:
            image = self.store.images.get(container.config.get("Image", ""))
        except NotFound:  # removed by force: only its layer is left to count
            return own, own
        return own, own + size_of(self.store, image)

    def summary(self, container: Container) -> ContainerSummary:
        from reference_impl.engine.records.container_views import ContainerSummary  # not at the top: run needs none of them
        life = _life_state(container)
        published = published_ports(container, life["Running"])
        settings = network_settings(container, life["Running"])
        config = container.config
        return ContainerSummary(
            id=container.id, names=[container.name], image=config.get("ImageName", ""),
            image_id=config.get("Image", ""), command=" ".join([config["Path"], *config["Args"]]),
            created=humanize.parse_rfc3339(config.get("Created", "")), created_at=config.get("Created", ""),
            ports=_port_mappings(published), published=published, labels=_labels(container),
            state=life["Status"], status=_status_text(container, life),
            networks=settings["Networks"] or {"bridge": dict(_STOPPED_ENDPOINT)})

    def inspect(self, name: str, size: bool = False) -> dict:
        """Docker's container inspect document (with SizeRw and SizeRootFs when `size`)."""
        container = self.get(name)
        state = container.state
        config = container.config
        host = config["HostConfig"]
        life = _life_state(container)
        running = life["Running"]
        return {
            "Id": container.id,
            "Created": config.get("Created", ""),
            "Path": config["Path"],
            "Args": config["Args"],
            "State": {"Status": life["Status"], "Running": running or life["Restarting"],
                      "Paused": life["Paused"], "Restarting": life["Restarting"],
                      "OOMKilled": bool(state.get("OOMKilled")),
                      "Dead": False,
                      "Pid": state.get("Pid", 0) if running else 0,
                      "ExitCode": state.get("ExitCode", 0), "Error": state.get("Error", ""),
                      "StartedAt": state.get("StartedAt") or "0001-01-01T00:00:00Z",
                      "FinishedAt": state.get("FinishedAt") or "0001-01-01T00:00:00Z",
                      **({"Health": life["Health"]} if life["Health"] is not None else {})},
            "Image": config["Image"],
            "ResolvConfPath": str(container.dir / "resolv.conf"),
            "HostnamePath": str(container.dir / "hostname"),
            "HostsPath": str(container.dir / "hosts"),
            "LogPath": str(container.log_path) if lifecycle_of(config).log_config.driver != "none" else "",
            "Name": "/" + container.name,
            "RestartCount": state.get("RestartCount", 0),
            "Driver": "overlay2",
            "Platform": "linux",
            "HostConfig": {**_HOST_DEFAULTS,
                           "AutoRemove": host.get("AutoRemove", False),
                           "PortBindings": host.get("PortBindings") or {},
                           "PublishAllPorts": host.get("PublishAllPorts", False),
                           "NetworkMode": host.get("NetworkMode", "default"),
                           **{k: host[k] for k in ("ExtraHosts", "Dns", "DnsSearch", "DnsOptions", "Links")
                              if k in host},
                           **runtime.settings_of(container).host_config(),
                           **mountpoints.host_config(config),
                           **lifecycle_host_config(lifecycle_of(config))},
            "GraphDriver": {"Data": {"UpperDir": str(container.upper), "WorkDir": str(container.dir / "work"),
                                     "MergedDir": str(container.dir / "merged")}, "Name": "overlay2"},
            **(dict(zip(("SizeRw", "SizeRootFs"), self.sizes(container))) if size else {}),
            "Mounts": mountpoints.shown(config),
            "Config": config["Config"],
            "NetworkSettings": network_settings(container, running),
            "ExecIDs": None,
        }

    def ports(self, name: str) -> PortMap:
        """The published ports: {"80/tcp": [PortBinding], …} (None: exposed only)."""
        return published_ports(self.get(name))

    # --- logs / top / diff / exec -------------------------------------------------------

    def logs(self, container_id: str, position=0) -> tuple[list[LogRecord], object]:
        """The complete log records from `position` on (0: the start; else what the last call
        returned), and the position after them. The old files of a rotated log come first; a
        file rotated away since the last call is read to its end before the newer ones."""
        from reference_impl.lifecycle import logconfig
        from reference_impl.engine.records.container_views import LogRecord
        container = self.store.containers.get(container_id)
        config = logconfig.of_record(container.config)
        if config.driver == "none":
            raise logconfig.NoReading("configured logging driver does not support reading")
        current = container.log_path
        older = logconfig.rotated(current, config.rotation()[1])
        inode, offset = position if position else (None, 0)
        files = [*older, current]
        if inode is not None:
            inodes = [_inode(p) for p in files]
            files = files[inodes.index(inode):] if inode in inodes else files
        chunks = []   # (file, where the read started, what it read)
        for index, path in enumerate(files):
            begin = offset if index == 0 and inode is not None and _inode(path) == inode else 0
            try:
                with open(path, "rb") as f:
                    f.seek(begin)
                    chunks.append((path, begin, f.read()))
            except FileNotFoundError:
                continue
        data = b"".join(chunk for _, _, chunk in chunks)
        complete = data[:data.rfind(b"\n") + 1]
        records = []
        for line in complete.splitlines():
            if line.strip():
                raw = json.loads(line)
                records.append(LogRecord(stream=raw["stream"], time=raw["time"], text=raw["log"]))
        after, remaining = position, len(complete)
        for path, begin, chunk in chunks:   # where the complete records end
            taken = min(len(chunk), remaining)
            remaining -= taken
            after = (_inode(path), begin + taken)
        return records, after

    def follow_logs(self, name: str, options: LogOptions, poll: float = 0.05):
        """The log records options ask for; with `follow`, the new ones until the container's
        exit is recorded."""
        from reference_impl.lifecycle import logtimes
        container = self.get(name)
        follow = options.follow
        records, position = self.logs(container.id, 0)
        if options.tail is not None:
            records = records[-options.tail:] if options.tail else []
        while True:
            yield from logtimes.wanted(records, options.since, options.until)
            if not follow:
                return
            try:
                done = self.finished(self.store.containers.get(container.id))
                records, position = self.logs(container.id, position)
            except NotFound:
                return
            if done:
                yield from logtimes.wanted(records, options.since, options.until)
                return
            if not records:
                time.sleep(poll)

    def top(self, name: str, ps_args: list[str] | None = None) -> TopResult:
        import subprocess
        from reference_impl.engine.records.container_views import TopResult
        container = self.get(name)
        if not container.running:
            raise Conflict(f"Container {container.id} is not running")
        pids = set(runtime.processes_of(container))
        out = subprocess.run(["ps", *(ps_args or ["-ef"])], capture_output=True, text=True)
        if out.returncode != 0:
            raise EngineError(f"ps: {out.stderr.strip()}")
        lines = out.stdout.splitlines()
        header = lines[0].split()
        if "PID" not in header:
            raise EngineError("Couldn't find PID field in ps output")
        column = header.index("PID")
        rows = [line.split(None, len(header) - 1) for line in lines[1:] if int(line.split()[column]) in pids]
        return TopResult(titles=header, processes=rows)

    def stats(self, name: str) -> dict:
        """One reading of its resource usage (engine/container_stats.py; pair two with
        container_stats.paired for CPU %)."""
        from reference_impl.engine import container_stats
        return container_stats.reading(self.get(name))

    def diff(self, name: str) -> list[Change]:
        from reference_impl import layers
        from reference_impl.engine.records.container_views import Change
        container = self.get(name)
        lowers = [self.store.images.layer_diff_dir(d) for d in reversed(container.config["Layers"])]
        return [Change(kind, path) for kind, path in layers.changes(container.upper, lowers)]

    def exec(self, options: ExecOptions) -> int | None:
        """Run a command in a running container, on this process's stdio; its exit code (None:
        detached from its terminal with the detach keys, it runs on)."""
        container = self.get(options.container)
        if not options.argv:
            raise InvalidInput("exec requires at least 2 arguments")
        from reference_impl.lifecycle import pause
        if container.running and pause.is_paused(container.id):
            raise Conflict(f"Container {options.container} is paused, unpause the container before exec")
        return runtime.exec_in(container, options.argv, env=options.env, workdir=options.workdir,
                               user=options.user, tty=options.tty, detach=options.detach,
                               interactive=options.interactive, resizes=options.resizes,
                               detach_keys=options.detach_keys)

    def resize(self, name: str, rows: int, columns: int) -> None:
        """The window size of a running container's terminal; nothing to do without -t (as dockerd)."""
        from reference_impl.lifecycle import attach_point
        container = self.get(name)
        if not container.running:
            raise Conflict(f"Container {container.id} is not running")
        if not container.config["Config"].get("Tty"):
            return
        try:
            attach_point.resize(container.dir, rows, columns)
        except ConnectionError:
            raise Conflict(f"Container {container.id} is not running") from None


def signal_number(name: str) -> int:
    """"KILL", "SIGKILL" or "9" -> 9; an unknown name is refused in dockerd's words."""
    return runtime.signal_number(name)


def _inode(path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def _labels(container: Container) -> dict:
    return container.config["Config"].get("Labels") or {}


def _port_mappings(published: PortMap) -> list[PortMapping]:
    from reference_impl.engine.records.container_views import PortMapping
    found = []
    for key, frontends in published.items():
        number, proto = split_port_key(key)
        if not frontends:
            found.append(PortMapping(private_port=number, type=proto))
        for b in frontends or []:
            found.append(PortMapping(private_port=number, type=proto, ip=b.host_ip,
                                     public_port=int(b.host_port or 0)))
    return found


def _life_state(container: Container) -> dict:
    """Status, Paused, Restarting and Health as inspect shows them (lifecycle/)."""
    from reference_impl.lifecycle import health, pause
    running = container.running
    paused = running and pause.is_paused(container.id)
    restarting = container.restarting
    status = "paused" if paused else "running" if running else "restarting" if restarting else container.status
    if status == "restarting" and not restarting:
        status = "exited"
    report = health.read(container.dir) if container.config["Config"].get("Healthcheck") else None
    return {"Status": status, "Running": running, "Paused": paused, "Restarting": restarting, "Health": report}


def _status_text(container: Container, life: dict) -> str:
    """`ps`'s STATUS, from the container's _life_state (each field read once: a read of /proc
    or the cgroup per field, for every container listed)."""
    state = container.state
    if life["Running"]:
        text = "Up " + humanize.duration(time.time() - humanize.parse_rfc3339(state.get("StartedAt", "")))
        if life["Paused"]:
            return text + " (Paused)"
        if life["Health"] is not None:
            health = life["Health"]["Status"]
            return text + (" (health: starting)" if health == "starting" else f" ({health})")
        return text
    finished = state.get("FinishedAt", "")
    if life["Restarting"] and finished:
        return f"Restarting ({state.get('ExitCode', 0)}) {humanize.ago(finished)}"
    if container.status == "exited" and finished and not finished.startswith("0001"):
        return f"Exited ({state.get('ExitCode', 0)}) {humanize.ago(finished)}"
    return "Created"
