"""Live Binance market data over websockets: ``BinanceWsFeed`` implements ``MarketFeed`` (LIVE).

Each planned connection (see ``binance_streams``) runs its own task: connect, subscribe, read,
decode, check sequences, deliver; then reconnect with exponential backoff and jitter. A watchdog
closes connections that went silent (no frame for ``silence_timeout_s``) or reached the age of
``max_connection_age_s`` (Binance cuts them at 24 h). ``serverShutdown`` notices reconnect at once.
Malformed frames are counted and skipped. Everything is reported to a ``FeedHealthSink``.
Server pings are answered by the websockets library (it reads in the background), as Binance
requires; we send no pings of our own (they would count towards the 5 messages/s limit).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from core.feeds.binance_decode import BinanceDecoder, MalformedFrame, ServerShutdown
from core.feeds.binance_endpoints import BinanceEndpoints
from core.feeds.binance_streams import ConnectionPlan, StreamParams, plan_connections
from core.feeds.gaps import GapDetector
from core.market.symbols import SymbolMap
from core.models import BookSnapshot, Candle, DataSource, MarketEvent, StreamKind, Trade
from core.ports import Clock, FeedHealthSink, MarketHandler
from core.tunables import Tunable

log = logging.getLogger(__name__)

TUNABLES: tuple[Tunable, ...] = (
    Tunable("binance.silence_timeout_s", float, 10.0,
            "Reconnect a Binance connection that delivered no frame for this long", min=1, max=300, unit="s"),
    Tunable("binance.reconnect_backoff_initial_s", float, 1.0,
            "First wait before reconnecting after a failure (doubles each failure, with jitter)",
            min=0.1, max=60, unit="s"),
    Tunable("binance.reconnect_backoff_max_s", float, 60.0,
            "Longest wait between reconnect attempts", min=1, max=900, unit="s"),
    Tunable("binance.max_connection_age_h", float, 23.0,
            "Reconnect proactively after this many hours (Binance disconnects at 24 h)",
            min=0.1, max=23.9, unit="h"),
)

FrameTap = Callable[[bytes, int], None]
"""Called with every raw frame and its receive time in ms (the recorder uses it)."""


@dataclass(frozen=True, slots=True)
class WsParams:
    silence_timeout_s: float = 10.0
    reconnect_backoff_initial_s: float = 1.0
    reconnect_backoff_max_s: float = 60.0
    max_connection_age_s: float = 23.0 * 3600
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    subscribe_batch_size: int = 200  # streams per SUBSCRIBE message
    control_interval_s: float = 0.25  # spot allows 5 incoming messages/s, pongs included
    max_frame_bytes: int = 4 * 1024 * 1024
    streams: StreamParams = field(default_factory=StreamParams)

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        ceiling = min(self.reconnect_backoff_max_s, self.reconnect_backoff_initial_s * (2 ** min(attempt, 30)))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    reachable: bool
    detail: str
    latency_ms: int = 0


@dataclass(slots=True)
class ConnectionStats:
    frames: int = 0
    events: int = 0
    malformed: int = 0
    gaps: int = 0
    connects: int = 0
    reconnects: int = 0
    last_reason: str = ""


class BinanceWsFeed:
    """Binance combined streams for every watched symbol, as core events."""

    source = DataSource.LIVE

    def __init__(self, symbol_map: SymbolMap, health: FeedHealthSink, clock: Clock, *,
                 endpoints: BinanceEndpoints = BinanceEndpoints(), params: WsParams = WsParams(),
                 symbols: list[str] | None = None, frame_tap: FrameTap | None = None,
                 rng: random.Random | None = None) -> None:
        self._symbol_map = symbol_map
        self._health = health
        self._clock = clock
        self._params = params
        self._handlers: list[MarketHandler] = []
        self._frame_tap = frame_tap
        self._rng = rng or random.Random()
        self.plans = plan_connections(symbol_map, endpoints, params.streams, symbols)
        self._connections = [_Connection(self, plan) for plan in self.plans]
        self._tasks: list[asyncio.Task[None]] = []

    def subscribe(self, handler: MarketHandler) -> None:
        self._handlers.append(handler)

    async def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [asyncio.create_task(c.run(), name=f"binance-ws {c.plan.name}") for c in self._connections]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stats(self) -> dict[str, ConnectionStats]:
        return {c.plan.name: c.stats for c in self._connections}

    async def probe(self, timeout_s: float = 5.0) -> ProbeResult:
        """Can we reach Binance? Opens the first connection and waits for one market event."""
        if not self.plans:
            return ProbeResult(False, "no symbol has a Binance market")
        plan = self.plans[0]
        decoder = BinanceDecoder(self._symbol_map.from_binance, plan.market)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(timeout_s):
                async with connect(plan.url, open_timeout=timeout_s, ping_interval=None,
                                   close_timeout=self._params.close_timeout_s, compression=None) as ws:
                    while True:
                        frame = await ws.recv(decode=False)
                        try:
                            if decoder.decode(frame, self._clock.now_ms()) is not None:
                                break
                        except (MalformedFrame, ServerShutdown):
                            continue
        except TimeoutError:
            return ProbeResult(False, f"no market data from {plan.base_url} within {timeout_s:g}s")
        except (OSError, InvalidHandshake, ConnectionClosed) as e:
            return ProbeResult(False, f"cannot reach {plan.base_url}: {e}")
        return ProbeResult(True, f"market data flowing from {plan.base_url}", int((loop.time() - started) * 1000))

    def _deliver(self, event: MarketEvent) -> None:
        for handler in self._handlers:
            try:
                handler(event)
            except Exception:
                log.exception("market handler %r failed on %r", handler, event)


class _Connection:
    """One websocket connection and its reconnect loop (a small state machine)."""

    def __init__(self, feed: BinanceWsFeed, plan: ConnectionPlan) -> None:
        self.feed = feed
        self.plan = plan
        self.stats = ConnectionStats()
        self._decoder = BinanceDecoder(feed._symbol_map.from_binance, plan.market)
        self._gaps = GapDetector()
        self._symbols = list(plan.symbols)
        self._last_frame_s = 0.0
        self._close_reason = ""
        self._next_id = 1

    async def run(self) -> None:
        params, health, clock = self.feed._params, self.feed._health, self.feed._clock
        attempt = 0
        while True:
            self._close_reason = ""
            frames_before = self.stats.frames
            reason = await self._session()
            health.record_disconnected(self._symbols, reason, clock.now_ms())
            self.stats.last_reason = reason
            if self.stats.frames > frames_before:
                attempt = 0  # the connection worked for a while: start backing off afresh
            immediate = reason.startswith(("server shutdown", "proactive"))
            delay = 0.0 if immediate else params.backoff_s(attempt, self.feed._rng)
            attempt = 0 if immediate else attempt + 1
            log.warning("binance %s disconnected (%s); reconnecting in %.1fs", self.plan.name, reason, delay)
            await asyncio.sleep(delay)
            self.stats.reconnects += 1
            health.record_reconnect(self._symbols, reason, clock.now_ms())

    async def _session(self) -> str:
        """Connect, read until the connection ends; returns why it ended."""
        params = self.feed._params
        try:
            async with connect(self.plan.url, open_timeout=params.open_timeout_s, ping_interval=None,
                               close_timeout=params.close_timeout_s, max_size=params.max_frame_bytes,
                               compression=None, max_queue=1024) as ws:
                self.stats.connects += 1
                self.feed._health.record_connected(self._symbols, self.feed._clock.now_ms())
                self._last_frame_s = asyncio.get_running_loop().time()
                helpers = [asyncio.create_task(self._watch(ws))]
                if self.plan.subscribe_later:
                    helpers.append(asyncio.create_task(self._subscribe(ws, self.plan.subscribe_later)))
                try:
                    return await self._read(ws)
                finally:
                    for task in helpers:
                        task.cancel()
                    await asyncio.gather(*helpers, return_exceptions=True)
        except ConnectionClosed as e:
            return self._close_reason or _closed_reason(e)
        except TimeoutError:
            return self._close_reason or "connect timed out"
        except (OSError, InvalidHandshake) as e:
            return f"connect failed: {e}"

    async def _read(self, ws: ClientConnection) -> str:
        """The hot loop: frame -> event -> sequence check -> handlers."""
        feed, stats, health = self.feed, self.stats, self.feed._health
        decode, now_ms, tap = self._decoder.decode, feed._clock.now_ms, feed._frame_tap
        check_gap, deliver, loop = self._gaps.check, feed._deliver, asyncio.get_running_loop()
        record_message = health.record_message
        while True:
            frame = await ws.recv(decode=False)
            self._last_frame_s = loop.time()
            ts_ms = now_ms()
            stats.frames += 1
            if tap is not None:
                tap(frame, ts_ms)
            try:
                event = decode(frame, ts_ms)
            except MalformedFrame as e:
                stats.malformed += 1
                health.record_malformed(e.stream, ts_ms, e.detail[:200])
                continue
            except ServerShutdown:
                await ws.close()
                return "server shutdown notice"
            if event is None:
                continue
            stats.events += 1
            gap = check_gap(event)
            if gap is not None:
                stats.gaps += 1
                health.record_gap(event.symbol, gap[0], ts_ms, gap[1])
            record_message(event.symbol, _KIND[type(event)], ts_ms)
            deliver(event)

    async def _watch(self, ws: ClientConnection) -> None:
        """Close the connection when it went silent or grew too old."""
        params, loop = self.feed._params, asyncio.get_running_loop()
        opened_s = loop.time()
        tick_s = max(0.01, min(1.0, params.silence_timeout_s / 4))
        while True:
            await asyncio.sleep(tick_s)
            now_s = loop.time()
            if now_s - self._last_frame_s > params.silence_timeout_s:
                self._close_reason = f"silent for {now_s - self._last_frame_s:.1f}s"
                ws.transport.abort()  # a stalled peer may never answer a close handshake
                return
            if now_s - opened_s > params.max_connection_age_s:
                self._close_reason = f"proactive reconnect after {(now_s - opened_s) / 3600:.2f}h"
                await ws.close()
                return

    async def _subscribe(self, ws: ClientConnection, streams: tuple[str, ...]) -> None:
        """SUBSCRIBE the streams the URL did not name, in batches, under the control rate limit."""
        params = self.feed._params
        size = max(1, params.subscribe_batch_size)
        for start in range(0, len(streams), size):
            message = {"method": "SUBSCRIBE", "params": list(streams[start:start + size]), "id": self._next_id}
            self._next_id += 1
            await ws.send(orjson.dumps(message).decode())
            await asyncio.sleep(params.control_interval_s)


# plain str values: a StrEnum key costs a slower comparison in every FeedHealth lookup
_KIND = {Trade: StreamKind.TRADE.value, Candle: StreamKind.KLINE.value, BookSnapshot: StreamKind.DEPTH.value}


def _closed_reason(e: ConnectionClosed) -> str:
    if e.rcvd is not None:
        return f"closed by server (code {e.rcvd.code}{': ' + e.rcvd.reason if e.rcvd.reason else ''})"
    return "connection lost"
