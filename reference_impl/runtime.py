"""Container lifecycle: create, start (through the shim), stop, kill, wait, remove, exec, top."""
from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from reference_impl import container_fs, humanize, images, mountpoints, network, rootfs, shim
from reference_impl.lifecycle import logconfig
from reference_impl.network import legacy_links
from reference_impl.ownership import process_alive
from reference_impl.network import modes as network_modes
from reference_impl.network.ports import PortMap, port_map_to_json
from reference_impl import syscalls as sc
from reference_impl.confinement import Confinement, SettingsError, cgroups, lock_down, prepare
from reference_impl.errors import Conflict, ContainerStartError, EngineError, InvalidArgument, InvalidInput, NotFound
from reference_impl.lifecycle import hooks as life_hooks, pause, probe, probe_launcher, signals, terminal, users
from reference_impl.lifecycle.settings import LifecycleOptions, of_record as lifecycle_of
from reference_impl.store import Container, Store, staging

_NAME_ADJ = ["brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry",
             "nifty", "quirky", "sharp", "tender", "vivid", "witty", "zen", "bold", "cool", "daring"]
_NAME_NOUN = ["turing", "hopper", "lovelace", "knuth", "ritchie", "thompson", "torvalds", "babbage",
              "curie", "darwin", "euler", "fermat", "gauss", "hamilton", "kepler", "newton", "pascal",
              "shannon", "tesla", "wozniak"]


def _random_name(container_id: str) -> str:
    n = int(container_id[:8], 16)
    return f"{_NAME_ADJ[n % 20]}_{_NAME_NOUN[(n // 20) % 20]}_{container_id[:6]}"


