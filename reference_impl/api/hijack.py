"""Upgrade: tcp — the connection of attach and exec start after `101 UPGRADED`.

aiohttp recognises the upgrade and stops parsing HTTP on the connection; from then on
the socket is a raw byte stream both ways. Two things differ from a WebSocket: the
client half-closes its write side as soon as it has no more stdin (at once, when
nothing is attached to stdin), and the output must keep flowing after that — so
the transport gets a protocol of ours whose eof_received keeps the connection open
(aiohttp's would close it and lose the output); everything else is handed on.

Output without a TTY is framed as stdcopy frames (lifecycle/attach_point.py).
"""
from __future__ import annotations

import asyncio

from aiohttp import web

from reference_impl.lifecycle.attach_point import STDERR, STDOUT, frame  # noqa: F401 (the API's framing)


class _Input:
    """What aiohttp's protocol and ours feed the client's bytes into."""

    def __init__(self):
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.ended = False

    def feed_data(self, data: bytes):
        if data and not self.ended:
            self.queue.put_nowait(bytes(data))
        return False, b""

    def feed_eof(self) -> None:
        if not self.ended:
            self.ended = True
            self.queue.put_nowait(None)


class _KeepOpen(asyncio.Protocol):
    """The transport's protocol once hijacked: a client's EOF half-closes, it does not close."""

    def __init__(self, inner: asyncio.BaseProtocol, incoming: _Input, on_lost):
        self.inner, self.incoming, self.on_lost = inner, incoming, on_lost

    def data_received(self, data: bytes) -> None:
        self.incoming.feed_data(data)

    def eof_received(self) -> bool:
        self.incoming.feed_eof()
        return True  # keep the write side open: output goes on after the client's stdin ends

    def connection_lost(self, exc) -> None:
        self.incoming.feed_eof()
        self.on_lost()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class Hijacked:
    """A hijacked connection: read() the client's raw bytes (None at its EOF), write() output."""

    def __init__(self, request: web.Request):
        self.request = request
        self.transport = None
        self.incoming = _Input()
        self.lost = asyncio.Event()
        self.response: web.StreamResponse | None = None

    async def upgrade(self) -> None:
        """Answer 101 and take the connection over (once: a later call does nothing)."""
        if self.response is not None:
            return
        self.response = web.StreamResponse(status=101, reason="UPGRADED", headers={
            "Content-Type": "application/vnd.docker.raw-stream", "Connection": "Upgrade", "Upgrade": "tcp"})
        await self.response.prepare(self.request)
        protocol = self.request.protocol
        self.transport = self.request.transport
        if self.transport is None or self.transport.is_closing():
            self.lost.set()
            self.incoming.feed_eof()
            return
        protocol.set_parser(self.incoming)  # hands over what arrived after the headers
        self.transport.set_protocol(_KeepOpen(protocol, self.incoming, self.lost.set))
        self.transport.resume_reading()

    async def read(self) -> bytes | None:
        return await self.incoming.queue.get()

    @property
    def closed(self) -> bool:
        return self.lost.is_set() or self.transport is None or self.transport.is_closing()

    async def write(self, data: bytes) -> None:
        if self.closed or not data:
            return
        self.transport.write(data)
        while not self.closed and self.transport.get_write_buffer_size() > (1 << 20):
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            # let what is buffered go out, then close
            for _ in range(500):
                if self.transport.get_write_buffer_size() == 0:
                    break
                await asyncio.sleep(0.01)
            self.transport.close()
        self.lost.set()
