"""The per-container shim (like podman's conmon): owns the container's process, its log
and its exit code. It is forked from the `strata` command that starts the container
and lives on after that command returns (`run -d`).

    strata ──fork──> (setsid, fork) shim ──fork──> A: unshare(mnt,uts,ipc,net,pid)
                                                     └─fork──> B: PID 1 in the container
A only waits for B (a process cannot join the PID namespace it creates); the shim
relays B's output to log.json (and to the attached terminal, if any), records the
exit code in state.json, and removes the container for --rm.
"""
from __future__ import annotations

import errno
import json
import os
import selectors
import signal
import socket
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from reference_impl import humanize, rootfs
from reference_impl import syscalls as sc
from reference_impl.confinement import Confinement, cgroups, confine_filesystem, lock_down, prepare
from reference_impl.lifecycle import init, signals, terminal, users
from reference_impl.lifecycle.attach_point import AttachPoint
from reference_impl.lifecycle.detach_keys import EscapeProxy

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Stdio:
    """What the starting command hands the shim: its own fds when attached."""
    stdin: int | None = None   # fd to feed the container's stdin (attached -i)
    stdout: int | None = None  # attached output (the CLI's stdout)
    stderr: int | None = None
    keep_stdin_open: bool = False  # detached -i: stdin stays open with no writer
    detach_keys: bytes = b""  # attached with a TTY: the keys that hand the terminal back
    on_detach: object = None  # called when they are read (the shim tells its starter)


def resolve_user(user: str, root: str = "/", group_add: list[str] = ()) -> tuple[int, int, list[int], str]:
    """`user[:group]` by name or number, looked up in the container's /etc files."""
    found = users.resolve(user, group_add, root)
    return found.uid, found.gid, found.groups, found.home


def container_env(config: dict, home: str) -> list[str]:
    env = list(config.get("Env") or [])
    keys = {e.split("=", 1)[0] for e in env}
    extra = []
    if "PATH" not in keys:
        extra.append(f"PATH={DEFAULT_PATH}")
    extra.append(f"HOSTNAME={config.get('Hostname', '')}")
    if config.get("Tty") and "TERM" not in keys:
        extra.append("TERM=xterm")
    if "HOME" not in keys:
        env.append(f"HOME={home or '/'}")
    return extra + env


def find_program(program: str, env: list[str]) -> str:
    if "/" in program:
        return program
    path = next((e[5:] for e in env if e.startswith("PATH=")), DEFAULT_PATH)
    for d in path.split(":"):
        candidate = os.path.join(d or ".", program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(errno.ENOENT, f'exec: "{program}": executable file not found in $PATH')


def _container_init(spec: dict, exec_report: int, stdio_fds: tuple[int, int, int], tty: bool) -> None:
    """B: PID 1 of the container. Never returns."""
    code = 125
    try:
        os.dup2(stdio_fds[0], 0)
        os.dup2(stdio_fds[1], 1)
        os.dup2(stdio_fds[2], 2)
        config = spec["config"]
        settings: Confinement = spec["confinement"]
        cgroups.join(spec["cgroups"])
        locks = prepare(settings, Path(spec["seccomp_cache"]))
        life = spec.get("lifecycle")
        if life is not None and life.init:
            init.install(spec["container_dir"])
        rootfs.mount_rootfs(spec["layers_dir"], spec["diff_ids"], spec["container_dir"],
                            privileged=settings.privileged, cgroups=spec["cgroups"],
                            nodev=not settings.privileged and not cgroups.enforces_devices(),
                            mounts=spec.get("mounts", ()))
        if tty:  # made in the container's devpts; the shim relays its master
            master, slave = terminal.open_here()
            terminal.show_as_console(slave)
            terminal.take(slave)
            terminal.send_master(spec["console"], master)
            os.close(spec["console"])
        argv = init.argv(spec["argv"]) if life is not None and life.init else spec["argv"]
        sc.sethostname(config.get("Hostname", ""))
        if config.get("Domainname"):
            sc.setdomainname(config["Domainname"])
        sc.loopback_up()
        workdir = config.get("WorkingDir") or "/"
        os.makedirs(workdir, exist_ok=True)
        confine_filesystem(settings)
        os.read(spec["network_ready"][0], 1)  # EOF once the shim has set up the network
        os.chdir(workdir)
        try:
            uid, gid, groups, home = resolve_user(config.get("User") or "",
                                                  group_add=life.group_add if life is not None else ())
        except users.UserError as exc:
            code = 125
            raise _Plain(str(exc)) from None
        env = container_env(config, home)
        if tty:
            terminal.give_to(uid)
        sc.close_on_exec_from(3)  # only 0, 1 and 2 cross into the container's process
        lock_down(locks, uid, gid, groups)
        code = 127
        program = find_program(argv[0], env)
        signals.restore_defaults()
        try:
            os.execve(program, argv, dict(e.split("=", 1) for e in env if "=" in e))
        except FileNotFoundError:
            raise FileNotFoundError(errno.ENOENT,
                                    f'exec: "{argv[0]}": stat {argv[0]}: no such file or directory') from None
        except PermissionError:
            code = 126
            raise PermissionError(errno.EACCES, f'exec: "{argv[0]}": permission denied') from None
    except BaseException as exc:  # report why, through the close-on-exec pipe
        message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, PermissionError):
            code = 126
        try:
            os.write(exec_report, json.dumps({"code": code, "message": message,
                                              "plain": isinstance(exc, _Plain)}).encode())
        finally:
            os._exit(code)


