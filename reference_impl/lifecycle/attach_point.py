"""A running container's attach socket, served by its shim (as conmon serves podman's): what
`attach` joins after the start, whoever started the container.

    client → shim   one JSON line {"stdin": bool, "stdout": bool, "stderr": bool}, then raw
                    bytes for the container's stdin (dropped unless it was opened with -i)
    shim → client   the container's output as stdcopy frames (a TTY's output as stdout)

or, to give the container's terminal a window size (docker's resize):

    client → shim   {"resize": [rows, columns]}
    shim → client   one byte, then the end of the connection

The shim closes every connection when the container's process ends. The socket lives in
the container's directory; it is bound and reached through /proc/self/fd/N/ so that the
path's length never exceeds a socket address's 108 bytes, however deep the store is.
"""
from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import struct
from pathlib import Path

from reference_impl.lifecycle import terminal

SOCKET_NAME = "attach.sock"
STDOUT, STDERR = 1, 2
_STREAMS = {"stdout": STDOUT, "stderr": STDERR}
_SEND_TIMEOUT = 10.0  # an attached client that reads nothing for this long is dropped
_READY = b"\x00"  # the shim's answer to a client's header: attached
# a stdcopy frame: 1 byte stream (1 stdout, 2 stderr), 3 zero bytes, a 4-byte big-endian length,
# then the payload
FRAME_HEADER = struct.Struct(">BxxxI")


def frame(stream: int, data: bytes) -> bytes:
    return FRAME_HEADER.pack(stream, len(data)) + data


def read_frame(sock: socket.socket) -> tuple[int, bytes] | None:
    """The next frame from a connected socket, None at its end."""
    header = _read_exactly(sock, FRAME_HEADER.size)
    if header is None:
        return None
    stream, length = FRAME_HEADER.unpack(header)
    payload = _read_exactly(sock, length)
    return None if payload is None else (stream, payload)


def _read_exactly(sock: socket.socket, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        data = sock.recv(min(left, 1 << 16))
        if not data:
            return None
        chunks.append(data)
        left -= len(data)
    return b"".join(chunks)


@contextlib.contextmanager
def _short_path(container_dir: Path):
    fd = os.open(container_dir, os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{SOCKET_NAME}"
    finally:
        os.close(fd)


def connect(container_dir: Path, stdin: bool, stdout: bool, stderr: bool) -> socket.socket:
    """A connection to the shim of the container whose directory this is (ConnectionError when
    no shim listens: the container is not running)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        with _short_path(container_dir) as path:
            sock.connect(path)
        sock.sendall((json.dumps({"stdin": stdin, "stdout": stdout, "stderr": stderr}) + "\n").encode())
        # attached once the shim says so: output it relays before then would not reach us
        sock.settimeout(_SEND_TIMEOUT)
        ready = sock.recv(1)
        sock.settimeout(None)
    except (OSError, FileNotFoundError) as exc:
        sock.close()
        raise ConnectionError(f"the container's shim does not answer: {exc}") from None
    if ready != _READY:
        sock.close()
        raise ConnectionError("the container's shim ended the attachment")
    return sock


def resize(container_dir: Path, rows: int, columns: int) -> None:
    """Ask the shim to give the container's terminal this window size (ConnectionError when no
    shim listens)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.settimeout(_SEND_TIMEOUT)
        with _short_path(container_dir) as path:
            sock.connect(path)
        sock.sendall((json.dumps({"resize": [rows, columns]}) + "\n").encode())
        sock.recv(1)
    except OSError as exc:
        raise ConnectionError(f"the container's shim does not answer: {exc}") from None
    finally:
        sock.close()


class _Client:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.header = b""
        self.wants: dict | None = None  # known once the header line has come


class AttachPoint:
    """The shim's end: a listening socket, its clients, and where their stdin bytes go."""

    def __init__(self, container_dir: Path):
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        with _short_path(container_dir) as path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)  # a shim that died before this one left it
            self.listener.bind(path)
            os.chmod(path, 0o600)
        self.listener.listen(16)
        self.listener.setblocking(False)  # a readable event with nothing to accept must not stall the shim
        self.clients: dict[int, _Client] = {}
        self.stdin: int | None = None  # the current run's stdin writer (pty master or pipe)
        self.terminal: int | None = None  # the current run's pty master, under -t
        self.selector = None

    def watch(self, selector) -> None:
        """Serve through this selector (the shim's relay loop hands readable fds to `readable`)."""
        self.selector = selector
        selector.register(self.listener, selectors.EVENT_READ)
        for client in self.clients.values():
            selector.register(client.sock, selectors.EVENT_READ)

    def owns(self, fd: int) -> bool:
        return fd == self.listener.fileno() or fd in self.clients

    def readable(self, fd: int) -> None:
        if fd == self.listener.fileno():
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            sock.settimeout(_SEND_TIMEOUT)
            self.clients[sock.fileno()] = _Client(sock)
            self.selector.register(sock, selectors.EVENT_READ)
            return
        client = self.clients[fd]
        try:
            data = client.sock.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.drop(fd)
            return
        if client.wants is None:
            client.header += data
            if b"\n" not in client.header:
                return
            line, _, data = client.header.partition(b"\n")
            try:
                client.wants = json.loads(line)
                if "resize" in client.wants:
                    self._resize(*client.wants["resize"])
                client.sock.sendall(_READY)  # from here on, it gets every frame it asked for
            except (ValueError, TypeError, OSError):
                self.drop(fd)
                return
            if "resize" in client.wants:
                self.drop(fd)
                return
        if data and client.wants.get("stdin") and self.stdin is not None:
            with contextlib.suppress(OSError):
                os.write(self.stdin, data)

    def _resize(self, rows: int, columns: int) -> None:
        if self.terminal is not None:  # without -t there is no window: nothing to do, as dockerd
            terminal.set_size(self.terminal, int(rows), int(columns))

    def broadcast(self, stream: str, data: bytes) -> None:
        for fd, client in list(self.clients.items()):
            if client.wants and client.wants.get(stream):
                try:
                    client.sock.sendall(frame(_STREAMS[stream], data))
                except OSError:
                    self.drop(fd)

    def drop(self, fd: int) -> None:
        client = self.clients.pop(fd, None)
        if client is not None:
            if self.selector is not None:
                self.selector.unregister(client.sock)
            client.sock.close()

    def end_run(self) -> None:
        """The process has ended: every attached client sees the end of its stream."""
        for fd in list(self.clients):
            self.drop(fd)
        self.stdin = self.terminal = None
        if self.selector is not None:
            self.selector.unregister(self.listener)
            self.selector = None