def create(store: Store, image_text: str, *, name: str | None, cmd: list[str],
           entrypoint: list[str] | None, env: list[str], workdir: str | None, user: str | None,
           tty: bool, stdin_open: bool, auto_remove: bool, labels: dict[str, str],
           exposed: list[str] | None = None, port_bindings: PortMap | None = None,
           starting: bool = False,
           publish_all: bool = False, confinement: Confinement | None = None,
           intermediate: bool = False, storage=None, networking=None,
           lifecycle: LifecycleOptions | None = None) -> Container:
    """intermediate: a build step's container, removed by the next store lock if its builder dies."""
    if workdir and not workdir.startswith("/"):
        raise InvalidArgument(f"the working directory '{workdir}' is invalid, it needs to be an absolute path")
    if name is not None and not refs_valid_name(name):
        raise InvalidInput(f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed')
    lifecycle = lifecycle or LifecycleOptions()
    lifecycle.check(auto_remove)
    with store.lock():
        image_id = store.images.resolve(image_text)
        image = store.images.get(image_id)
        base = copy.deepcopy(image.config.get("config") or {})
        cid = store.containers.new_id()
        config = {**copy.deepcopy(images.EMPTY_CONTAINER_CONFIG), **base}
        config["Hostname"] = cid[:12]
        config["Image"] = image_text
        config["Tty"], config["OpenStdin"], config["StdinOnce"] = tty, stdin_open, stdin_open
        config["AttachStdout"] = config["AttachStderr"] = True
        for item in env:
            key, eq, value = item.partition("=")
            if not eq:
                value = os.environ.get(key)
                if value is None:
                    continue
            images.config_changes.set_env(config, key, value)
        if entrypoint is not None:
            config["Entrypoint"] = entrypoint or None
            if not cmd:
                config["Cmd"] = None
        if cmd:
            config["Cmd"] = cmd
        if workdir:
            config["WorkingDir"] = workdir
        if user is not None:
            config["User"] = user
        config["Labels"] = {**(config.get("Labels") or {}), **labels}
        if exposed:
            ports = dict(config.get("ExposedPorts") or {})
            for p in exposed:
                ports[p if "/" in p else f"{p}/tcp"] = {}
            config["ExposedPorts"] = ports
        argv = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
        if not argv:
            raise InvalidArgument("No command specified")
        record = {
            "Id": cid,
            "Name": name or _random_name(cid),
            "Created": humanize.now_rfc3339(),
            "CreatedNs": time.time_ns(),
            "Image": image_id,
            "ImageName": image_text,
            "Layers": image.diff_ids,
            "Path": argv[0],
            "Args": argv[1:],
            "Config": config,
            "HostConfig": {"AutoRemove": auto_remove, "PortBindings": port_map_to_json(port_bindings or {}),
                           "PublishAllPorts": publish_all,
                           **(confinement or Confinement()).host_config()},
        }
        lifecycle.apply(config, record["HostConfig"])
        if networking is not None:  # --network, --hostname, --add-host, --dns … (network/modes.py)
            network_modes.apply(store.root, record, networking)
        # starting: the caller starts it right away (run, a build's RUN); until its shim
        # reports, prune must not take it for a stopped container
        if not intermediate:  # volumes, binds, tmpfs (a build step's container has none)
            mountpoints.add_to(store.root, record, storage, find_container=store.containers.resolve)
        if intermediate:  # announced before it exists: a kill in between leaves nothing unclaimed
            staging.announce_intermediate(store.root, cid)
        container = store.containers.create(record, starting_pid=os.getpid() if starting else 0)
        container_fs.fill_volumes(store, container)  # dockerd's copy-up happens at create
        return container


def refs_valid_name(name: str) -> bool:
    import re
    return re.fullmatch(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]+", name) is not None


def start(store: Store, container: Container, *, attach: bool = False, stdin: bool = False,
          on_started=None, detach_keys: bytes = b"") -> int | None:
    """Start through a new shim. Attached: wait and return the exit code (None when the
    detach keys were typed on its TTY: it runs on); else return None. on_started() runs
    once the process runs (the API answers /start then, before the exit)."""
    if container.counts_as_running:  # its shim runs it, or will (a restart policy's back-off)
        return None
    if not _exists(store, container):  # removed meanwhile (rm -f, prune)
        raise NotFound(f"No such container: {container.id}")
    rootfs.prepare_init_layer(container.dir, container.config["Config"]["Hostname"])
    for sub in ("upper", "work"):
        (container.dir / sub).mkdir(exist_ok=True)
    link_env, link_hosts = legacy_links.at_start(container.config, store.containers.resolve)
    spec = {"config": _with_link_env(container.config["Config"], link_env),
            "argv": [container.config["Path"], *container.config["Args"]],
            "layers_dir": store.images.layers_dir, "diff_ids": container.config["Layers"],
            "container_dir": container.dir,
            "log_path": container.log_path if logconfig.keeps_logs(container.config) else None,
            "log_rotation": logconfig.of_record(container.config).rotation(),
            "mounts": container.config.get("MountPoints", [])}
    settings = settings_of(container)
    spec["confinement"] = settings
    spec["cgroups"] = _make_cgroups(container, settings)
    spec["seccomp_cache"] = seccomp_cache(container.dir)
    spec["lifecycle"] = lifecycle_of(container.config)
    spec["join_netns"] = network_modes.namespace_of(store.root, container.config)
    try:
        spec["network"] = network.publish(store.root, container)  # binds host ports, or fails here
    except BaseException:
        cgroups.remove(container.id)
        raise
    spec["network"].link_hosts = link_hosts
    tty = bool(spec["config"].get("Tty"))
    stdio = shim.Stdio()
    if attach:
        stdio = shim.Stdio(stdin=os.dup(0) if stdin else None, stdout=os.dup(1),
                           stderr=os.dup(1) if tty else os.dup(2), detach_keys=detach_keys if tty and stdin else b"")
    elif spec["config"].get("OpenStdin"):
        stdio = shim.Stdio(keep_stdin_open=True)
    # an attached -it: this terminal is raw before the shim relays anything to it (as the
    # docker CLI makes it raw before the start): keys typed as soon as output shows go through
    with raw_terminal(attach and tty and stdin):
        return _start_shim(store, container, spec, stdio, attach, tty, on_started)


def _start_shim(store: Store, container: Container, spec: dict, stdio: shim.Stdio, attach: bool,
                tty: bool, on_started) -> int | None:
    status_r, status_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    # One fork (a second one, to leave no child behind, costs a process hand-off on every
    # start): the shim, in a session of its own, outlives its starter and init adopts it; a
    # starter that lives on (a build's RUN steps) keeps its exited shims as zombies until it ends.
    if os.fork() == 0:
        try:
            os.close(status_r)
            os.setsid()
            _shim_process(store, container, spec, status_w, stdio, attach)
        finally:
            os._exit(0)
    os.close(status_w)
    spec["network"].close_sockets()  # the shim has its own copies
    for fd in (stdio.stdin, stdio.stdout, stdio.stderr):
        if fd is not None:
            os.close(fd)
    reader = os.fdopen(status_r, "r")
    line = reader.readline()
    message = json.loads(line) if line else {"error": {"code": 125, "message": "the shim died"}}
    if "error" in message:
        err = message["error"]
        reader.close()
        if err.get("plain"):  # dockerd's own words (an unknown user)
            raise ContainerStartError(err["message"], err["code"])
        raise ContainerStartError(
            "failed to create shim task: OCI runtime create failed: runc create failed: "
            f"unable to start container process: {err['message']}: unknown", err["code"])
    if on_started is not None:
        on_started()
    if not attach:
        reader.close()
        return None
    line = reader.readline()
    reader.close()
    if not line:
        return store.containers.get(container.id).state.get("ExitCode", 0) if _exists(store, container) else 0
    message = json.loads(line)
    return None if message.get("detached") else message.get("exit", 0)


def _with_link_env(config: dict, link_env: list[str]) -> dict:
    """The links' variables first; the container's own of the same name win."""
    if not link_env:
        return config
    own = {e.split("=", 1)[0] for e in config.get("Env") or []}
    return {**config, "Env": [e for e in link_env if e.split("=", 1)[0] not in own] + list(config.get("Env") or [])}


def settings_of(container: Container) -> Confinement:
    """The container's security and resource settings, from its record."""
    try:
        return Confinement.from_host_config(container.config["HostConfig"])
    except SettingsError as exc:
        raise InvalidInput(str(exc)) from None


def seccomp_cache(container_dir: Path) -> Path:
    """Compiled seccomp filters, beside the store's containers."""
    return Path(container_dir).parents[1] / "seccomp"


def _make_cgroups(container: Container, settings: Confinement) -> list:
    try:
        return cgroups.create(container.id, settings)
    except OSError as exc:
        raise ContainerStartError(
            "failed to create shim task: OCI runtime create failed: runc create failed: unable to "
            f"start container process: error during container init: {exc}: unknown") from None


def _exists(store: Store, container: Container) -> bool:
    return (store.containers.dir / container.id / "config.json").exists()


class raw_terminal:
    """The terminal on fd 0 in raw mode while attached to a TTY (restored after)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and os.isatty(0)
        self.saved = None

    def __enter__(self):
        if self.enabled:
            import termios
            import tty
            self.saved = termios.tcgetattr(0)
            tty.setraw(0, termios.TCSANOW)  # pending input is kept (TCSAFLUSH would drop it)

    def __exit__(self, *exc):
        if self.saved is not None:
            import termios
            termios.tcsetattr(0, termios.TCSADRAIN, self.saved)


def _shim_process(store: Store, container: Container, spec: dict, status_w: int,
                  stdio: shim.Stdio, attach: bool) -> None:
    sc.close_inherited_from(3)  # the starter's: its caller's descriptors are no business of the shim's
    devnull = os.open("/dev/null", os.O_RDWR)
    os.dup2(devnull, 0)
    if not attach:
        os.dup2(devnull, 1)
    log = os.open(container.dir / "shim.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 2)

    def on_state(**values):
        store.containers.set_state(container, **values)

    def on_exit(code: int, failed: bool):
        spec["network"].stop()
        if cgroups.oom_killed(container.id):
            try:
                store.containers.set_state(container, OOMKilled=True)
            except OSError:  # removed meanwhile (rm -f)
                pass
        if not container.config["HostConfig"].get("AutoRemove"):
            cgroups.remove(container.id)
            return None
        with store.lock():
            trash = store.containers.detach(container)  # gone from ps -a before the exit is reported
            mountpoints.remove_anonymous(store.root, container.config, others=lambda: _records(store))

        def purge():  # after the report: the container is out of reach already
            cgroups.remove(container.id)
            if trash is not None:
                try:  # as rm(1): the command line this shim inherited (the starter's) goes away
                    os.execv("/bin/rm", ["rm", "-rf", "--", str(trash)])
                except OSError:
                    shutil.rmtree(trash, ignore_errors=True)
        return purge

    probes: list = []  # made in the health monitor's process, at its first probe

    def exec_probe(argv: list[str], timeout: float) -> tuple[int, str]:
        if not probes:
            probes.append(_probes_of(store.containers.get(container.id)))
        return probes[0].run(argv, timeout)

    spec["hooks"] = life_hooks.ShimHooks(container.dir, spec["lifecycle"], on_state, exec_probe)
    shim.run_shim(spec, status_w, stdio, on_state, on_exit)


def wait(store: Store, container: Container, timeout: float | None = None) -> int:
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            current = store.containers.get(container.id)
        except NotFound:
            return container.state.get("ExitCode", 0)
        if not current.running and shim_gone(current):
            return current.state.get("ExitCode", 0)
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def shim_gone(container: Container) -> bool:
    """Whether the container's shim has finished (it writes the final state, then exits)."""
    return not process_alive(container.state.get("ShimPid", 0))


def kill(container: Container, sig: int = signal.SIGKILL, name: str | None = None) -> None:
    """name: as the user gave it (dockerd's words repeat it)."""
    if not container.running:
        raise Conflict(f"Cannot kill container: {name or container.short_id}: Container "
                       f"{container.id} is not running")
    try:
        os.kill(container.state["Pid"], sig)
    except ProcessLookupError:
        pass
    if pause.is_paused(container.id):  # a frozen process takes its signal once thawed
        pause.thaw(container.id)


def stop(store: Store, container: Container, timeout: float | None = None) -> None:
    """timeout None: the container's StopTimeout, or 10 s."""
    life_hooks.request_stop(container.dir)  # its shim must not run it again (restart policy)
    if not container.running:
        if not shim_gone(container):  # between two runs of a restart policy
            wait(store, container)
        return
    if timeout is None:
        configured = container.config["Config"].get("StopTimeout")
        timeout = 10 if configured is None else configured
    stop_signal = signal_number(container.config["Config"].get("StopSignal") or "SIGTERM")
    try:
        os.kill(container.state["Pid"], stop_signal)
        if pause.is_paused(container.id):
            pause.thaw(container.id)
        wait(store, container, timeout)
    except TimeoutError:
        try:
            os.kill(container.state["Pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
        wait(store, container)
    except ProcessLookupError:
        wait(store, container)


def signal_number(name: str) -> int:
    return signals.number(name)


def remove(store: Store, container: Container, force: bool = False, volumes: bool = False) -> None:
    """volumes: its anonymous volumes go too (rm -v)."""
    if container.counts_as_running and not force:
        raise Conflict(f"You cannot remove a running container {container.id}. Stop the container "
                       "before attempting removal or force remove")
    if container.running:
        life_hooks.request_stop(container.dir)
        try:
            os.kill(container.state["Pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
        if pause.is_paused(container.id):
            pause.thaw(container.id)
    elif force:
        life_hooks.request_stop(container.dir)  # between two runs of a restart policy
    wait(store, container)
    cgroups.remove(container.id)
    with store.lock():
        if _exists(store, container):
            store.containers.remove(container)
            if volumes:
                mountpoints.remove_anonymous(store.root, container.config, others=lambda: _records(store))


def _records(store: Store) -> list[dict]:
    return [c.config for c in store.containers.all()]


def processes_of(container: Container) -> list[int]:
    """Host pids of every process in the container's PID namespace."""
    pid = container.state.get("Pid", 0)
    try:
        ns = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return []
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/pid") == ns:
                    found.append(int(entry))
            except OSError:
                continue
    return sorted(found)


def exec_in(container: Container, argv: list[str], *, env: list[str], workdir: str | None,
            user: str | None, tty: bool, detach: bool, interactive: bool = False,
            resizes: int | None = None, detach_keys: bytes = b"") -> int | None:
    """Run a process inside a running container's namespaces and root, on this process's
    stdio (its stdin only when interactive); its exit code (126 and runc's words on stdout
    when it could not start), or None when the detach keys were typed on its terminal (it
    runs on, its terminal held by a process of its own)."""
    if tty and not detach:  # -t's output is a terminal's, made in the container and relayed from here
        console, console_end = socket.socketpair()
        started = start_exec(container, argv, env=env, workdir=workdir, user=user, tty=tty, detach=detach,
                             console_socket=console_end.detach())
        with console:
            master = terminal.receive_master(console)
        if master is not None:
            terminal.copy_size(sys.stdout.fileno(), master)  # the caller's window, when it is on a terminal
            with raw_terminal(interactive):  # keys go to the exec's terminal as typed
                detached = terminal.relay(master, sys.stdout.fileno(), resizes, typed=0 if interactive else None,
                                          detach_keys=detach_keys)
            if detached:
                terminal.hold_master_in_background(master)
                os.close(started.report)  # its waiting process goes on without us
                return None
    elif tty:  # detached: the command still gets a terminal, which nobody reads
        console, console_end = socket.socketpair()
        started = start_exec(container, argv, env=env, workdir=workdir, user=user, tty=tty, detach=detach,
                             console_socket=console_end.detach())
        terminal.hold_in_background(console)
    elif interactive or detach:
        started = start_exec(container, argv, env=env, workdir=workdir, user=user, tty=tty, detach=detach)
    else:  # no input: an empty stdin, as dockerd gives an exec without -i
        devnull = os.open("/dev/null", os.O_RDONLY)
        try:
            started = start_exec(container, argv, env=env, workdir=workdir, user=user, tty=tty, detach=detach,
                                 stdio=(devnull, sys.stdout.fileno(), sys.stderr.fileno()))
        finally:
            os.close(devnull)
    code, failure = started.finish()
    if failure:  # the docker CLI shows it in the exec's output stream: stdout
        print(failure, flush=True)
    return code


@dataclass
class StartedExec:
    pid: int          # the process that joined the namespaces; it waits for the command
    report: int       # pipe: why the command could not start, if it could not

    def finish(self) -> tuple[int, str]:
        """(exit code, runc's words when it could not start)."""
        _, status = os.waitpid(self.pid, 0)
        failure = shim.read_all(self.report)
        os.close(self.report)
        code = os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        if failure:
            report = json.loads(failure)
            return report["code"], _failure_text(report)
        return code, ""

    def abandon(self) -> None:
        """Kill the waiting process (the command runs on, as dockerd's timed-out probes do)."""
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.report)


_EXEC_NAMESPACES = ("ipc", "uts", "net", "pid", "mnt")


def start_exec(container: Container, argv: list[str], *, env: list[str], workdir: str | None,
               user: str | None, tty: bool, detach: bool, console_socket: int | None = None,
               stdio: tuple[int, int, int] | None = None) -> StartedExec:
    """Start argv inside the running container: on a terminal of its own, whose master it
    sends over `console_socket` (a socket, closed here), on `stdio` (fds, left open) or on this
    process's stdio."""
    if not container.running:
        raise Conflict(f"Container {container.id} is not running")
    pid = container.state["Pid"]
    ns_fds = [os.open(f"/proc/{pid}/ns/{ns}", os.O_RDONLY) for ns in _EXEC_NAMESPACES]
    root_fd = os.open(f"/proc/{pid}/root", os.O_RDONLY)
    settings = settings_of(container)
    groups_of_container = [g for g in cgroups.paths(container.id) if g.exists()]
    report_r, report_w = os.pipe2(os.O_CLOEXEC)
    child = os.fork()
    if child == 0:
        try:
            os.close(report_r)
            if stdio is not None:
                for target, fd in enumerate(stdio):
                    os.dup2(fd, target)
            cgroups.join(groups_of_container)  # while the host's files are in view
            locks = prepare(settings, seccomp_cache(container.dir))
            for fd in ns_fds:
                sc.setns(fd)
            grandchild = os.fork()  # the first process in the PID namespace joined
            if grandchild and detach:  # the container's init adopts it; nobody waits here
                os._exit(0)
            if grandchild:
                os.close(report_w)
                if console_socket is not None:  # the caller sees its end if the command's process ends first
                    os.close(console_socket)
                devnull = os.open("/dev/null", os.O_RDWR)  # it only waits: the caller's stdio end with
                for fd in (0, 1, 2):                       # the command's (or the caller, if detached)
                    os.dup2(devnull, fd)
                os.close(devnull)
                _, status = os.waitpid(grandchild, 0)
                os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status)
                         else 128 + os.WTERMSIG(status))
            if detach and console_socket is None:  # (with one, the terminal is its session and stdio)
                os.setsid()
                devnull = os.open("/dev/null", os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
            _become(container, argv, env, workdir, user, tty, root_fd, locks, console_socket)
        except BaseException as exc:  # dockerd's exec failures all end in 126
            _report_failure(report_w, exc)
    os.close(report_w)
    for fd in ns_fds + [root_fd]:
        os.close(fd)
    if console_socket is not None:
        os.close(console_socket)
    return StartedExec(child, report_r)


def _probes_of(container: Container):
    """How the health monitor runs this container's probes: from a launcher confined once,
    or, under a seccomp profile of the user's (which may refuse what the launcher itself
    calls: Docker applies it only to the probe), at one fork each."""
    if not container.running:
        raise Conflict(f"Container {container.id} is not running")
    settings = settings_of(container)
    if settings.custom_seccomp():
        return ProbeExec(container)
    return probe_launcher.Launcher(lambda: _launcher_in_place(container, settings), _explain_failure)


def _launcher_in_place(container: Container, settings: Confinement) -> probe_launcher.Start:
    """In the probe launcher: what an exec's process does before its execve, once; then how
    to start a probe from here (its children are born in the PID namespace)."""
    pid = container.state["Pid"]
    ns_fds = [os.open(f"/proc/{pid}/ns/{ns}", os.O_RDONLY) for ns in _EXEC_NAMESPACES]
    root_fd = os.open(f"/proc/{pid}/root", os.O_RDONLY)
    locks = prepare(settings, seccomp_cache(container.dir))
    cgroups.join([g for g in cgroups.paths(container.id) if g.exists()])  # while the host's files are in view
    for fd in ns_fds:
        sc.setns(fd)
        os.close(fd)
    full_env = _take_place(container, [], None, None, False, root_fd, locks, None)
    os.close(root_fd)
    env = _env_dict(full_env)

    def start(argv: list[str], stdio: tuple[int, int, int]) -> int:
        program = shim.find_program(argv[0], full_env)
        with _exec_failures(argv):
            return probe_launcher.spawn(program, argv, env, stdio)
    return start


class ProbeExec:
    """Health probes, started from the shim's health monitor at one fork each: the monitor
    joins the container's PID namespace once (its children are born in it) and prepares the
    confinement once; each probe joins the cgroups and the other namespaces itself (the
    monitor keeps the host's view, where it records the results)."""

    def __init__(self, container: Container):
        if not container.running:
            raise Conflict(f"Container {container.id} is not running")
        pid = container.state["Pid"]
        self.container = container
        self.ns_fds = [os.open(f"/proc/{pid}/ns/{ns}", os.O_RDONLY) for ns in _EXEC_NAMESPACES if ns != "pid"]
        self.root_fd = os.open(f"/proc/{pid}/root", os.O_RDONLY)
        self.groups = [g for g in cgroups.paths(container.id) if g.exists()]
        self.locks = prepare(settings_of(container), seccomp_cache(container.dir))
        pid_ns = os.open(f"/proc/{pid}/ns/pid", os.O_RDONLY)
        try:
            sc.setns(pid_ns)
        finally:
            os.close(pid_ns)

    def start(self, argv: list[str], stdio: tuple[int, int, int]) -> StartedExec:
        report_r, report_w = os.pipe2(os.O_CLOEXEC)
        child = os.fork()
        if child == 0:
            try:
                os.close(report_r)
                for target, fd in enumerate(stdio):
                    os.dup2(fd, target)
                cgroups.join(self.groups)  # while the host's files are in view
                for fd in self.ns_fds:
                    sc.setns(fd)
                _become(self.container, argv, [], None, None, False, self.root_fd, self.locks, None)
            except BaseException as exc:
                _report_failure(report_w, exc)
        os.close(report_w)
        return StartedExec(child, report_r)

    def run(self, argv: list[str], timeout: float) -> tuple[int, str]:
        return probe.run(lambda stdio: self.start(argv, stdio), timeout)


def _become(container: Container, argv: list[str], env: list[str], workdir: str | None, user: str | None,
            tty: bool, root_fd: int, locks, console_socket: int | None) -> None:
    """In an exec's process, inside the container's namespaces: its root, user, directory,
    environment and confinement, then argv. Returns only by raising."""
    full_env = _take_place(container, env, workdir, user, tty, root_fd, locks, console_socket)
    program = shim.find_program(argv[0], full_env)
    signals.restore_defaults()
    with _exec_failures(argv):
        os.execve(program, argv, _env_dict(full_env))


def _take_place(container: Container, env: list[str], workdir: str | None, user: str | None,
                tty: bool, root_fd: int, locks, console_socket: int | None) -> list[str]:
    """Inside the container's namespaces: take its root, user, directory and confinement;
    the environment an exec's command gets."""
    config = container.config["Config"]
    os.fchdir(root_fd)
    os.chroot(".")
    if console_socket is not None:  # made in the container's devpts, in view now
        master, slave = terminal.open_here()
        terminal.take(slave)
        terminal.send_master(console_socket, master)
        os.close(console_socket)
    uid, gid, groups, home = shim.resolve_user(user if user is not None else config.get("User") or "",
                                               group_add=container.config["HostConfig"].get("GroupAdd") or [])
    cwd = workdir or config.get("WorkingDir") or "/"
    try:
        os.chdir(cwd)
    except OSError as exc:
        raise _ExecFailure(f'chdir to cwd ("{cwd}") set in config.json failed: '
                           f"{(exc.strerror or str(exc)).lower()}") from None
    if console_socket is not None:
        terminal.give_to(uid)
    full_env = shim.container_env({**config, "Tty": tty}, home)
    for item in env:
        key = item.split("=", 1)[0]
        full_env = [e for e in full_env if e.split("=", 1)[0] != key] + [item]
    sc.close_on_exec_from(3)
    lock_down(locks, uid, gid, groups)
    return full_env


def _env_dict(full_env: list[str]) -> dict[str, str]:
    return dict(e.split("=", 1) for e in full_env if "=" in e)


@contextlib.contextmanager
def _exec_failures(argv: list[str]):
    """The exec of argv[0] failing, in runc's words."""
    try:
        yield
    except FileNotFoundError:
        raise _ExecFailure(f'exec: "{argv[0]}": stat {argv[0]}: no such file or directory') from None
    except PermissionError:
        raise _ExecFailure(f'exec: "{argv[0]}": permission denied') from None


def _failure_report(exc: BaseException) -> dict:
    """Why a command could not start; 126 is dockerd's code for every exec failure."""
    message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return {"code": 126, "message": message, "plain": isinstance(exc, users.UserError)}


def _failure_text(report: dict) -> str:
    return report["message"] if report.get("plain") else (
        "OCI runtime exec failed: exec failed: unable to start container process: "
        f"{report['message']}: unknown")


def _explain_failure(exc: BaseException) -> str:
    return _failure_text(_failure_report(exc))


def _report_failure(report_w: int, exc: BaseException) -> None:
    """Why the command could not start, to the starter; ends this process with 126."""
    os.write(report_w, json.dumps(_failure_report(exc)).encode())
    os._exit(126)


class _ExecFailure(Exception):
    """Why an exec could not start, in runc's words."""