class _Plain(Exception):
    """A start failure dockerd reports in its own words, not as the OCI runtime's."""


def _namespace_parent(spec: dict, pid_report: int, exec_report: int, stdio_fds, tty: bool) -> None:
    """A: create the namespaces, fork B into them, wait for it. Never returns."""
    try:
        os.close(spec["network_ready"][1])
        joined = spec.get("join_netns")  # None: a namespace of its own; "host"; /proc/<pid>/ns/net
        if joined and joined != "host":
            with open(joined) as netns:
                sc.setns(netns.fileno(), sc.CLONE_NEWNET)
        sc.unshare(sc.CLONE_NEWNS | sc.CLONE_NEWUTS | sc.CLONE_NEWIPC | sc.CLONE_NEWPID
                   | (0 if joined else sc.CLONE_NEWNET))
        pid = os.fork()
        if pid == 0:
            os.close(pid_report)
            _container_init(spec, exec_report, stdio_fds, tty)
        if tty:  # B's alone: the shim sees the end of it if B ends before sending a terminal
            os.close(spec["console"])
        os.write(pid_report, struct.pack("i", pid))
        os.close(pid_report)
        os.close(exec_report)
        for fd in set(stdio_fds):
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status)
                 else 128 + os.WTERMSIG(status))
    except BaseException as exc:
        try:
            os.write(exec_report, json.dumps({"code": 125, "message": str(exc)}).encode())
        finally:
            os._exit(125)


