"""Forwarding, in the container's shim: one thread per listening host socket.

A TCP thread joins the container's network namespace (setns on /proc/<pid>/ns/net of the
container's PID 1 — setns of a network namespace applies to the calling thread only), accepts
on the host socket (bound earlier in the host namespace), and for each connection creates a
socket *in the container's namespace* and connects it to 127.0.0.1:<containerPort>, as
rootlesskit's port driver does: no traffic goes to the container's private address. Two
threads then move bytes with splice(2) through a pipe, half-closes passed on. UDP: per client
address, one socket in the container's namespace connected to 127.0.0.1:<containerPort>,
replies sent back from the host socket, idle flows dropped after 90 s (docker-proxy's UDP
timeout). The forwarders are threads of the shim, so they stop with the container; connections
that arrive before they run wait in the listen backlog. When a restart policy runs the process
again in a new namespace, the shim points `Namespace` at it and each forwarder moves there
before its next connection (the host sockets stay bound across the restart).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import queue
import selectors
import socket
import threading
import time

from reference_impl import syscalls as sc
from reference_impl.network.allocation import Listener

UDP_IDLE = 90.0
_CHUNK = 1 << 20


class Namespace:
    """The container's current network namespace (an open fd), and how many times it was
    replaced: a forwarder compares generations, as a new fd may reuse the old one's number."""

    def __init__(self, fd: int):
        self.fd = fd
        self.generation = 0
        self.lock = threading.Lock()

    def replace(self, fd: int) -> None:
        with self.lock:
            old, self.fd = self.fd, fd
            self.generation += 1
        with contextlib.suppress(OSError):
            os.close(old)

    def enter(self, generation: int) -> int:
        """Move the calling thread into the current namespace unless it is in generation
        `generation` already; returns the generation it is in."""
        with self.lock:
            if generation != self.generation:
                sc.setns(self.fd, sc.CLONE_NEWNET)
            return self.generation


def start_forwarders(listeners: list[Listener], namespace: Namespace, stopping: threading.Event) -> None:
    """One daemon thread per listener, until `stopping` is set and its socket shut down."""
    threading.stack_size(512 * 1024)
    for listener in listeners:
        serve = serve_tcp if listener.proto == "tcp" else serve_udp
        threading.Thread(target=serve, args=(listener, namespace, stopping), daemon=True).start()


def close_all(*socks) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.close()


def _pump(src: socket.socket, dst: socket.socket, done: threading.Event) -> None:
    """Copy src -> dst with splice(2) through a pipe until EOF, then half-close dst."""
    r, w = os.pipe()
    try:
        with contextlib.suppress(OSError):
            fcntl.fcntl(w, 1031, _CHUNK)  # F_SETPIPE_SZ
        sfd, dfd = src.fileno(), dst.fileno()
        while True:
            n = os.splice(sfd, w, _CHUNK, flags=os.SPLICE_F_MOVE)
            if n == 0:
                break
            while n:
                n -= os.splice(r, dfd, n, flags=os.SPLICE_F_MOVE)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)
    except OSError:
        for s in (src, dst):  # a reset: tear both directions down
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
    finally:
        os.close(r)
        os.close(w)
        if done.is_set():
            close_all(src, dst)
        else:
            done.set()


class _Workers:
    """Threads that outlive one connection: a new connection reuses an idle one (starting a
    thread costs more than a whole loopback round trip)."""

    def __init__(self, idle_timeout: float = 30.0):
        self.tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.idle = 0
        self.lock = threading.Lock()
        self.idle_timeout = idle_timeout

    def submit(self, fn, *args) -> None:
        with self.lock:
            reuse = self.idle > 0
            if reuse:
                self.idle -= 1
        self.tasks.put((fn, args))
        if not reuse:
            threading.Thread(target=self._work, daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                fn, args = self.tasks.get(timeout=self.idle_timeout)
            except queue.Empty:
                with self.lock:
                    if self.idle > 0 and self.tasks.empty():
                        self.idle -= 1
                        return
                continue
            try:
                fn(*args)
            except Exception:
                pass
            with self.lock:
                self.idle += 1


_workers = _Workers()


def serve_tcp(listener: Listener, namespace: Namespace, stopping: threading.Event) -> None:
    entered = namespace.enter(-1)
    target = ("127.0.0.1", listener.container_port)
    while not stopping.is_set():
        try:
            client, _ = listener.sock.accept()
        except OSError as exc:
            if exc.errno in (errno.EINTR, errno.ECONNABORTED, errno.EMFILE, errno.ENFILE):
                time.sleep(0.01 if exc.errno in (errno.EMFILE, errno.ENFILE) else 0)
                continue
            return
        try:
            entered = namespace.enter(entered)
        except OSError:  # a namespace that is gone: drop this connection, as a refused one
            close_all(client)
            continue
        inner = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # in the container's netns
        try:
            inner.connect(target)
        except OSError:
            close_all(inner)
            with contextlib.suppress(OSError):  # as docker-proxy: accept, then drop
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            close_all(client)
            continue
        for s in (client, inner):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        done = threading.Event()
        _workers.submit(_pump, client, inner, done)
        _workers.submit(_pump, inner, client, done)


def serve_udp(listener: Listener, namespace: Namespace, stopping: threading.Event) -> None:
    entered = namespace.enter(-1)
    target = ("127.0.0.1", listener.container_port)
    selector = selectors.DefaultSelector()
    selector.register(listener.sock, selectors.EVENT_READ, None)
    flows: dict[tuple, list] = {}  # client address -> [inner socket, last use]
    while not stopping.is_set():
        try:
            events = selector.select(timeout=1.0)
        except OSError:
            return
        now = time.monotonic()
        for key, _ in events:
            if key.data is None:
                try:
                    data, client = listener.sock.recvfrom(65535)
                except OSError:
                    if stopping.is_set():
                        return
                    continue
                try:
                    now_in = namespace.enter(entered)
                except OSError:
                    continue
                if now_in != entered:  # the process runs again elsewhere: its flows are stale
                    entered = now_in
                    for inner, _ in flows.values():
                        selector.unregister(inner)
                        close_all(inner)
                    flows.clear()
                flow = flows.get(client)
                if flow is None:
                    inner = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    inner.connect(target)
                    flow = flows[client] = [inner, now]
                    selector.register(inner, selectors.EVENT_READ, client)
                flow[1] = now
                with contextlib.suppress(OSError):
                    flow[0].send(data)
            else:
                client = key.data
                inner, _ = flows[client]
                try:
                    data = inner.recv(65535)
                except OSError:  # e.g. ECONNREFUSED: nothing listens yet
                    continue
                flows[client][1] = now
                with contextlib.suppress(OSError):
                    listener.sock.sendto(data, client)
        for client, (inner, used) in list(flows.items()):
            if now - used > UDP_IDLE:
                selector.unregister(inner)
                close_all(inner)
                del flows[client]
