"""uvicorn's HTTP protocol (httptools), each response leaving in one write.

uvicorn writes a response's status line and headers as soon as the app sends
``http.response.start``, and the body with the next message: two ``send`` system calls and,
with ``TCP_NODELAY``, two TCP segments for every small answer (a load of a block is one
packet's worth), which the client must also read twice. Profiled under load, those writes
were a quarter of the server's time.

:class:`CoalescingProtocol` gives the protocol a transport that gathers what is written during
one turn of the event loop and hands it to the socket at the end of that turn (``call_soon``),
or as soon as the response is complete: the headers and the body that follows them go out
together. Nothing waits longer than the loop's current turn, so a streamed body still leaves
chunk by chunk. Closing the connection sends what was gathered first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _GatheringTransport:
    """A transport proxy whose writes are joined until the loop's turn ends."""

    __slots__ = ("_loop", "_parts", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._parts: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._parts:
            self._loop.call_soon(self.flush)
        self._parts.append(bytes(data))

    def flush(self) -> None:
        """Hand what was gathered to the socket's transport."""
        if not self._parts:
            return
        data = self._parts[0] if len(self._parts) == 1 else b"".join(self._parts)
        self._parts = []
        if not self._transport.is_closing():
            self._transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(p) for p in self._parts)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def __getattr__(self, name: str) -> Any:  # everything else is the socket's transport's
        return getattr(self._transport, name)


class CoalescingProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a :class:`_GatheringTransport` (see the module)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        gathering = _GatheringTransport(transport, asyncio.get_running_loop())
        super().connection_made(gathering)  # type: ignore[arg-type]

    def on_response_complete(self) -> None:
        # The response's last byte is written: send it now rather than at the end of the
        # turn (the access log and the rest of the request's work come after).
        transport = self.transport
        if isinstance(transport, _GatheringTransport):
            transport.flush()
        super().on_response_complete()
