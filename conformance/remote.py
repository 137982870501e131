"""Reaching an implementation whose host is not this machine (a VM over SSH).

A check is written as if the CLI ran here: it writes build contexts and tars under
its ``tmp_path``, starts registries and git servers on this machine's 127.0.0.1, and
sends HTTP to ports the implementation published on 127.0.0.1. For a remote host
(a testinfra ``paramiko://`` host: one SSH connection per worker) the bridge makes
all three hold there too, generically, from the command line alone:

- **files**: every path under a shared local root (pytest's temporary directories)
  that a command names is copied, before the command runs, to the same path on the
  remote host (SFTP; only what changed since the last copy, with mode and mtime, a
  file replaced atomically; a file deleted here is deleted there). A path that does
  not exist yet (``save -o <tmp>/x.tar``) gets its directory. What the CLI writes
  stays there; checks read it back through the host (``cli.host.file``).
- **services of this machine** (registries, git servers) registered with
  `expose(port)` are forwarded into the remote host at the same 127.0.0.1 port
  (SSH remote forwarding, ``ssh -R``): an implementation there pushes to the same
  ``127.0.0.1:<port>`` the check names.
- **published ports**: `Bridge.http_get` opens an SSH ``direct-tcpip`` channel from the
  remote host to its own 127.0.0.1:<port> (``ssh -L`` without a listening socket), so
  the request reaches the container exactly as a client on that host would.

Local hosts get no bridge: nothing is copied or forwarded.
"""
from __future__ import annotations

import http.client
import io
import os
import re
import select
import socket
import stat
import threading
from pathlib import Path

import requests

_ROOTS: set[str] = set()       # local directories whose paths are mirrored on demand
_EXPOSED: set[int] = set()     # local 127.0.0.1 ports forwarded into every remote host
_bridges: dict[int, "Bridge"] = {}


def share(root: str | os.PathLike) -> None:
    """Mirror paths below `root` (named in a command) onto remote hosts."""
    _ROOTS.add(str(Path(root)))


def expose(port: int) -> None:
    """A service on this machine's 127.0.0.1:`port` is reachable at the same address
    from every remote host (from the next command on)."""
    _EXPOSED.add(int(port))


def withdraw(port: int) -> None:
    _EXPOSED.discard(int(port))
    for bridge in _bridges.values():
        bridge.unforward(int(port))


def is_remote(host) -> bool:
    return getattr(host.backend, "NAME", "local") != "local"


def bridge(host) -> "Bridge | None":
    """The bridge to `host` (a testinfra host), or None for this machine."""
    if not is_remote(host):
        return None
    key = id(host)
    if key not in _bridges:
        if getattr(host.backend, "NAME", "") != "paramiko":
            from conformance.cli import HarnessError
            raise HarnessError(f"a remote implementation host needs testinfra's paramiko backend, "
                               f"not {host.backend.NAME!r}")
        _bridges[key] = Bridge(host)
    return _bridges[key]


