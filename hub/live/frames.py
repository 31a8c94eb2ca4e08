"""Pre-encoded WebSocket text frames, written straight to the connection's transport.

The fan-out sends the same bytes to thousands of sockets. Through ASGI each message costs a walk
down starlette's WebSocket, the middleware's send wrappers and uvicorn's protocol, which frames
it again for every socket; a server-to-client frame is not masked, so its bytes are the same for
every socket and can be built once (by websockets, the library uvicorn frames with). `Direct`
writes those bytes to the transport of a socket served by uvicorn's websockets-sansio protocol
(the one `entraide-hub serve` runs), under the same conditions as uvicorn's own send: handshake
done, not closing, not paused by flow control, no extension (permessage-deflate) negotiated.
When any of them does not hold, or the server is another, `write` says so and the caller sends
through ASGI as before: this is a shortcut, never the only way.
"""

from __future__ import annotations

from typing import Any

from websockets.frames import Frame, Opcode

__all__ = ["Direct", "text_frame"]

_USED = ("transport", "writable", "conn", "close_sent", "disconnected", "handshake_complete")


def text_frame(text: str) -> bytes:
    """A complete, unmasked, unfragmented text frame carrying `text` (server to client)."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


class Direct:
    """The transport under one ASGI WebSocket, when it can take frames directly."""

    __slots__ = ("_protocol", "_transport", "_writable")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport = protocol.transport
        self._writable = protocol.writable

    @classmethod
    def of(cls, websocket: Any) -> Direct | None:
        """For a starlette WebSocket: its uvicorn protocol's transport, or None when it is not
        served by uvicorn's websockets-sansio protocol (other servers, or uvicorn's others)."""
        try:
            from uvicorn.protocols.websockets.websockets_sansio_impl import (
                WebSocketsSansIOProtocol,
            )
        except ImportError:  # pragma: no cover - uvicorn without websockets
            return None
        # starlette keeps the server's `receive` as it is: the protocol's bound method (the
        # middleware wraps `send` only).
        protocol = getattr(getattr(websocket, "_receive", None), "__self__", None)
        if not isinstance(protocol, WebSocketsSansIOProtocol):
            return None
        # What `write` reads; a uvicorn that no longer has them gets the ASGI path, not a crash.
        if not all(hasattr(protocol, name) for name in _USED) or protocol.transport is None:
            return None
        if getattr(protocol.conn, "extensions", True):  # permessage-deflate: frames differ
            return None
        return cls(protocol)

    def write(self, frame: bytes) -> bool:
        """Write `frame` now; False (and nothing written) when the socket cannot take it without
        waiting or is going away: send it through ASGI instead."""
        protocol = self._protocol
        if (
            not self._writable.is_set()
            or protocol.close_sent
            or protocol.disconnected
            or not protocol.handshake_complete
            or self._transport.is_closing()
        ):
            return False
        self._transport.write(frame)
        return True
