"""POST /containers/{id}/attach: the hijacked stream of a container's stdio.

The docker CLI attaches before it starts (create → attach → wait → start): the
attach makes pipes and waits; /start finds them and hands them to the worker that
runs the engine's attached start, so the container's output flows through the
pipes into this connection (framed without a TTY, raw with one) and the client's
bytes flow into its stdin. A container already running is attached through its
shim's attach socket (lifecycle/attach_point.py).
"""
from __future__ import annotations

import asyncio
import os

from aiohttp import web

from reference_impl.api import common, workers
from reference_impl.api.common import STATE, ApiError
from reference_impl.api.hijack import STDERR, STDOUT, Hijacked, frame
from reference_impl.engine.containers import ContainerService
from reference_impl.lifecycle import attach_point, detach_keys


class Session:
    def __init__(self, conn: Hijacked, tty: bool, stdin: bool, stdout: bool, stderr: bool,
                 keys: bytes = detach_keys.DEFAULT):
        self.conn, self.tty = conn, tty
        self.detach_keys = keys  # read by the shim from this stdin on a TTY
        self.wanted = {STDOUT: stdout, STDERR: stderr}
        self.stdin_r, self.stdin_w = os.pipe() if stdin else (None, None)
        self.out_r, self.out_w = os.pipe()
        self.err_r, self.err_w = (None, None) if tty else os.pipe()
        self.done = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.before_close = None  # awaited before the connection closes (exec: its exit code)

    def worker_fds(self) -> tuple[int | None, int, int]:
        return self.stdin_r, self.out_w, self.err_w if self.err_w is not None else self.out_w

    def handed_over(self) -> None:
        """The worker has its ends: close ours, so the output pipes end when the container does."""
        for name in ("stdin_r", "out_w", "err_w"):
            fd = getattr(self, name)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)

    def begin(self) -> None:
        loop = asyncio.get_running_loop()
        outputs = [(self.out_r, STDOUT)] + ([(self.err_r, STDERR)] if self.err_r is not None else [])
        self.out_r = self.err_r = None
        readers = [loop.create_task(self._relay(fd, stream)) for fd, stream in outputs]
        self.tasks += readers
        if self.stdin_w is not None:
            fd, self.stdin_w = self.stdin_w, None
            self.tasks.append(loop.create_task(self._feed(fd)))
        self.tasks.append(loop.create_task(self._finish(readers)))

    async def _relay(self, fd: int, stream: int) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                                    os.fdopen(fd, "rb", 0))
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                if self.wanted[stream] or self.tty:
                    await self.conn.write(data if self.tty else frame(stream, data))
        finally:
            transport.close()

    async def _feed(self, fd: int) -> None:
        """The client's raw bytes into the container's stdin; its EOF closes stdin."""
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(fd, "wb", 0))
        except OSError:
            return
        try:
            while True:
                data = await self.conn.read()
                if data is None or transport.is_closing():
                    return
                transport.write(data)
        finally:
            transport.close()

    async def _finish(self, readers) -> None:
        await asyncio.gather(*readers, return_exceptions=True)
        if self.before_close is not None:
            await asyncio.gather(self.before_close, return_exceptions=True)
        await self.conn.close()
        self.done.set()

    def abort(self) -> None:
        """Nothing will start the container for this session: give everything back."""
        for name in ("stdin_r", "stdin_w", "out_r", "out_w", "err_r", "err_w"):
            fd = getattr(self, name)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)
        for task in self.tasks:
            task.cancel()
        self.done.set()


async def attach(request: web.Request) -> web.StreamResponse:
    from reference_impl.api.containers import resolve
    container = await resolve(request)
    if not common.qbool(request, "stream") and not common.qbool(request, "logs"):
        raise ApiError(400, "Bad parameters: stream or logs must be set")
    tty = bool(container.config["Config"].get("Tty"))
    keys = detach_keys.parse(request.query.get("detachKeys", ""))
    conn = Hijacked(request)
    if common.qbool(request, "logs"):  # what it printed so far first, then (stream) what comes
        await conn.upgrade()
        await _replay_logs(request, conn, container, tty)
        if not common.qbool(request, "stream"):
            await conn.close()
            return conn.response
    if container.running:
        service = ContainerService(common.store(request))
        stdin = common.qbool(request, "stdin") and bool(container.config["Config"].get("OpenStdin"))
        sock = await common.blocking(request, service.attach, request.match_info["id"], stdin,
                                     common.qbool(request, "stdout"), common.qbool(request, "stderr"))
        await conn.upgrade()
        await _attach_running(conn, sock, tty, stdin, keys)
        await conn.close()
        return conn.response
    state = request.app[STATE]
    session = Session(conn, tty, common.qbool(request, "stdin"), common.qbool(request, "stdout"),
                      common.qbool(request, "stderr"), keys)
    previous = state["attachments"].pop(container.id, None)
    if previous is not None:
        previous.abort()
    state["attachments"][container.id] = session
    try:
        await conn.upgrade()
        lost = asyncio.ensure_future(conn.lost.wait())
        done = asyncio.ensure_future(session.done.wait())
        await asyncio.wait([lost, done], return_when=asyncio.FIRST_COMPLETED)
        lost.cancel()
        done.cancel()
        if not session.done.is_set():  # the client left before the container ended
            if state["attachments"].get(container.id) is session:
                del state["attachments"][container.id]
            session.abort()
    finally:
        if state["attachments"].get(container.id) is session:
            del state["attachments"][container.id]
            session.abort()
    return conn.response


