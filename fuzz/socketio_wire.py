"""A socket.io client spoken by hand over one WebSocket, so that the fuzzer can send any frame, malformed ones too.

The protocol is small: the server opens with an Engine.IO `0{...}` frame, `40` joins the default namespace (answered
`40{"sid": ...}`), `42[name, arg...]` is an event either way, the server's `2` (ping) wants a `3`, and `1` or `41`
end the session. python-socketio's client would check and encode what it sends; this one sends the frames as given.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

CLOSED = "disconnect"  # the name next_event gives the end of the socket


class SocketWire:
    """One socket.io session on the default namespace."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    @classmethod
    async def open(cls, rasa_url: str, origin: str, timeout: float) -> SocketWire:
        """A connected session (raises on a refused handshake or after `timeout` seconds)."""
        uri = rasa_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        socket = await asyncio.wait_for(connect(uri, origin=Origin(origin), max_size=None, compression=None,
                                                proxy=None, ping_interval=None, open_timeout=timeout), timeout)
        wire = cls(socket)
        try:
            opening = await asyncio.wait_for(socket.recv(), timeout)
            if not str(opening).startswith("0"):
                raise ConnectionError(f"no Engine.IO open frame: {str(opening)[:80]}")
            await socket.send("40")
            name, data = await wire.next_event(("connect",), timeout)
            if name != "connect":
                raise ConnectionError(f"the namespace was not joined: {name} {data}")
        except BaseException:
            await wire.close()
            raise
        return wire

    async def send(self, frame: str) -> None:
        await self.socket.send(frame)

    async def emit(self, name: str, *args: Any) -> None:
        await self.send("42" + json.dumps([name, *args]))

    async def next_event(self, names: tuple[str, ...], timeout: float) -> tuple[str, Any]:
        """The next event among `names`, `disconnect` when the socket ends, or ("", None) after `timeout` seconds.

        `connect` and `connect_error` stand for the namespace's answers `40` and `44`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "", None
            try:
                frame = await asyncio.wait_for(self.socket.recv(), left)
            except TimeoutError:
                return "", None
            except ConnectionClosed:
                return CLOSED, None
            name, data = self._read(str(frame) if not isinstance(frame, bytes) else "")
            if name == "ping":
                await self.socket.send("3")
            elif name == CLOSED or name in names:
                return name, data

    @staticmethod
    def _read(frame: str) -> tuple[str, Any]:
        if frame == "2":
            return "ping", None
        if frame in ("1", "41") or frame.startswith("41"):
            return CLOSED, None
        if frame.startswith("40"):
            return "connect", frame[2:]
        if frame.startswith("44"):
            return "connect_error", frame[2:]
        if frame.startswith("42"):
            try:
                packet = json.loads(frame[2:])
            except ValueError:
                return "", None
            if isinstance(packet, list) and packet and isinstance(packet[0], str):
                return packet[0], packet[1] if len(packet) > 1 else None
        return "", None

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.socket.close(), 5.0)
        except (TimeoutError, ConnectionClosed, OSError):
            pass
