"""A container's terminals (`run -t`, `exec -t`), made as runc makes them: inside the
container, on its own devpts instance, so that its terminals are /dev/pts/N of its own and
the host's stay out of sight. The process that will use the terminal opens it, takes the
slave as its controlling terminal and stdio, and passes the master back over a socket (runc's
console socket) to whoever relays it: the shim for `run -t`, the exec's caller for `exec -t`.
The terminal's output (stdout and stderr joined, CRLF line ends) is relayed as it comes."""
from __future__ import annotations

import fcntl
import os
import selectors
import socket
import stat
import struct
import termios

from reference_impl import syscalls as sc


def open_here() -> tuple[int, int]:
    """(master, slave) of a new terminal of the devpts in view: the container's, once its
    root is taken (/dev/ptmx is a link to its instance's pts/ptmx)."""
    return os.openpty()


def take(slave: int) -> None:
    """This process's controlling terminal and stdio: the slave (closed here)."""
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def give_to(uid: int) -> None:
    """The terminal on stdin belongs to the process's user (the tty group and mode stay)."""
    os.fchown(0, uid, -1)


def show_as_console(slave: int) -> None:
    """Bind the terminal onto /dev/console, as runc does for a container's own terminal."""
    path = os.ttyname(slave)
    if not os.path.lexists("/dev/console"):
        os.mknod("/dev/console", stat.S_IFREG | 0o600)
    sc.mount(path, "/dev/console", None, sc.MS_BIND)


_WINSIZE = struct.Struct("HHHH")  # rows, columns, and two pixel sizes nobody sets


def set_size(fd: int, rows: int, columns: int) -> None:
    """The window size of the terminal fd is on (master or slave): its process group gets SIGWINCH."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, _WINSIZE.pack(rows, columns, 0, 0))


def size_of(fd: int) -> tuple[int, int] | None:
    """(rows, columns) of the terminal fd is on; None when it is not a terminal's."""
    try:
        rows, columns, _, _ = _WINSIZE.unpack(fcntl.ioctl(fd, termios.TIOCGWINSZ, bytes(_WINSIZE.size)))
    except OSError:
        return None
    return rows, columns


def copy_size(source: int | None, master: int) -> None:
    """Give master the window size of the caller's terminal on source, if it is on one (what a
    CLI on a terminal asks first, as the docker CLI does after the start)."""
    size = size_of(source) if source is not None else None
    if size is not None:
        set_size(master, *size)


def send_master(channel: int, master: int) -> None:
    with socket.socket(fileno=os.dup(channel)) as sock:
        socket.send_fds(sock, [b"m"], [master])
    os.close(master)


def receive_master(channel: socket.socket) -> int | None:
    """The master the other side sent, or None when it ended before it could."""
    _, fds, _, _ = socket.recv_fds(channel, 1, 1)
    return fds[0] if fds else None


def hold_in_background(channel: socket.socket) -> None:
    """A detached exec's terminal: a process of its own (this one returns at once) takes the
    master from `channel` and keeps it open, its output dropped as dockerd drops it, until
    the terminal's last process closes its side."""
    _drain_in_background(channel.fileno(), lambda: receive_master(channel))
    channel.close()


def hold_master_in_background(master: int) -> None:
    """The same for a master this process has (an exec detached with the detach keys)."""
    _drain_in_background(master, lambda: master)
    os.close(master)


def _drain_in_background(keep: int, take_master) -> None:
    first = os.fork()
    if first == 0:
        try:
            # out of the caller's session before the caller can leave (it waits for this
            # process): the hangup of its terminal, when it exits, is not the holder's
            os.setsid()
            if os.fork() == 0:
                sc.close_all_but({keep})  # the caller's pipes must see their end
                master = take_master()
                while master is not None:
                    try:
                        if not os.read(master, 65536):
                            break
                    except OSError:  # EIO: the other side is closed
                        break
        finally:
            os._exit(0)
    os.waitpid(first, 0)


def relay(master: int, out: int, resizes: int | None = None, typed: int | None = None,
          detach_keys: bytes = b"") -> bool:
    """Copy the terminal's output until its last writer closes it. `resizes`: a pipe of
    "ROWS COLUMNS" lines, window sizes to give the terminal meanwhile; `typed`: input for
    the terminal (exec -i), until its end or the `detach_keys`. True when they were typed:
    the master is then still open, for the caller to hand over; else it is closed."""
    from reference_impl.lifecycle.detach_keys import EscapeProxy
    escape = EscapeProxy(detach_keys) if detach_keys and typed is not None else None
    selector = selectors.DefaultSelector()
    selector.register(master, selectors.EVENT_READ)
    for fd in (resizes, typed):
        if fd is not None:
            selector.register(fd, selectors.EVENT_READ)
    pending, ended = b"", False
    try:
        while not ended:
            for key, _ in selector.select():
                if key.fd == typed:
                    data = os.read(typed, 65536)
                    if not data:
                        selector.unregister(typed)
                    detached = False
                    if escape is not None:
                        data, detached = escape.feed(data)
                    _write_all(master, data)
                    if detached:
                        return True
                    continue
                if key.fd == resizes:
                    data = os.read(resizes, 4096)
                    if not data:
                        selector.unregister(resizes)
                    pending = _apply_sizes(master, pending + data)
                    continue
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the other side is closed
                    data = b""
                if not data:
                    ended = True
                    break
                _write_all(out, data)
    finally:
        selector.close()
    os.close(master)
    return False


def _apply_sizes(master: int, data: bytes) -> bytes:
    *lines, rest = data.split(b"\n")
    for line in lines:
        rows, columns = (int(n) for n in line.split())
        set_size(master, rows, columns)
    return rest


def _write_all(out: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(out, view):]
        except BrokenPipeError:
            return
