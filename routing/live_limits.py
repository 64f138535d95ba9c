"""Bounds on the agents' live streams (Server-Sent Events) of one routing-service process: at most `per_agent` open
streams for one agent (a console per tab) and `total` for everyone, so that a loop of reconnecting tabs or a flood
of clients cannot pin memory and file descriptors. Beyond them a stream is refused at once with a clear answer and
Retry-After (429 for the agent's own streams, 503 when the process is full), never left to degrade the others.

A slot is taken before the stream answers and given back when the response ends, however it ends (the client went
away, the server shut down, the session expired, the reader fell behind): `LimitedStream` releases it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterable, Callable

from fastapi import HTTPException, status
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

RETRY_AGENT_SECONDS = 30  # the agent closes a tab, or an old tab's stream ends
RETRY_FULL_SECONDS = 15


class StreamLimits:
    """Counts of open streams, per agent and in total (used on the event loop only, so no lock)."""

    def __init__(self, per_agent: int, total: int) -> None:
        self.per_agent = per_agent
        self.total = total
        self._open: Counter[int] = Counter()

    def open_streams(self, agent_id: int | None = None) -> int:
        """Open streams of one agent, or of everyone."""
        return self._open[agent_id] if agent_id is not None else sum(self._open.values())

    def acquire(self, agent_id: int) -> Callable[[], None]:
        """Take a slot for `agent_id`; returns the function that gives it back (once, however often called).
        HTTPException 429 or 503 with Retry-After when a limit is reached."""
        if self._open[agent_id] >= self.per_agent:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                                f"You have {self.per_agent} live streams open already (one per console tab); "
                                "close a tab and try again.", headers={"Retry-After": str(RETRY_AGENT_SECONDS)})
        if self.open_streams() >= self.total:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                f"This server has {self.total} live streams open; try again shortly.",
                                headers={"Retry-After": str(RETRY_FULL_SECONDS)})
        self._open[agent_id] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._open[agent_id] -= 1
                if self._open[agent_id] <= 0:
                    del self._open[agent_id]

        return release


class LimitedStream(StreamingResponse):
    """A streaming response that gives its slot back when it ends, even when its body never started."""

    def __init__(self, content: AsyncIterable[str], release: Callable[[], None], media_type: str,
                 headers: dict[str, str]) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()