_HEADERS_ALONE = 0.05  # seconds between the upgrade's headers and replayed output


async def _replay_logs(request: web.Request, conn: Hijacked, container, tty: bool) -> None:
    """The container's log so far, of the streams asked for, framed as the live output is."""
    wanted = {"stdout": common.qbool(request, "stdout"), "stderr": common.qbool(request, "stderr")}
    records, _ = await common.blocking(request, ContainerService(common.store(request)).logs, container.id, 0)
    # The docker SDK reads the 101 with http.client, then takes the raw socket: output that
    # came in the same read as the headers stays in http.client's buffer and is lost. Live
    # output comes later; this is ready at once, so the headers go alone first.
    await asyncio.sleep(_HEADERS_ALONE)
    for record in records:
        if wanted.get(record.stream):
            data = record.text.encode()
            await conn.write(data if tty else frame(STDOUT if record.stream == "stdout" else STDERR, data))


async def _attach_running(conn: Hijacked, sock, tty: bool, stdin: bool, keys: bytes) -> None:
    """A running container's streams through its shim's attach socket: its frames out (raw with
    a TTY), the client's bytes in; on a TTY the detach keys end the attachment, not the container."""
    reader, writer = await asyncio.open_unix_connection(sock=sock)

    async def output() -> None:
        while True:
            try:
                header = await reader.readexactly(attach_point.FRAME_HEADER.size)
                stream, length = attach_point.FRAME_HEADER.unpack(header)
                data = await reader.readexactly(length)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            await conn.write(data if tty else frame(stream, data))

    async def input_() -> None:
        escape = detach_keys.EscapeProxy(keys) if tty else None
        while True:
            data = await conn.read()
            if data is None:
                if stdin:  # as dockerd does: the attachment ends, the container's stdin stays open
                    return
                await asyncio.Event().wait()  # nothing was attached to stdin: output goes on
            if escape is not None:
                data, detached = escape.feed(data)
                if detached:
                    return
            if data:
                writer.write(data)
                await writer.drain()

    tasks = [asyncio.ensure_future(output()), asyncio.ensure_future(input_()),
             asyncio.ensure_future(conn.lost.wait())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        writer.close()


async def start_attached(app: web.Application, store, container, session: Session) -> None:
    """/start for a container with an attach session: the engine's attached start in a worker."""
    state = app[STATE]
    loop = asyncio.get_running_loop()
    # registered before the start: a --rm container can be gone before /start answers, and a
    # `wait?condition=removed` then takes the exit code from here
    exit_code: asyncio.Future = loop.create_future()
    state["exits"][container.id] = exit_code
    stdin, stdout, stderr = session.worker_fds()
    try:
        worker = await workers.spawn("start", {"root": str(store.root), "id": container.id, "attach": True,
                                               "stdin": stdin is not None,
                                               "detach_keys": session.detach_keys.hex()}, stdin, stdout, stderr)
    except BaseException:
        session.abort()
        exit_code.set_result(None)
        state["exits"].pop(container.id, None)
        raise
    session.handed_over()
    session.begin()
    report = await worker.next_report()
    if report is None or "error" in report:
        exit_code.set_result(None)
        if state["exits"].get(container.id) is exit_code:
            del state["exits"][container.id]
        worker.close()
        await worker.process.wait()
        raise ApiError((report or {}).get("status", 500),
                       (report or {}).get("error", "the container could not be started"))

    async def watch() -> None:
        try:
            final = await worker.next_report()
            exit_code.set_result((final or {}).get("exit"))
            worker.close()
            await worker.process.wait()
        finally:
            if not exit_code.done():
                exit_code.set_result(None)
            await asyncio.sleep(30)  # a late `wait` may still ask
            if state["exits"].get(container.id) is exit_code:
                del state["exits"][container.id]
    common.background(watch())
