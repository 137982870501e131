"""`strata attach`: this terminal joined to a running container's stdio through its shim
(lifecycle/attach_point.py), as `docker attach` joins it: output as it comes, input into the
container's stdin when it was opened with -i, detach keys read on a TTY, signals this
command receives passed on to the container without a TTY (--sig-proxy). Also the
signal proxy of an attached `run`."""
from __future__ import annotations

import contextlib
import os
import selectors
import signal
import sys

from reference_impl.engine.containers import ContainerService
from reference_impl.cli.errors import ClientRefusal
from reference_impl.errors import InvalidInput
from reference_impl.lifecycle import attach_point, detach_keys, pause, terminal
from reference_impl.runtime import raw_terminal
from reference_impl.store import Store

# never passed on: the shell's own (a child's end, a closed pipe, a resized window)
_NOT_PROXIED = {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD, signal.SIGPIPE, signal.SIGURG, signal.SIGWINCH}


def go_bool(text: str) -> bool:
    """A Go bool flag's value (`--sig-proxy=false`)."""
    lowered = text.lower()
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    raise ValueError(text)


def add_sig_proxy(p) -> None:
    p.add_argument("--sig-proxy", type=go_bool, nargs="?", const=True, default=True)


def register(verbs) -> None:
    p = verbs.add_parser("attach", help="attach local standard input, output, and error streams to a "
                                        "running container")
    p.add_argument("--detach-keys", default="")
    p.add_argument("--no-stdin", action="store_true")
    add_sig_proxy(p)
    p.add_argument("container")
    p.set_defaults(handler=cmd_attach)


@contextlib.contextmanager
def signal_proxy(service: ContainerService, name: str, enabled: bool):
    """While inside: the signals this command receives go to the container instead."""
    if not enabled:
        yield
        return

    def forward(number, _frame):
        with contextlib.suppress(Exception):  # not running (yet, or any more): dropped, as docker drops it
            service.kill(name, str(number))

    proxied = [s for s in signal.valid_signals() if s not in _NOT_PROXIED]
    saved = {s: signal.signal(s, forward) for s in proxied}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def cmd_attach(store: Store, args) -> int:
    service = ContainerService(store)
    container = service.get(args.container)
    if not container.running:
        if container.restarting:
            raise InvalidInput("You cannot attach to a restarting container, wait until it is running")
        raise InvalidInput("You cannot attach to a stopped container, start it first")
    if pause.is_paused(container.id):
        raise InvalidInput("You cannot attach to a paused container, unpause it first")
    code = attach_running(service, container, with_stdin=not args.no_stdin, keys=args.detach_keys,
                          sig_proxy=args.sig_proxy)
    if code is None:
        print(detach_keys.DETACHED, file=sys.stderr)
        return 1
    return code


def require_terminal_input(needed: bool) -> None:
    """-it, attached: the docker CLI refuses input that is not a terminal's, before anything runs."""
    if needed and not os.isatty(0):
        raise ClientRefusal("the input device is not a TTY")


@contextlib.contextmanager
def _window_changes(enabled: bool, give):
    """While inside: give(rows, columns) each time this terminal's window changes (SIGWINCH).
    Yields a function that gives the current size at once; None when not on a terminal."""
    if not enabled or not os.isatty(1):
        yield None
        return

    def follow(_number=None, _frame=None):
        size = terminal.size_of(1)
        if size is not None:
            give(*size)

    previous = signal.signal(signal.SIGWINCH, follow)
    try:
        yield follow
    finally:
        signal.signal(signal.SIGWINCH, previous)


@contextlib.contextmanager
def window_size_follower(service: ContainerService, name: str, enabled: bool):
    """While inside: this terminal's window size given to the container's, now and whenever it
    changes, as the docker CLI resizes an attached TTY."""
    def resize(rows: int, columns: int) -> None:
        with contextlib.suppress(Exception):  # not running (yet, or any more): nothing to size
            service.resize(name, rows, columns)

    with _window_changes(enabled, resize) as follow:
        if follow is not None:
            follow()
        yield


@contextlib.contextmanager
def window_sizes(enabled: bool):
    """While inside: a pipe of this terminal's window sizes ("ROWS COLUMNS" lines), one each
    time it changes, for an exec's terminal; None when not on a terminal."""
    reader, writer = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)

    def send(rows: int, columns: int) -> None:
        with contextlib.suppress(OSError):  # full: the exec is not reading (it ends)
            os.write(writer, f"{rows} {columns}\n".encode())

    try:
        with _window_changes(enabled, send) as follow:
            yield reader if follow is not None else None
    finally:
        os.close(reader)
        os.close(writer)


def attach_running(service: ContainerService, container, *, with_stdin: bool, keys: str, sig_proxy: bool):
    """This terminal joined to a running container (`attach`, `start -a` of one that runs):
    the container's exit code once its streams end, None when the detach keys were read."""
    config = container.config["Config"]
    tty = bool(config.get("Tty"))
    with_stdin = with_stdin and bool(config.get("OpenStdin"))
    require_terminal_input(tty and with_stdin)
    escape = detach_keys.EscapeProxy(detach_keys.parse(keys)) if tty else None
    sock = service.attach(container.id, stdin=with_stdin, stdout=True, stderr=True)
    with signal_proxy(service, container.id, sig_proxy and not tty), raw_terminal(tty and with_stdin), \
            window_size_follower(service, container.id, tty):
        detached = _relay(sock, with_stdin, escape)
    return None if detached else service.wait_for(container)


def _relay(sock, with_stdin: bool, escape: detach_keys.EscapeProxy | None) -> bool:
    """Output to stdout/stderr, stdin to the container, until the container's streams or
    this command's stdin end (False) or the detach keys are read (True)."""
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    if with_stdin:
        selector.register(0, selectors.EVENT_READ)
    outputs = {attach_point.STDOUT: sys.stdout.buffer, attach_point.STDERR: sys.stderr.buffer}
    try:
        while True:
            for key, _ in selector.select():
                if key.fileobj is sock:
                    got = attach_point.read_frame(sock)
                    if got is None:
                        return False
                    stream, data = got
                    outputs[stream].write(data)
                    outputs[stream].flush()
                    continue
                data = os.read(0, 65536)
                if not data:  # as dockerd does: the attachment ends, the container's stdin stays open
                    return False
                if escape is not None:
                    data, detached = escape.feed(data)
                    if detached:
                        if data:
                            sock.sendall(data)
                        return True
                if data:
                    sock.sendall(data)
    finally:
        selector.close()
        sock.close()