class Bridge:
    def __init__(self, host):
        self.host = host
        self._lock = threading.Lock()
        self._sent: dict[str, tuple] = {}     # local path -> (mtime_ns, size, mode) copied
        self._dirs: set[str] = set()           # remote directories known to exist
        self._forwarded: set[int] = set()
        self._sftp = None

    # -- the SSH connection ------------------------------------------------------
    @property
    def transport(self):
        client = self.host.backend.client  # testinfra's paramiko SSHClient (connects lazily)
        transport = client.get_transport()
        if transport is None or not transport.is_active():
            del self.host.backend.client     # reconnect, as testinfra does for commands
            self._sftp, self._forwarded = None, set()
            transport = self.host.backend.client.get_transport()
        return transport

    @property
    def sftp(self):
        if self._sftp is None:
            import paramiko
            self._sftp = paramiko.SFTPClient.from_transport(self.transport)
        return self._sftp

    # -- before every command ------------------------------------------------------
    def stage(self, command: str) -> None:
        """Copy the local paths `command` names, and forward the exposed services."""
        with self._lock:
            for port in sorted(_EXPOSED - self._forwarded):
                self._forward(port)
            for path in self._paths_in(command):
                self._mirror(path)

    def _paths_in(self, command: str) -> list[str]:
        found = []
        for root in sorted(_ROOTS):
            # pytest's temporary names hold only word characters, '-' and '.'; ':' ends a
            # path in `-v host:container`, '=' starts the value in `--opt=path`
            for m in re.finditer(re.escape(root) + r"(?![\w.+@%,-])(?:/[\w.+@%,-]*)*", command):
                found.append(m.group(0).rstrip("/") or "/")
        return list(dict.fromkeys(found))

    def _mirror(self, path: str) -> None:
        if os.path.lexists(path):
            self._mkdirs(os.path.dirname(path))
            self._send(path)
        elif os.path.isdir(os.path.dirname(path)):
            self._mkdirs(os.path.dirname(path))  # an output path (`save -o`): its directory

    def _mkdirs(self, directory: str) -> None:
        missing = []
        while directory not in self._dirs and directory not in ("/", ""):
            missing.append(directory)
            directory = os.path.dirname(directory)
        for d in reversed(missing):
            try:
                self.sftp.mkdir(d)
            except OSError:
                if not stat.S_ISDIR(self.sftp.stat(d).st_mode):
                    raise
            self._dirs.add(d)

    def _send(self, path: str) -> None:
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode):
            self._mkdirs(path)
            self.sftp.chmod(path, stat.S_IMODE(st.st_mode))
            present = set()
            for name in sorted(os.listdir(path)):
                child = os.path.join(path, name)
                present.add(child)
                self._send(child)
            # what was copied below `path` and is gone here goes there too
            copied = {p for p in (*self._sent, *self._dirs) if os.path.dirname(p) == path}
            for gone in sorted(copied - present):
                self._remove(gone)
            return
        key = (st.st_mtime_ns, st.st_size, st.st_mode)
        if self._sent.get(path) == key:
            return
        partial = f"{os.path.dirname(path)}/.{os.path.basename(path)}.strata-partial-{os.getpid()}"
        if stat.S_ISLNK(st.st_mode):
            self.sftp.symlink(os.readlink(path), partial)
        else:
            self.sftp.put(path, partial)
            self.sftp.chmod(partial, stat.S_IMODE(st.st_mode))
            self.sftp.utime(partial, (st.st_atime, st.st_mtime))
        self.sftp.posix_rename(partial, path)
        self._sent[path] = key

    def _remove(self, path: str) -> None:
        self.host.run(f"rm -rf -- '{path}'")
        for p in [p for p in self._sent if p == path or p.startswith(path + "/")]:
            del self._sent[p]
        self._dirs = {d for d in self._dirs if d != path and not d.startswith(path + "/")}

    # -- services of this machine, inside the remote host -----------------------------
    # paramiko keeps ONE handler for all of a connection's remote forwards (the last one
    # given), and its cancel_port_forward drops it — every other forward with it. So one
    # handler goes by the port the remote side accepted on, and a cancel is sent as the
    # bare global request.
    def _forward(self, port: int) -> None:
        self.transport.request_port_forward("127.0.0.1", port, self._accept)
        self._forwarded.add(port)

    @staticmethod
    def _accept(channel, origin, server) -> None:
        threading.Thread(target=_pump, args=(channel, int(server[1])), daemon=True).start()

    def unforward(self, port: int) -> None:
        with self._lock:
            if port in self._forwarded:
                self._forwarded.discard(port)
                try:
                    self.transport.global_request("cancel-tcpip-forward", ("127.0.0.1", port), wait=True)
                except Exception:  # the connection may be gone already: nothing to undo
                    pass

    # -- ports published on the remote host ----------------------------------------------
    def http_get(self, host: str, port: int, path: str, timeout: float = 5) -> requests.Response:
        """GET http://host:port/path from the remote host itself; raises ConnectionError
        when nothing answers there (yet)."""
        import paramiko
        try:
            channel = self.transport.open_channel("direct-tcpip", (host, int(port)), ("127.0.0.1", 0),
                                                  timeout=timeout)
        except (paramiko.ChannelException, paramiko.SSHException) as exc:
            raise requests.ConnectionError(f"{host}:{port} on the remote host: {exc}") from None
        try:
            channel.settimeout(timeout)
            channel.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n"
                            f"User-Agent: strata-suite\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := channel.recv(65536):
                data += chunk
        except (socket.timeout, OSError) as exc:
            raise requests.ConnectionError(f"{host}:{port} on the remote host: {exc}") from None
        finally:
            channel.close()
        if not data:
            raise requests.ConnectionError(f"{host}:{port} on the remote host closed the connection")
        return _response(data, f"http://{host}:{port}{path}")


class _Bytes:
    def __init__(self, data: bytes):
        self._file = io.BytesIO(data)

    def makefile(self, *args, **kwargs):
        return self._file


def _response(data: bytes, url: str) -> requests.Response:
    raw = http.client.HTTPResponse(_Bytes(data))
    raw.begin()
    response = requests.Response()
    response.status_code = raw.status
    response.reason = raw.reason
    response.headers = requests.structures.CaseInsensitiveDict(raw.getheaders())
    response._content = raw.read()
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    response.url = url
    return response


def _pump(channel, port: int) -> None:
    """Copy bytes both ways between a forwarded channel and 127.0.0.1:`port` here."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        channel.close()
        return
    sock.settimeout(None)
    try:
        while True:
            readable, _, _ = select.select([sock, channel], [], [], 60)
            if not readable:
                continue
            if sock in readable:
                data = sock.recv(65536)
                if not data:
                    break
                channel.sendall(data)
            if channel in readable:
                data = channel.recv(65536)
                if not data:
                    break
                sock.sendall(data)
    except OSError:
        pass
    finally:
        sock.close()
        channel.close()
