"""Load generator for a Rasa REST channel: N concurrent multi-turn conversations, bounded, loopback only."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.stats import latency_summary_ms

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
Dialogue = Sequence[str]
# CPU seconds used so far by each named process of the bot under load (bench/memory.py tree_cpu_by_name)
CpuProbe = Callable[[], Mapping[str, float]]


@dataclass
class LoadResult:
    """What one load run measured (warm-up excluded)."""

    concurrency: int
    conversations: int
    messages: int = 0
    errors: int = 0
    empty_replies: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)
    latencies_by_turn: dict[int, list[float]] = field(default_factory=dict, repr=False)
    transcript: list[tuple[str, list[str]]] = field(default_factory=list, repr=False)
    # CPU seconds per turn and process, summed over the turns answered (measured one turn at a time: 1 concurrent)
    cpu_by_turn: dict[int, dict[str, float]] = field(default_factory=dict, repr=False)

    def add(self, other: LoadResult) -> None:
        """Fold in another run at the same concurrency (counts, time and latencies add up)."""
        self.conversations += other.conversations
        self.messages += other.messages
        self.errors += other.errors
        self.empty_replies += other.empty_replies
        self.seconds += other.seconds
        self.latencies += other.latencies
        for turn, latencies in other.latencies_by_turn.items():
            self.latencies_by_turn.setdefault(turn, []).extend(latencies)
        for turn, seconds in other.cpu_by_turn.items():
            mine = self.cpu_by_turn.setdefault(turn, {})
            for name, used in seconds.items():
                mine[name] = mine.get(name, 0.0) + used
        self.transcript = self.transcript or other.transcript

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("nan")

    def cpu_ms_by_turn(self) -> dict[int, dict[str, float]]:
        """Mean CPU milliseconds of one answered turn, per turn and process (empty unless a probe measured it)."""
        return {turn: {name: used * 1000 / len(self.latencies_by_turn[turn]) for name, used in seconds.items()}
                for turn, seconds in sorted(self.cpu_by_turn.items()) if self.latencies_by_turn.get(turn)}

    def summary(self) -> dict[str, Any]:
        """Counts, messages/s and latency percentiles (ms), ready for the report."""
        return {
            "concurrency": self.concurrency,
            "conversations": self.conversations,
            "messages": self.messages,
            "errors": self.errors,
            "empty_replies": self.empty_replies,
            "seconds": round(self.seconds, 3),
            "messages_per_s": self.messages_per_s,
            **latency_summary_ms(self.latencies),
            "p50_ms_by_turn": [latency_summary_ms(self.latencies_by_turn[t])["p50_ms"]
                               for t in sorted(self.latencies_by_turn)],
        }


def rest_webhook(base_url: str) -> str:
    """The REST channel URL of a Rasa server; refuses anything but loopback."""
    host = urlsplit(base_url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"the load generator only talks to loopback, not {host!r}")
    return base_url.rstrip("/") + "/webhooks/rest/webhook"


async def _converse(
    client: httpx.AsyncClient, url: str, dialogue: Dialogue, result: LoadResult | None, keep_transcript: bool,
    probe: CpuProbe | None = None,
) -> None:
    """One conversation with a unique sender id; records each turn in `result` (None = warm-up), and with `probe`
    the CPU each process used during the turn."""
    sender = f"bench-{uuid.uuid4().hex}"
    for turn, text in enumerate(dialogue):
        cpu_before = probe() if probe is not None and result is not None else None
        started = time.perf_counter()
        try:
            # the header is the key nginx spreads conversations over Rasa replicas by (launcher/nginx.py)
            response = await client.post(url, json={"sender": sender, "message": text},
                                         headers={"X-Conversation-Id": sender})
            response.raise_for_status()
            replies = [str(r.get("text", "")) for r in response.json()]
        except (httpx.HTTPError, ValueError):
            if result is not None:
                result.errors += 1
            continue
        elapsed = time.perf_counter() - started
        if result is None:
            continue
        if cpu_before is not None and probe is not None:
            used = result.cpu_by_turn.setdefault(turn, {})
            for name, seconds in probe().items():
                used[name] = used.get(name, 0.0) + seconds - cpu_before.get(name, seconds)
        result.messages += 1
        result.latencies.append(elapsed)
        result.latencies_by_turn.setdefault(turn, []).append(elapsed)
        result.empty_replies += int(not replies)
        if keep_transcript:
            result.transcript.append((text, replies))


async def _run(
    url: str, dialogue_for: Callable[[int], Dialogue], concurrency: int, count: int, result: LoadResult | None,
    client: httpx.AsyncClient, probe: CpuProbe | None = None,
) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await _converse(client, url, dialogue_for(i), result, keep_transcript=(i == 0), probe=probe)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def run_load(
    base_url: str,
    dialogue_for: Callable[[int], Dialogue],
    concurrency: int,
    conversations: int,
    warmup_conversations: int,
    timeout: float = 60.0,
    probe: CpuProbe | None = None,
) -> LoadResult:
    """Warm up (not counted), then run `conversations` dialogues over `concurrency` concurrent senders. With `probe`
    and one sender at a time, each turn's CPU per process is measured too (with more, turns overlap: not probed)."""
    url = rest_webhook(base_url)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as client:
        await _run(url, dialogue_for, concurrency, warmup_conversations, None, client)
        result = LoadResult(concurrency=concurrency, conversations=conversations)
        started = time.perf_counter()
        await _run(url, dialogue_for, concurrency, conversations, result, client,
                   probe if concurrency == 1 else None)
        result.seconds = time.perf_counter() - started
    return result
