"""Feed health: per symbol and stream, how alive the market data is, with a readable reason.

``FeedHealth`` implements ``core.ports.FeedHealthSink`` (the feed adapters report into it) and
answers ``status(symbol)``, which execution uses (STALE blocks trading), and ``report()``, which
``/health`` shows. ``ts_ms`` given to the ``record_*`` methods must come from the same ``Clock``
as the one FeedHealth reads (the local receive time, not the exchange's event time).

Status of one stream (first rule that matches):

===========================================  =========  =========================================
condition                                    status     reason (example)
===========================================  =========  =========================================
its connection is down                       STALE      "disconnected 12 s ago: ping timeout"
no message yet, waited >= stale_after_s      STALE      "no depth message since connecting 35 s ago"
no message yet                               DEGRADED   "waiting for the first depth message"
last message >= stale_after_s ago            STALE      "no depth message for 42 s"
last message >= degraded_after_s ago         DEGRADED   "no depth message for 7 s"
a reconnect in the last recent_window_s      DEGRADED   "reconnected 2x in the last 5 min (...)"
a sequence gap in the last recent_window_s   DEGRADED   "1 gap in the last 5 min (...)"
>= malformed_degraded_count bad messages     DEGRADED   "6 malformed messages in the last 5 min"
otherwise                                    OK         "live, 9.8 msg/s"
===========================================  =========  =========================================

Trade streams use their own (longer) silence thresholds: a quiet market has no trades. For a
symbol's overall status a silent trade stream never makes it STALE while another of its streams
is not STALE (the connection is alive, the book or klines still move).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.models import StreamKind
from core.ports import Clock
from core.tunables import Tunable, params_from_values, params_source

TUNABLES: tuple[Tunable, ...] = (
    Tunable("feed.degraded_after_s", float, 5.0, "A stream is DEGRADED after this long without a message",
            min=0.5, max=600, unit="s"),
    Tunable("feed.stale_after_s", float, 30.0, "A stream is STALE (trading blocked) after this long without "
            "a message", min=1, max=3600, unit="s"),
    Tunable("feed.trade_degraded_after_s", float, 60.0, "Trade streams: DEGRADED after this long without a "
            "trade (quiet markets have no trades)", min=1, max=3600, unit="s"),
    Tunable("feed.trade_stale_after_s", float, 300.0, "Trade streams: STALE after this long without a trade",
            min=1, max=86400, unit="s"),
    Tunable("feed.recent_window_s", float, 300.0, "Reconnects, gaps and malformed messages within this window "
            "keep a stream DEGRADED", min=0, max=86400, unit="s"),
    Tunable("feed.rate_window_s", int, 10, "Window of the message-rate figure", min=1, max=60, unit="s"),
    Tunable("feed.malformed_degraded_count", int, 5, "Malformed messages within the recent window that make a "
            "stream DEGRADED", min=1, max=100000),
)


@dataclass(frozen=True, slots=True)
class HealthParams:
    degraded_after_s: float = 5.0
    stale_after_s: float = 30.0
    trade_degraded_after_s: float = 60.0
    trade_stale_after_s: float = 300.0
    recent_window_s: float = 300.0
    rate_window_s: int = 10
    malformed_degraded_count: int = 5

    @classmethod
    def from_values(cls, values: Mapping[str, Any] | Any) -> HealthParams:
        """From a ``TunableValues`` (or any mapping of ``feed.*`` names)."""
        return params_from_values(cls, "feed", values)


class HealthStatus(StrEnum):
    OK = "OK"
    DEGRADED = "DEGRADED"
    STALE = "STALE"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {HealthStatus.OK: 0, HealthStatus.DEGRADED: 1, HealthStatus.STALE: 2}
GLOBAL_SYMBOL = "*"  # rows for messages that could not be tied to a symbol
_RATE_HISTORY_S = 64
_EVENT_HISTORY = 256


@dataclass(frozen=True, slots=True)
class StreamHealth:
    symbol: str
    stream: str
    status: HealthStatus
    reason: str
    msg_rate_per_s: float
    last_msg_age_s: float | None  # None: no message yet
    messages: int
    reconnects: int
    gaps: int
    malformed: int
    connected: bool | None  # None: the adapter never said


class _Stream:
    __slots__ = ("symbol", "stream", "expected", "created_ms", "last_ts_ms", "messages", "second", "second_count",
                 "seconds", "gaps", "gap_total", "gap_detail", "malformed", "malformed_total")

    def __init__(self, symbol: str, stream: str, created_ms: int) -> None:
        self.symbol = symbol
        self.stream = stream
        self.expected = True  # False for rows that only exist because of malformed messages
        self.created_ms = created_ms
        self.last_ts_ms = 0
        self.messages = 0
        self.second = -1
        self.second_count = 0
        self.seconds: deque[tuple[int, int]] = deque(maxlen=_RATE_HISTORY_S)  # completed (second, count)
        self.gaps: deque[int] = deque(maxlen=_EVENT_HISTORY)
        self.gap_total = 0
        self.gap_detail = ""
        self.malformed: deque[int] = deque(maxlen=_EVENT_HISTORY)
        self.malformed_total = 0


class _Link:
    __slots__ = ("connected", "since_ms", "reason", "reconnects", "reconnect_total")

    def __init__(self) -> None:
        self.connected: bool | None = None
        self.since_ms = 0
        self.reason = ""
        self.reconnects: deque[int] = deque(maxlen=_EVENT_HISTORY)
        self.reconnect_total = 0


def _stream_name(stream: StreamKind | str) -> str:
    return stream.value if isinstance(stream, StreamKind) else str(stream)


def _kind_of(raw_stream: str) -> str:
    """``btcusdt@kline_1s`` -> ``kline``; ``ethusdt@depth20@100ms`` -> ``depth``."""
    suffix = raw_stream.split("@", 1)[1] if "@" in raw_stream else raw_stream
    lowered = suffix.lower()
    if lowered.startswith("kline"):
        return StreamKind.KLINE.value
    if lowered.startswith("depth"):
        return StreamKind.DEPTH.value
    if "trade" in lowered:
        return StreamKind.TRADE.value
    return suffix


def _age_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class FeedHealth:
    """Tracks every (symbol, stream) the feeds report; see the module docstring for the rules."""

    def __init__(self, clock: Clock, params: HealthParams | Callable[[], HealthParams] | None = None, *,
                 symbol_resolver: Callable[[str], str] | None = None) -> None:
        self.clock = clock
        self._params = params_source(params, HealthParams)  # live: /set feed.* applies at the next check
        self._resolve = symbol_resolver  # e.g. SymbolMap.from_binance, for malformed stream names
        self._streams: dict[tuple[str, str], _Stream] = {}
        self._links: dict[str, _Link] = {}

    @property
    def params(self) -> HealthParams:
        return self._params()

    # ------------------------------------------------------------------ FeedHealthSink

    def record_message(self, symbol: str, stream: StreamKind | str, ts_ms: int) -> None:
        """One message received (hot path: a dict lookup and a few integer operations)."""
        state = self._streams.get((symbol, stream))  # StrEnum hashes like its value
        if state is None:
            state = self._stream(symbol, stream, ts_ms)
            state.expected = True
        state.messages += 1
        if ts_ms > state.last_ts_ms:
            state.last_ts_ms = ts_ms
        second = ts_ms // 1000
        if second == state.second:
            state.second_count += 1
        elif second > state.second:
            if state.second_count:
                state.seconds.append((state.second, state.second_count))
            state.second = second
            state.second_count = 1

    def record_malformed(self, stream: str, ts_ms: int, detail: str = "") -> None:
        symbol = GLOBAL_SYMBOL
        if "@" in stream and self._resolve is not None:
            symbol = self._resolve(stream.split("@", 1)[0])
        name = _kind_of(stream) if "@" in stream else stream
        known = (symbol, name) in self._streams
        state = self._stream(symbol, name, ts_ms)
        if not known:
            state.expected = False
        state.malformed.append(ts_ms)
        state.malformed_total += 1

    def record_invalid(self, symbol: str, stream: StreamKind | str, ts_ms: int, detail: str = "") -> None:
        """A well-formed message with impossible values (e.g. a crossed book), for a known symbol."""
        known = (symbol, _stream_name(stream)) in self._streams
        state = self._stream(symbol, stream, ts_ms)
        if not known:
            state.expected = False
        state.malformed.append(ts_ms)
        state.malformed_total += 1

    def record_gap(self, symbol: str, stream: StreamKind | str, ts_ms: int, detail: str = "") -> None:
        state = self._stream(symbol, stream, ts_ms)
        state.expected = True
        state.gaps.append(ts_ms)
        state.gap_total += 1
        state.gap_detail = detail

    def record_reconnect(self, symbols: list[str], reason: str, ts_ms: int) -> None:
        for symbol in symbols:
            link = self._link(symbol)
            link.reconnects.append(ts_ms)
            link.reconnect_total += 1
            link.reason = reason

    def record_connected(self, symbols: list[str], ts_ms: int) -> None:
        for symbol in symbols:
            link = self._link(symbol)
            link.connected = True
            link.since_ms = ts_ms

    def record_disconnected(self, symbols: list[str], reason: str, ts_ms: int) -> None:
        for symbol in symbols:
            link = self._link(symbol)
            link.connected = False
            link.since_ms = ts_ms
            link.reason = reason

    def expect(self, symbol: str, streams: Iterable[StreamKind | str], ts_ms: int | None = None) -> None:
        """Declare streams that should deliver, so one that never does shows up as missing."""
        for stream in streams:
            self._stream(symbol, stream, self.clock.now_ms() if ts_ms is None else ts_ms).expected = True

    def _stream(self, symbol: str, stream: StreamKind | str, ts_ms: int) -> _Stream:
        name = _stream_name(stream)
        state = self._streams.get((symbol, name))
        if state is None:
            state = self._streams[(symbol, name)] = _Stream(symbol, name, ts_ms)
        return state

    def _link(self, symbol: str) -> _Link:
        link = self._links.get(symbol)
        if link is None:
            link = self._links[symbol] = _Link()
        return link

    # ------------------------------------------------------------------ queries

    def report(self, symbol: str | None = None) -> list[StreamHealth]:
        """Every tracked stream (of ``symbol``, or all), sorted by symbol then stream."""
        now_ms = self.clock.now_ms()
        keys = sorted(key for key in self._streams if symbol is None or key[0] == symbol)
        return [self._health(self._streams[key], now_ms) for key in keys]

    def status(self, symbol: str) -> tuple[HealthStatus, str]:
        """The symbol's overall status and why; STALE means do not trade on this data."""
        rows = self.report(symbol)
        if not rows:
            return HealthStatus.STALE, f"no market data received for {symbol}"
        live_other = any(r.status is not HealthStatus.STALE and r.stream != StreamKind.TRADE.value for r in rows)
        statuses = []
        for row in rows:
            status = row.status
            if status is HealthStatus.STALE and row.stream == StreamKind.TRADE.value and live_other:
                status = HealthStatus.DEGRADED
            statuses.append((status, row))
        worst = max(statuses, key=lambda pair: pair[0].rank)[0]
        if worst is HealthStatus.OK:
            return worst, "all streams live: " + ", ".join(f"{r.stream} {r.msg_rate_per_s:.1f}/s" for r in rows)
        return worst, "; ".join(f"{r.stream}: {r.reason}" for status, r in statuses if status is worst)

    def is_tradeable(self, symbol: str) -> bool:
        return self.status(symbol)[0] is not HealthStatus.STALE

    def _rate(self, state: _Stream, now_ms: int) -> float:
        """Messages per second over the last ``rate_window_s`` complete seconds."""
        window = int(self.params.rate_window_s)
        now_second = now_ms // 1000
        first = now_second - window
        total = sum(count for second, count in state.seconds if first <= second < now_second)
        if first <= state.second < now_second:
            total += state.second_count
        return total / window

    def _health(self, state: _Stream, now_ms: int) -> StreamHealth:
        link = self._links.get(state.symbol)
        status, reason = self._classify(state, link, now_ms)
        age = None if not state.messages else max(0.0, (now_ms - state.last_ts_ms) / 1000.0)
        return StreamHealth(
            state.symbol, state.stream, status, reason, self._rate(state, now_ms), age, state.messages,
            link.reconnect_total if link else 0, state.gap_total, state.malformed_total,
            link.connected if link else None,
        )

    def _classify(self, state: _Stream, link: _Link | None, now_ms: int) -> tuple[HealthStatus, str]:
        """The table in the module docstring, in order (a small state machine)."""
        params = self.params
        is_trade = state.stream == StreamKind.TRADE.value
        degraded_s = params.trade_degraded_after_s if is_trade else params.degraded_after_s
        stale_s = params.trade_stale_after_s if is_trade else params.stale_after_s
        label = "trade" if is_trade else state.stream
        if link is not None and link.connected is False:
            down_s = max(0.0, (now_ms - link.since_ms) / 1000)
            return HealthStatus.STALE, f"disconnected {_age_text(down_s)} ago: {link.reason or 'no reason given'}"
        if not state.messages and state.expected:
            since = max(state.created_ms, link.since_ms if link else 0)
            waited_s = max(0.0, (now_ms - since) / 1000)
            if waited_s >= stale_s:
                return HealthStatus.STALE, f"no {label} message since connecting {_age_text(waited_s)} ago"
            return HealthStatus.DEGRADED, f"waiting for the first {label} message"
        age_s = max(0.0, (now_ms - state.last_ts_ms) / 1000) if state.messages else 0.0
        if age_s >= stale_s:
            return HealthStatus.STALE, f"no {label} message for {_age_text(age_s)}"
        if age_s >= degraded_s:
            return HealthStatus.DEGRADED, f"no {label} message for {_age_text(age_s)}"
        since_ms = now_ms - params.recent_window_s * 1000
        window = _age_text(params.recent_window_s)
        if link is not None:
            reconnects = sum(1 for ts in link.reconnects if ts >= since_ms)
            if reconnects:
                return HealthStatus.DEGRADED, (f"reconnected {reconnects}x in the last {window}"
                                               + (f" ({link.reason})" if link.reason else ""))
        gaps = sum(1 for ts in state.gaps if ts >= since_ms)
        if gaps:
            detail = f" ({state.gap_detail})" if state.gap_detail else ""
            return HealthStatus.DEGRADED, f"{gaps} gap{'s' if gaps > 1 else ''} in the last {window}{detail}"
        malformed = sum(1 for ts in state.malformed if ts >= since_ms)
        if malformed >= params.malformed_degraded_count:
            return HealthStatus.DEGRADED, f"{malformed} malformed messages in the last {window}"
        return HealthStatus.OK, f"live, {self._rate(state, now_ms):.1f} msg/s"
