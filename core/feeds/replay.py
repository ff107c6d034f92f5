"""``ReplayFeed``: recorded Binance frames replayed through the live decoder (source REPLAY).

Files in the line format (or cryptofeed captures, see ``recording``) are merged by receive time
and decoded by the same ``BinanceDecoder`` the live feed uses, at real time (``speed=1``), faster
(``speed=10``) or as fast as possible (``speed=None``). At the end the feed stops emitting and
``done`` is set; whatever state the subscribers built stays. With ``loop=True`` it starts again,
shifting every timestamp forward by the recording's span (rounded up to whole minutes, so
candle buckets stay aligned) so that time never runs backwards for the consumers.

Configuration from the environment (read by the composition root): ``MARKET_FEED=replay:FILE[,FILE]``,
``REPLAY_SPEED=1|10|max`` (default 1), ``REPLAY_LOOP=1``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from core.feeds.binance_decode import BinanceDecoder, FromBinance, MalformedFrame, ServerShutdown
from core.feeds.recording import RecordedFrame, market_of_recording, merge_recordings
from core.market.symbols import BinanceMarket
from core.models import BookSnapshot, Candle, DataSource, MarketEvent, StreamKind, Trade
from core.ports import Clock, FeedHealthSink, MarketHandler

log = logging.getLogger(__name__)

# plain str values: a StrEnum key costs a slower comparison in every FeedHealth lookup
_KIND = {Trade: StreamKind.TRADE.value, Candle: StreamKind.KLINE.value, BookSnapshot: StreamKind.DEPTH.value}
_MINUTE_NS = 60 * 1_000_000_000


class SettableClock(Protocol):
    def set(self, ts_ms: int) -> None: ...


class ReplayClock:
    """The recording's own clock: the receive time of the newest replayed message (the ``fallback``
    clock until the first one). Market state, feed health and analysis read it in replay, so ages
    and "stale" mean "on the recording's timeline", not years ago by the wall clock."""

    def __init__(self, fallback: Clock) -> None:
        self._fallback = fallback
        self._ts_ms: int | None = None

    def set(self, ts_ms: int) -> None:
        if self._ts_ms is None or ts_ms > self._ts_ms:
            self._ts_ms = ts_ms

    def now_ms(self) -> int:
        return self._fallback.now_ms() if self._ts_ms is None else self._ts_ms

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms() / 1000, UTC)


def parse_speed(text: str | None) -> float | None:
    """``"1"``/``"10"``/``"2.5"`` -> that factor; ``"max"`` -> None (as fast as possible)."""
    value = (text or "1").strip().lower()
    if value in ("max", "inf", "fast"):
        return None
    speed = float(value.rstrip("x"))
    if not speed > 0:
        raise ValueError(f"REPLAY_SPEED must be a positive number or 'max'; got {text!r}")
    return speed


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    paths: tuple[Path, ...]
    speed: float | None = 1.0
    loop: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ReplayConfig | None:
        """None unless ``MARKET_FEED`` is ``replay:FILE[,FILE...]``."""
        feed = (environ.get("MARKET_FEED") or "").strip()
        if not feed.lower().startswith("replay:"):
            return None
        paths = tuple(Path(part.strip()) for part in feed.split(":", 1)[1].split(",") if part.strip())
        if not paths:
            raise ValueError("MARKET_FEED=replay: needs at least one file")
        loop = (environ.get("REPLAY_LOOP") or "").strip().lower() in ("1", "true", "yes", "on")
        return cls(paths, parse_speed(environ.get("REPLAY_SPEED")), loop)


@dataclass(slots=True)
class ReplayStats:
    frames: int = 0
    events: int = 0
    malformed: int = 0
    skipped: int = 0
    passes: int = 0


class ReplayFeed:
    """MarketFeed over recorded files; see the module docstring."""

    source = DataSource.REPLAY

    def __init__(self, paths: Sequence[Path | str], *, from_binance: FromBinance | None = None,
                 speed: float | None = 1.0, loop: bool = False, clock: SettableClock | None = None,
                 health: FeedHealthSink | None = None, markets: Sequence[BinanceMarket | str] | None = None) -> None:
        self.paths = [Path(p) for p in paths]
        missing = [str(p) for p in self.paths if not p.exists()]
        if missing:
            raise FileNotFoundError(f"replay file(s) not found: {', '.join(missing)}")
        self.speed = speed
        self.loop = loop
        self._clock = clock
        self._health = health
        chosen = markets or [market_of_recording(p) for p in self.paths]
        decoders = {m: BinanceDecoder(from_binance, m) for m in {BinanceMarket(x) for x in chosen}}
        self._decoders = [decoders[BinanceMarket(m)] for m in chosen]
        self._handlers: list[MarketHandler] = []
        self._task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()
        self.stats = ReplayStats()

    def subscribe(self, handler: MarketHandler) -> None:
        self._handlers.append(handler)

    async def start(self) -> None:
        if self._task is None:
            self.done.clear()
            self._task = asyncio.create_task(self._run(), name="replay feed")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        try:
            shift_ns = 0
            while True:
                span_ns = await self._pass(shift_ns)
                self.stats.passes += 1
                await asyncio.sleep(0)  # let others run between passes, however short the files
                if not self.loop or span_ns is None:
                    break
                shift_ns += -(-(span_ns + 1_000_000_000) // _MINUTE_NS) * _MINUTE_NS
        finally:
            self.done.set()

    async def _pass(self, shift_ns: int) -> int | None:
        """Replay every file once; returns the recording's span in ns (None when empty)."""
        loop = asyncio.get_running_loop()
        first_ns: int | None = None
        last_ns = 0
        wall_start = loop.time()
        since_yield = 0
        for record in merge_recordings(self.paths):
            if first_ns is None:
                first_ns = record.recv_ns
            last_ns = record.recv_ns
            if self.speed is not None:
                due = wall_start + (record.recv_ns - first_ns) / 1e9 / self.speed
                delay = due - loop.time()
                if delay > 0.002:
                    await asyncio.sleep(delay)
                    since_yield = 0
            since_yield += 1
            if since_yield >= 2000:
                await asyncio.sleep(0)  # stay cooperative at full speed
                since_yield = 0
            self._one(record, shift_ns)
        return None if first_ns is None else last_ns - first_ns

    def _one(self, record: RecordedFrame, shift_ns: int) -> None:
        stats = self.stats
        stats.frames += 1
        recv_ms = (record.recv_ns + shift_ns) // 1_000_000
        decoder = self._decoders[record.source]
        try:
            event = decoder.decode(record.frame, recv_ms)
        except (MalformedFrame, ServerShutdown) as e:
            stats.malformed += 1
            if self._health is not None:
                self._health.record_malformed(getattr(e, "stream", "?"), recv_ms, str(e)[:200])
            return
        if event is None:
            stats.skipped += 1
            return
        if shift_ns:
            event = _shifted(event, shift_ns // 1_000_000)
        stats.events += 1
        if self._clock is not None:
            self._clock.set(recv_ms)
        if self._health is not None:
            self._health.record_message(event.symbol, _KIND[type(event)], recv_ms)
        for handler in self._handlers:
            try:
                handler(event)
            except Exception:
                log.exception("market handler %r failed on %r", handler, event)


def _shifted(event: MarketEvent, shift_ms: int) -> MarketEvent:
    if type(event) is Candle:
        return replace(event, open_time_ms=event.open_time_ms + shift_ms)
    return replace(event, ts_ms=event.ts_ms + shift_ms)  # type: ignore[call-arg]
