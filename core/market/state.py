"""MarketState: everything the app knows about the market right now, fed event by event.

The feeds call ``apply`` for every ``Candle``, ``Trade`` and ``BookSnapshot`` (trader symbols,
already translated). That is the ingest hot path: a trade costs three list appends (the tape),
a few float comparisons (the forming 1s candle) and a few attribute writes (the price); numpy
is touched only when a second closes, every couple of thousand trades (the tape's batch) or
when someone reads. Readers get independent numpy copies.

1s candles come from ``kline_1s`` when a symbol has them; otherwise (futures, simulator) they
are built from trades. Trade-built seconds are dropped while 1s klines for the symbol are
recent (within ``kline_preference_ms`` of event time), so the two sources never interleave.

Call ``advance()`` about once a second (a timer): it closes seconds and minutes that ended
more than ``candle_close_grace_ms`` ago even when no trade arrives, flat-filling quiet ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from core.market.candle_store import CandleStore, CloseListener, UnrepairedCandle
from core.market.candles import TradeCandleBuilder
from core.market.health import FeedHealth, HealthStatus
from core.market.prices import LatestPrice, PriceCache, PriceInfo, PriceOrigin
from core.market.symbols import SymbolMap
from core.market.tape import TradeArrays, TradeTape
from core.models import (
    HTF_INTERVALS,
    BookSnapshot,
    Candle,
    CandleArrays,
    DataSource,
    MarketEvent,
    Side,
    StreamKind,
    Tick,
    Trade,
)
from core.ports import Clock
from core.tunables import Tunable

TUNABLES: tuple[Tunable, ...] = (
    Tunable("market.candle_close_grace_ms", int, 2000, "How long after a second ends its candle waits for late "
            "trades before the timer closes it", min=0, max=60000, unit="ms"),
    Tunable("market.kline_preference_ms", int, 5000, "While 1s klines arrived this recently, 1s candles built "
            "from trades are not stored", min=0, max=600000, unit="ms"),
)

_INF = float("inf")
_BUY = Side.BUY
_TRADE_ORIGIN = PriceOrigin.TRADE
_NO_PRICE = LatestPrice()


def _ignore(_trade: Trade) -> None:
    return None


class CloseFanout:
    """Several listeners for higher-timeframe closes behind one ``on_close`` (subscribe with ``add``)."""

    def __init__(self) -> None:
        self._listeners: list[CloseListener] = []

    def add(self, listener: CloseListener) -> None:
        self._listeners.append(listener)

    def __call__(self, symbol: str, interval: str, close_ms: int) -> None:
        for listener in self._listeners:
            listener(symbol, interval, close_ms)  # placeholder until a symbol's first trade binds its real record


@dataclass(frozen=True, slots=True)
class MarketStateParams:
    candle_close_grace_ms: int = 2000
    kline_preference_ms: int = 5000
    seconds_capacity: int = 7200
    minutes_capacity: int = 2880
    history_capacity: int = 1000
    tape_capacity: int = 50_000
    required_history: tuple[str, ...] = ("1h", "4h", "1d")
    detect_trade_gaps: bool = False  # aggTrade id jumps as gaps; the Binance adapter already checks them
    record_messages: bool = False  # True only for feeds that do not report messages themselves

    @classmethod
    def from_values(cls, values: Mapping[str, Any] | Any, **overrides: Any) -> MarketStateParams:
        tunable = {f.name: values[f"market.{f.name}"] for f in fields(cls)
                   if f.name in ("candle_close_grace_ms", "kline_preference_ms")}
        return cls(**tunable, **overrides)


class _Symbol:
    """Everything kept for one symbol (all of it bounded)."""

    __slots__ = ("symbol", "builder", "add_to_second", "store", "tape", "tape_ts", "tape_price", "tape_signed_qty",
                 "tape_flush_rows", "tape_capacity", "book", "kline_second_ms", "last_trade_id", "latest",
                 "whale_floor")

    def __init__(self, symbol: str, params: MarketStateParams, on_close: CloseListener | None = None) -> None:
        self.symbol = symbol
        self.whale_floor = _INF  # smallest notional (quote currency) handed to the whale sink
        self.builder = TradeCandleBuilder(symbol, "1s", max_fill=params.seconds_capacity)
        self.add_to_second = self.builder.add
        self.store = CandleStore(symbol, seconds_capacity=params.seconds_capacity,
                                 minutes_capacity=params.minutes_capacity,
                                 history_capacity=params.history_capacity, on_close=on_close)
        # allocated on the first trade (broker-only symbols have none), with the price record
        self.tape: TradeTape | None = None
        self.tape_ts: list[int] | None = None  # the tape's pending columns (TradeTape.pending_columns)
        self.tape_price: list[float] = []
        self.tape_signed_qty: list[float] = []
        self.tape_flush_rows = 0
        self.latest: LatestPrice = _NO_PRICE
        self.tape_capacity = params.tape_capacity
        self.book: BookSnapshot | None = None
        self.kline_second_ms = -1  # open time of the newest closed 1s kline
        self.last_trade_id = 0


class MarketState:
    """Price cache, candles, trade tape and book of every symbol; see the module docstring."""

    def __init__(self, symbol_map: SymbolMap, clock: Clock, source: DataSource = DataSource.LIVE,
                 health: FeedHealth | None = None, params: MarketStateParams | None = None, *,
                 on_close: CloseListener | None = None, on_whale: Callable[[Trade], None] | None = None) -> None:
        self.symbol_map = symbol_map
        self.clock = clock
        self.source = source
        self.health = health
        self.params = params or MarketStateParams()
        self.prices = PriceCache(source)
        self._on_close = on_close  # (symbol, interval, close ms) for every higher-timeframe close
        self._on_whale = on_whale or _ignore
        self._record_messages = self.params.record_messages and health is not None
        self._watch_trade_ids = self.params.detect_trade_gaps and health is not None
        self._watch_trades = self._watch_trade_ids or self._record_messages
        self._symbols: dict[str, _Symbol] = {}
        for symbol in symbol_map.symbols():
            self._state(symbol)
        self._dispatch = {Candle: self._on_candle, BookSnapshot: self._on_book}  # trades: inline in apply

    def _state(self, symbol: str) -> _Symbol:
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = _Symbol(symbol, self.params, self._on_close)
        return state

    # ------------------------------------------------------------------ ingest (hot path)

    def apply(self, event: MarketEvent) -> None:
        """Take one event from a feed (fast; never raises on bad data, it records it).

        Trades, the most frequent event, are handled inline (the ingest hot path, where a call
        costs as much as the work): three appends to the tape's pending columns, the forming
        1s candle (one call; numpy only when a second closes), the price record in place.
        """
        if type(event) is not Trade:
            handler = self._dispatch.get(type(event))
            if handler is None:
                raise TypeError(f"MarketState.apply takes Candle, Trade or BookSnapshot, not {type(event).__name__}")
            handler(event)
            return
        symbol = event.symbol
        try:
            state = self._symbols[symbol]
        except KeyError:
            state = self._state(symbol)
        price = event.price
        qty = event.qty
        ts_ms = event.ts_ms
        if not (0.0 < price < _INF and 0.0 <= qty < _INF):
            self._invalid(symbol, StreamKind.TRADE, f"bad trade price {price!r} or qty {qty!r}")
            return
        tape_ts = state.tape_ts
        if tape_ts is None:
            tape_ts = self._first_trade(state)
        tape_ts.append(ts_ms)  # TradeTape.add_signed, inlined
        state.tape_price.append(price)
        if event.side is _BUY:
            state.tape_signed_qty.append(qty)
            closed = state.add_to_second(ts_ms, price, qty, True)
        else:
            state.tape_signed_qty.append(-qty)
            closed = state.add_to_second(ts_ms, price, qty, False)
        if len(tape_ts) >= state.tape_flush_rows:
            state.tape.flush()
        if closed is not None:
            self._seconds_from_trades(state, closed)
        latest = state.latest
        if ts_ms >= latest.ts_ms:  # PriceCache.update, inlined
            latest.ts_ms = ts_ms
            latest.price = price
            latest.origin = _TRADE_ORIGIN
        if price * qty >= state.whale_floor:
            self._on_whale(event)
        if self._watch_trades:  # optional bookkeeping (most feeds do it themselves)
            self._watch_trade(state, event)

    def apply_many(self, events: Iterable[MarketEvent]) -> None:
        apply = self.apply
        for event in events:
            apply(event)

    def _first_trade(self, state: _Symbol) -> list[int]:
        """Allocate the tape (and bind its pending columns) and the price record of ``state``."""
        tape = state.tape = TradeTape(state.symbol, state.tape_capacity)
        state.tape_ts, state.tape_price, state.tape_signed_qty = tape.pending_columns()
        state.tape_flush_rows = tape.flush_rows
        state.latest = self.prices.latest(state.symbol)
        return state.tape_ts

    def _watch_trade(self, state: _Symbol, trade: Trade) -> None:
        """Trade-id gaps (``detect_trade_gaps``) and message counts (``record_messages``)."""
        trade_id = trade.trade_id
        last_id = state.last_trade_id
        if trade_id > last_id:
            if self._watch_trade_ids and last_id and trade_id != last_id + 1 and self.health is not None:
                self.health.record_gap(state.symbol, StreamKind.TRADE, self.clock.now_ms(),
                                       f"{trade_id - last_id - 1} trades missed after id {last_id}")
            state.last_trade_id = trade_id
        if self._record_messages:
            self._record_message(state.symbol, StreamKind.TRADE)

    def _seconds_from_trades(self, state: _Symbol, closed: list[Candle]) -> None:
        preference_ms = self.params.kline_preference_ms
        for candle in closed:
            if state.kline_second_ms >= 0 and candle.open_time_ms - state.kline_second_ms <= preference_ms:
                continue  # 1s klines are flowing for this symbol: they are the source
            state.store.on_closed(candle)

    def _on_candle(self, candle: Candle) -> None:
        symbol = candle.symbol
        state = self._symbols.get(symbol) or self._state(symbol)
        if not (0.0 < candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close)
                <= candle.high < _INF and 0.0 <= candle.volume < _INF):
            self._invalid(symbol, StreamKind.KLINE, f"inconsistent {candle.interval} candle at {candle.open_time_ms}")
            return
        if candle.closed:
            if candle.interval == "1s":
                state.kline_second_ms = max(state.kline_second_ms, candle.open_time_ms)
            state.store.on_closed(candle)
            price_ts_ms = candle.close_time_ms
        else:
            state.store.on_forming(candle)
            price_ts_ms = min(candle.close_time_ms, self.clock.now_ms())
        self.prices.update(symbol, price_ts_ms, candle.close, PriceOrigin.KLINE)
        if self._record_messages:
            self._record_message(symbol, StreamKind.KLINE)

    def _on_book(self, book: BookSnapshot) -> None:
        symbol = book.symbol
        state = self._symbols.get(symbol) or self._state(symbol)
        if book.bids and book.asks:
            bid = book.bids[0][0]
            ask = book.asks[0][0]
            if not 0.0 < bid < ask < _INF:
                self._invalid(symbol, StreamKind.DEPTH, f"crossed or bad book: bid {bid} ask {ask}")
                return
            self.prices.update_book(symbol, book.ts_ms, bid, ask)
        state.book = book
        if self._record_messages:
            self._record_message(symbol, StreamKind.DEPTH)

    def _record_message(self, symbol: str, stream: StreamKind) -> None:
        if self.health is not None:  # the plain str value: FeedHealth's dict compares it faster
            self.health.record_message(symbol, stream.value, self.clock.now_ms())

    def _invalid(self, symbol: str, stream: StreamKind, detail: str) -> None:
        if self.health is not None:
            self.health.record_invalid(symbol, stream, self.clock.now_ms(), detail)

    def advance(self, now_ms: int | None = None) -> None:
        """Timer: close buckets that ended ``candle_close_grace_ms`` before ``now_ms`` (default: clock)."""
        cutoff = (self.clock.now_ms() if now_ms is None else now_ms) - self.params.candle_close_grace_ms
        for state in self._symbols.values():
            closed = state.builder.close_until(cutoff)
            if closed:
                self._seconds_from_trades(state, closed)
            state.store.close_until(cutoff)

    def set_whale_floor(self, symbol: str, notional_quote: float) -> None:
        """Trades of ``symbol`` worth at least this (quote currency) go to the whale sink."""
        self._state(symbol).whale_floor = notional_quote

    def set_history(self, symbol: str, interval: str, candles: Iterable[Candle]) -> None:
        """Closed candles from REST (1m or a higher timeframe); they win over derived ones."""
        self._state(symbol).store.set_history(interval, candles)

    # ------------------------------------------------------------------ reads

    def symbols(self) -> list[str]:
        return list(self._symbols)

    def tick(self, symbol: str) -> Tick | None:
        return self.prices.tick(symbol)

    def price_info(self, symbol: str) -> PriceInfo | None:
        """Last price, bid/ask, age and origin, for ``/price SYMBOL``."""
        return self.prices.info(symbol, self.clock.now_ms())

    def book(self, symbol: str) -> BookSnapshot | None:
        state = self._symbols.get(symbol)
        return None if state is None else state.book

    def candles(self, symbol: str, interval: str, last: int | None = None) -> CandleArrays:
        """Closed candles of any kept interval (``1s``, ``1m``, ``1h`` ... ``1M``), oldest first."""
        state = self._symbols.get(symbol)
        if state is None or interval not in state.store.intervals():
            return CandleArrays.from_candles(symbol, interval, [])
        return state.store.arrays(interval, last)

    def seconds(self, symbol: str, last: int | None = None) -> CandleArrays:
        return self.candles(symbol, "1s", last)

    def minutes(self, symbol: str, last: int | None = None) -> CandleArrays:
        return self.candles(symbol, "1m", last)

    def htf(self, symbol: str, interval: str, last: int | None = None) -> CandleArrays:
        if interval not in HTF_INTERVALS:
            raise ValueError(f"{interval} is not a higher timeframe; use one of {', '.join(HTF_INTERVALS)}")
        return self.candles(symbol, interval, last)

    def forming(self, symbol: str, interval: str) -> Candle | None:
        """The bar of ``interval`` still forming now (``closed=False``); None if not covered.
        For display and "current bar" logic only: support/resistance uses closed bars."""
        state = self._symbols.get(symbol)
        if state is None:
            return None
        return state.store.forming(interval, self.clock.now_ms(), forming_second=state.builder.forming())

    def unrepaired_candles(self) -> list[UnrepairedCandle]:
        """Higher-timeframe candles built across a gap in the data that could not be repaired (for /health)."""
        return [candle for state in self._symbols.values() for candle in state.store.unrepaired()]

    def candle_store(self, symbol: str) -> CandleStore | None:
        state = self._symbols.get(symbol)
        return None if state is None else state.store

    def trades_since(self, symbol: str, ts_ms: int) -> TradeArrays:
        """Trades at or after ``ts_ms`` (as far back as the tape reaches), oldest first."""
        state = self._symbols.get(symbol)
        if state is None or state.tape is None:
            return TradeArrays.empty(symbol)
        return state.tape.since(ts_ms)

    def tape(self, symbol: str) -> TradeTape | None:
        state = self._symbols.get(symbol)
        return None if state is None else state.tape

    def is_ready(self, symbol: str) -> tuple[bool, str]:
        """Whether analysis has what it needs for ``symbol``; if not, what is missing (readable)."""
        state = self._symbols.get(symbol)
        if state is None:
            return False, f"{symbol} is not tracked"
        missing = []
        if self.prices.tick(symbol) is None:
            missing.append("no price yet")
        sizes = state.store.sizes()
        absent = [interval for interval in self.params.required_history if not sizes.get(interval)]
        if absent:
            missing.append(f"no {', '.join(absent)} history")
        if self.health is not None and self.symbol_map.has_order_flow(symbol):
            status, reason = self.health.status(symbol)
            if status is HealthStatus.STALE:
                missing.append(f"feed stale ({reason})")
        return (not missing), ("; ".join(missing) if missing else "ready")

    def sizes(self, symbol: str) -> dict[str, int]:
        """Row counts of every buffer of ``symbol`` (for /health and the memory tests)."""
        state = self._symbols.get(symbol)
        if state is None:
            return {}
        return {**state.store.sizes(), "tape": 0 if state.tape is None else len(state.tape)}

    def nbytes(self) -> int:
        """Bytes held by all numpy buffers (fixed once the symbols are known)."""
        return sum(state.store.nbytes() + (state.tape.nbytes if state.tape else 0) for state in self._symbols.values())