def read_all(fd: int) -> bytes:
    chunks = []
    while True:
        data = os.read(fd, 65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


class LogWriter:
    """Docker's json-file format: one JSON object per line of output, the file rotated at
    max_size bytes (-1: never) keeping max_files of them (lifecycle/logconfig.py); path None:
    the `none` driver, nothing kept."""

    def __init__(self, path, max_size: int = -1, max_files: int = 1):
        self.path, self.max_size, self.max_files = path, max_size, max_files
        self.file = open(path, "ab", buffering=0) if path is not None else None
        self.size = os.fstat(self.file.fileno()).st_size if self.file is not None else 0
        self.partial = {"stdout": b"", "stderr": b""}

    def write(self, stream: str, data: bytes) -> None:
        data = self.partial[stream] + data
        lines = data.split(b"\n")
        self.partial[stream] = lines.pop()
        if self.max_size < 0:  # no rotation: one write for all the lines
            self._write(b"".join(self._entry(stream, line + b"\n") for line in lines))
            return
        for line in lines:
            self._write(self._entry(stream, line + b"\n"))

    @staticmethod
    def _entry(stream: str, text: bytes) -> bytes:
        return (json.dumps({"log": text.decode("utf-8", "replace"), "stream": stream,
                            "time": humanize.now_rfc3339()}) + "\n").encode()

    def _write(self, entry: bytes) -> None:
        if self.file is None or not entry:
            return
        if 0 <= self.max_size <= self.size:
            from reference_impl.lifecycle import logconfig
            self.file.close()
            logconfig.rotate(self.path, self.max_files)
            self.file, self.size = open(self.path, "ab", buffering=0), 0
        self.file.write(entry)
        self.size += len(entry)

    def close(self) -> None:
        for stream, rest in self.partial.items():
            if rest:
                self._write(self._entry(stream, rest))
        if self.file is not None:
            self.file.close()


def run_shim(spec: dict, status_fd: int, stdio: Stdio, on_state, on_exit) -> None:
    """The shim's life. `on_state(**values)` records state; `on_exit(code)` runs after exit
    (e.g. removal for --rm) and may return a callable to run once the exit is reported (work
    nobody can observe, off the starter's path). Writes to status_fd: {"started": pid} or
    {"error": …}, then {"exit": code} once the container has exited. Runs the process again
    while its restart policy says so (spec["hooks"]: lifecycle.hooks.ShimHooks). Never returns."""
    hooks = spec.get("hooks")
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        if spec.get("network"):  # before ShimPid is recorded: nobody signals a shim without it
            from reference_impl.network.endpoints import DNS_SIGNAL
            signal.signal(DNS_SIGNAL, lambda *_: spec["network"].serve_dns_now())
        attach = AttachPoint(spec["container_dir"])  # before the state says running

        def tell_detached() -> None:
            devnull = os.open("/dev/null", os.O_WRONLY)
            os.dup2(devnull, 1)  # the starter's terminal, kept while attached: let it go
            os.close(devnull)
            try:
                os.write(status_fd, (json.dumps({"detached": True}) + "\n").encode())
            except OSError:
                pass
        stdio.on_detach = tell_detached
        first = True
        while True:
            code = _run_once(spec, status_fd, stdio, on_state, on_exit, first, hooks, attach)
            if code is None:  # it could not start: recorded and reported
                os._exit(0)
            again = hooks is not None and hooks.restarts(code)
            after_report = None if again else on_exit(code, failed=False)
            try:
                os.write(status_fd, (json.dumps({"exit": code}) + "\n").encode())
            except OSError:
                pass
            if not again:
                _after(after_report, status_fd, stdio)
                break
            if first:  # an attached starter has what it waited for: a later run is not its
                _close_quietly(stdio.stdin, stdio.stdout, stdio.stderr)
                stdio = Stdio()
            first = False
            if not hooks.back_off():  # stopped meanwhile
                _after(on_exit(code, failed=False), status_fd, stdio)
                break
    except BaseException as exc:  # the shim must never leave a starter waiting
        try:
            os.write(status_fd, (json.dumps({"error": {"code": 125, "message": str(exc)}}) + "\n").encode())
        except OSError:
            pass
        print(f"strata shim: {exc!r}", file=sys.stderr)
    os._exit(0)


def _after(after_report, status_fd: int, stdio: Stdio) -> None:
    if after_report is not None:
        _close_quietly(status_fd, stdio.stdin, stdio.stdout, stdio.stderr)  # EOF to the starter's pipes now
        after_report()


def _run_once(spec: dict, status_fd: int, stdio: Stdio, on_state, on_exit, first: bool, hooks,
              attach: AttachPoint) -> int | None:
    """One run of the container's process: its exit code, or None when it could not start."""
    tty = bool(spec["config"].get("Tty"))
    open_stdin = bool(spec["config"].get("OpenStdin"))
    master = console = None
    if tty:  # the container's process makes its terminal and sends the master back
        console, console_end = socket.socketpair()
        spec["console"] = console_end.detach()
        devnull = os.open("/dev/null", os.O_RDWR)
        child_fds = (devnull, devnull, devnull)
        outputs = {}
    else:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        if stdio.stdin is not None:
            in_fd = stdio.stdin
        elif stdio.keep_stdin_open or open_stdin:
            in_fd, keep_writer = os.pipe()  # the shim keeps the writer: no EOF
            attach.stdin = keep_writer
        else:
            in_fd = os.open("/dev/null", os.O_RDONLY)
        child_fds = (in_fd, out_w, err_w)
        outputs = {out_r: "stdout", err_r: "stderr"}
    pid_r, pid_w = os.pipe()
    exec_r, exec_w = os.pipe2(os.O_CLOEXEC)
    spec["network_ready"] = os.pipe2(os.O_CLOEXEC)  # closed by the shim: PID 1 may exec
    a = os.fork()
    if a == 0:
        os.close(pid_r)
        os.close(exec_r)
        # the starter's terminal is the shim's to give back (detach keys): A keeps none of it
        _close_quietly(*({stdio.stdin, stdio.stdout, stdio.stderr} - set(child_fds)))
        devnull = os.open("/dev/null", os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        if spec.get("network"):  # the listeners are the shim's alone: they close when it dies
            spec["network"].close_sockets()
        _namespace_parent(spec, pid_w, exec_w, child_fds, tty)
    os.close(pid_w)
    os.close(exec_w)
    if tty:
        os.close(spec.pop("console"))
    for fd in set(child_fds):
        if fd not in (stdio.stdin,):
            os.close(fd)
    if first and spec.get("network"):  # while A makes the namespaces and PID 1
        spec["network"].reserve()
    raw_pid = read_all(pid_r)
    os.close(pid_r)
    os.close(spec["network_ready"][0])
    net_state = {}
    try:
        if spec.get("network") and len(raw_pid) == 4:  # before the command runs
            pid = struct.unpack("i", raw_pid)[0]
            if first:
                net_state = spec["network"].start(pid)  # ports, address
            else:  # a restart: a new namespace, the last run's addresses given back
                net_state = spec["network"].rejoin(pid)
    except BaseException:  # no network it asked for: the command must not run
        os.kill(struct.unpack("i", raw_pid)[0], signal.SIGKILL)
        raise
    finally:
        os.close(spec["network_ready"][1])
    if console is not None:
        with console:
            master = terminal.receive_master(console)
        if master is not None:
            terminal.copy_size(stdio.stdout, master)  # an attached starter's window
            outputs = {master: "stdout"}
            attach.stdin = master if open_stdin else None
            attach.terminal = master
    failure = read_all(exec_r)
    os.close(exec_r)
    if failure or len(raw_pid) != 4:
        report = json.loads(failure) if failure else {"code": 125, "message": "container init failed"}
        os.waitpid(a, 0)
        _close_quietly(*outputs)
        if not first:  # a restart that cannot start ends the container as an exit would
            on_state(Status="exited", ExitCode=report["code"], Error=report["message"], Pid=0,
                     FinishedAt=humanize.now_rfc3339())
            return report["code"]
        on_state(Status="created" if report["code"] in (126, 127) else "exited", StartingPid=0,
                 ExitCode=report["code"], Error=report["message"], Pid=0)
        os.write(status_fd, (json.dumps({"error": report}) + "\n").encode())
        _after(on_exit(report["code"], failed=True), status_fd, stdio)
        return None
    pid = struct.unpack("i", raw_pid)[0]
    on_state(Status="running", Pid=pid, ShimPid=os.getpid(), ExitCode=0, Error="", StartingPid=0, OOMKilled=False,
             StartedAt=humanize.now_rfc3339(), FinishedAt="0001-01-01T00:00:00Z", **net_state,
             **(hooks.state_at_start() if hooks is not None else {}))
    if hooks is not None:
        hooks.started(pid)
    if first:
        os.write(status_fd, (json.dumps({"started": pid}) + "\n").encode())
    _relay(spec, outputs, stdio, master, attach)
    _close_quietly(*outputs)
    if not tty and attach.stdin is not None:
        _close_quietly(attach.stdin)
    attach.end_run()
    _, status = os.waitpid(a, 0)
    code = os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
    if hooks is not None:
        hooks.exited()
    on_state(Status="exited", ExitCode=code, Pid=0, FinishedAt=humanize.now_rfc3339())
    return code


def _close_quietly(*fds: int | None) -> None:
    for fd in set(fds) - {None}:
        try:
            os.close(fd)
        except OSError:
            pass


def _relay(spec: dict, outputs: dict[int, str], stdio: Stdio, master: int | None, attach: AttachPoint) -> None:
    log = LogWriter(spec["log_path"], *spec.get("log_rotation", (-1, 1)))
    selector = selectors.DefaultSelector()
    for fd in outputs:
        selector.register(fd, selectors.EVENT_READ)
    if master is not None and stdio.stdin is not None:
        selector.register(stdio.stdin, selectors.EVENT_READ)
    escape = EscapeProxy(stdio.detach_keys) if master is not None and stdio.detach_keys else None
    attach.watch(selector)
    open_outputs = set(outputs)
    while open_outputs:
        for key, _ in selector.select():
            fd = key.fd
            if selector.get_map().get(fd) is not key:  # dropped (its number maybe reused) earlier in this batch
                continue
            if attach.owns(fd):
                attach.readable(fd)
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO on a pty whose other side closed
                data = b""
            if fd == stdio.stdin and master is not None:
                ended, detached = not data, False
                if escape is not None:
                    data, detached = escape.feed(data)
                if data:
                    os.write(master, data)
                if detached:  # the starter goes; the container runs on, its output to the log
                    selector.unregister(fd)
                    _close_quietly(stdio.stdin, stdio.stdout, stdio.stderr)
                    stdio.stdin = stdio.stdout = stdio.stderr = None
                    stdio.on_detach()
                elif ended:
                    selector.unregister(fd)
                continue
            if not data:
                selector.unregister(fd)
                open_outputs.discard(fd)
                continue
            stream = outputs[fd]
            log.write(stream, data)
            attach.broadcast(stream, data)
            target = stdio.stdout if stream == "stdout" else stdio.stderr
            if target is not None:
                try:
                    os.write(target, data)
                except OSError:
                    pass
    log.close()
