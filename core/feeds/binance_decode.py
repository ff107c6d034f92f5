"""Decode Binance combined-stream frames into core events (the adapter edge).

One ``BinanceDecoder`` per market ("spot" or "futures") turns a raw frame (bytes or str,
``{"stream": ..., "data": ...}``) into a ``Candle``, ``Trade`` or ``BookSnapshot``, or ``None``
for frames that carry no market event (subscription acks, REST snapshot lines in recordings,
streams we do not model such as ``bookTicker`` or diff depth). Nothing past this module sees a
Binance payload.

Speed: prices are decoded straight to floats by msgspec typed structs (``strict=False`` accepts
Binance's decimal strings); the stream name is cut out of the frame with ``bytes.find`` and
looked up in a per-decoder route cache, so the symbol mapping runs once per stream name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import msgspec

from core.models import BookSnapshot, Candle, MarketEvent, Side, StreamKind, Trade

SPOT = "spot"
FUTURES = "futures"

FromBinance = Callable[[str, str], str]
"""``(binance_symbol, market) -> trader symbol`` (``SymbolMap.from_binance``)."""


class MalformedFrame(Exception):
    """A frame that could not be decoded; the caller counts it and carries on."""

    def __init__(self, stream: str, detail: str) -> None:
        super().__init__(f"{stream}: {detail}")
        self.stream = stream
        self.detail = detail


class ServerShutdown(Exception):
    """Binance announced that this connection's server is going down: reconnect now."""


# ---------------------------------------------------------------------------- payload structs

Levels = tuple[tuple[float, float], ...]


class _KlineBody(msgspec.Struct, gc=False):
    t: int
    i: str
    o: float
    h: float
    l: float  # noqa: E741 (Binance's name)
    c: float
    v: float
    x: bool
    n: int = 0
    q: float = 0.0
    V: float = 0.0


class _AggTrade(msgspec.Struct, gc=False):
    a: int
    p: float
    q: float
    T: int
    m: bool


class _RawTrade(msgspec.Struct, gc=False):
    t: int
    p: float
    q: float
    T: int
    m: bool


class _Kline(msgspec.Struct, gc=False):
    k: _KlineBody


class _Depth(msgspec.Struct, gc=False):
    """Partial (or diff) depth: spot ``{lastUpdateId, bids, asks}`` or futures ``{E, u, b, a}``."""

    lastUpdateId: int = 0
    bids: Levels = ()
    asks: Levels = ()
    E: int = 0
    u: int = -1
    b: Levels = ()
    a: Levels = ()


class _AggTradeFrame(msgspec.Struct, gc=False):
    stream: str
    data: _AggTrade


class _RawTradeFrame(msgspec.Struct, gc=False):
    stream: str
    data: _RawTrade


class _KlineFrame(msgspec.Struct, gc=False):
    stream: str
    data: _Kline


class _DepthFrame(msgspec.Struct, gc=False):
    stream: str
    data: _Depth


class _OtherFrame(msgspec.Struct, gc=False):
    stream: str
    data: msgspec.Raw


class _Envelope(msgspec.Struct, gc=False):
    """Anything that is not a combined-stream frame of a modelled shape goes through here."""

    stream: str | None = None
    data: Any = None
    id: Any = None
    result: Any = None
    code: int | None = None
    msg: str | None = None
    e: str | None = None
    event: dict[str, Any] | None = None
    lastUpdateId: int | None = None


# the first letter after "@" in the stream name picks the typed frame decoder
_FRAME_BY_LETTER = {
    ord("a"): msgspec.json.Decoder(_AggTradeFrame, strict=False),
    ord("t"): msgspec.json.Decoder(_RawTradeFrame, strict=False),
    ord("k"): msgspec.json.Decoder(_KlineFrame, strict=False),
    ord("d"): msgspec.json.Decoder(_DepthFrame, strict=False),
}
_OTHER_FRAME = msgspec.json.Decoder(_OtherFrame)
_PREFIX = b'{"stream":"'
_ENVELOPE = msgspec.json.Decoder(_Envelope)

_BUY = Side.BUY
_SELL = Side.SELL

# route kinds (ints compare fastest)
_R_AGG, _R_TRADE, _R_KLINE, _R_DEPTH, _R_SKIP = range(5)


@dataclass(frozen=True, slots=True)
class StreamRoute:
    """What a stream name means: its kind, trader symbol and Binance symbol."""

    name: str
    code: int
    symbol: str
    binance_symbol: str
    kind: StreamKind | None  # None: a stream we receive but do not model


def parse_stream_name(name: str) -> tuple[str, str]:
    """``"btcusdt@depth20@100ms"`` -> ``("BTCUSDT", "depth20@100ms")``."""
    binance_symbol, _, suffix = name.partition("@")
    return binance_symbol.upper(), suffix


def _route_code(suffix: str) -> tuple[int, StreamKind | None]:
    if suffix == "aggTrade":
        return _R_AGG, StreamKind.TRADE
    if suffix == "trade":
        return _R_TRADE, StreamKind.TRADE
    if suffix.startswith("kline_"):
        return _R_KLINE, StreamKind.KLINE
    head = suffix.split("@", 1)[0]
    if head in ("depth5", "depth10", "depth20"):
        return _R_DEPTH, StreamKind.DEPTH
    return _R_SKIP, None  # diff depth, bookTicker, tickers, markPrice, ...


class BinanceDecoder:
    """Frame -> core event for one market; keeps counters of what it skipped."""

    def __init__(self, from_binance: FromBinance | None = None, market: str = SPOT) -> None:
        self.market = market
        self._from_binance = from_binance
        self._routes: dict[str, StreamRoute] = {}
        self.skipped = 0  # frames without a market event (acks, unmodelled streams, snapshots)
        self.decode = self._fast_decode()

    def route(self, stream: str) -> StreamRoute:
        """The cached meaning of a stream name."""
        route = self._routes.get(stream)
        if route is None:
            route = self._route_for(stream)
        return route

    def _make_route(self, name: str) -> StreamRoute:
        binance_symbol, suffix = parse_stream_name(name)
        code, kind = _route_code(suffix)
        symbol = binance_symbol
        if self._from_binance is not None:
            symbol = self._from_binance(binance_symbol, self.market) or binance_symbol
        return StreamRoute(name, code, symbol, binance_symbol, kind)

    def _fast_decode(self) -> Callable[[bytes | str, int], MarketEvent | None]:
        """Build ``decode``: one frame -> one event or None; raises ``MalformedFrame``/``ServerShutdown``.

        ``recv_ts_ms`` stamps spot partial-depth snapshots, whose payload has no event time.
        This is the hot loop of market-data ingest, written as a closure over locals (global
        and attribute lookups cost as much as the JSON decode): the letter after ``@`` in the
        stream name picks a typed struct, so one msgspec decode yields stream name and payload;
        aggTrade, the most frequent message, is built inline.
        """
        routes, route_for, event, slow = self._routes, self._route_for, self._event, self._slow
        by_letter, other, prefix, errors = _FRAME_BY_LETTER.get, _OTHER_FRAME, _PREFIX, (msgspec.DecodeError,
                                                                                          IndexError)
        agg, new, trade_cls, sell, buy = _R_AGG, _new, Trade, _SELL, _BUY
        t0, t1, t2, t3, t4, t5 = _T0, _T1, _T2, _T3, _T4, _T5

        def decode(frame: bytes | str, recv_ts_ms: int) -> MarketEvent | None:
            if type(frame) is str:
                frame = frame.encode()
            try:
                if not frame.startswith(prefix):
                    return slow(frame, recv_ts_ms)
                msg = by_letter(frame[frame.find(b"@", 11) + 1], other).decode(frame)
            except errors:
                return slow(frame, recv_ts_ms)
            route = routes.get(msg.stream)
            if route is None:
                route = route_for(msg.stream)
            if route.code == agg:
                d = msg.data
                trade = new(trade_cls)
                t0(trade, route.symbol)
                t1(trade, d.a)
                t2(trade, d.p)
                t3(trade, d.q)
                t4(trade, d.T)
                t5(trade, sell if d.m else buy)
                return trade
            return event(route, msg.data, recv_ts_ms)

        return decode

    def _event(self, route: StreamRoute, d: Any, recv_ts_ms: int) -> MarketEvent | None:
        """Payload struct -> core event, by route kind (a dispatch table)."""
        code = route.code
        if code == _R_AGG:
            return _new_trade(route.symbol, d.a, d.p, d.q, d.T, _SELL if d.m else _BUY)
        if code == _R_DEPTH:
            if d.u < 0:  # spot shape: no event time in the payload
                return _new_book(route.symbol, recv_ts_ms, d.lastUpdateId, d.bids, d.asks)
            return _new_book(route.symbol, d.E, d.u, d.b, d.a)
        if code == _R_KLINE:
            k = d.k
            return _new_candle(route.symbol, k.i, k.t, k.o, k.h, k.l, k.c, k.v, k.x, k.q, k.n, k.V)
        if code == _R_TRADE:
            return _new_trade(route.symbol, d.t, d.p, d.q, d.T, _SELL if d.m else _BUY)
        self.skipped += 1
        return None

    def _route_for(self, stream: str) -> StreamRoute:
        route = self._routes[stream] = self._make_route(stream)
        return route

    def _slow(self, frame: bytes, recv_ts_ms: int) -> MarketEvent | None:
        """Frames that did not decode on the fast path: other key orders, control messages,
        server notices, snapshot lines in recordings, and garbage."""
        try:
            env = _ENVELOPE.decode(frame)
        except msgspec.DecodeError as e:
            raise MalformedFrame("?", f"{e}: {_head(frame)}") from None
        if env.e == "serverShutdown" or (env.event or {}).get("e") == "serverShutdown":
            raise ServerShutdown("connection")
        if isinstance(env.data, dict) and env.data.get("e") == "serverShutdown":
            raise ServerShutdown(env.stream or "connection")
        if env.stream is not None and env.data is not None:
            route = self.route(env.stream)
            if route.code == _R_SKIP:
                self.skipped += 1
                return None
            try:
                payload = msgspec.convert(env.data, _PAYLOAD_TYPES[route.code], strict=False)
            except msgspec.ValidationError as e:
                raise MalformedFrame(route.name, str(e)) from None
            return self._event(route, payload, recv_ts_ms)
        if env.code is not None:
            raise MalformedFrame("control", f"error response code={env.code} msg={env.msg}")
        if env.lastUpdateId is not None or (env.stream is None and _has_id(frame)):
            self.skipped += 1  # a control ack, or a REST snapshot line in a recording
            return None
        raise MalformedFrame(env.stream or "?", f"not a combined-stream frame: {_head(frame)}")


_PAYLOAD_TYPES: dict[int, type] = {_R_AGG: _AggTrade, _R_TRADE: _RawTrade, _R_KLINE: _Kline, _R_DEPTH: _Depth}
_ANY = msgspec.json.Decoder()


def _has_id(frame: bytes | str) -> bool:
    value = _ANY.decode(frame)
    return isinstance(value, dict) and "id" in value


def _head(frame: bytes | str) -> str:
    text = frame if isinstance(frame, str) else bytes(frame[:120]).decode("utf-8", "replace")
    return repr(text[:120])


# ---------------------------------------------------------------------------- fast constructors
# Frozen dataclasses set each field through object.__setattr__, which costs about as much as
# decoding a trade. These build the same objects through the slot descriptors (bypassing only the
# frozen guard); test_binance_decode checks they equal the normal constructors, and the field
# check below fails loudly at import if core.models changes shape.


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], ...]:
    actual = tuple(f.name for f in fields(cls))
    if actual != names:
        raise TypeError(f"core.models.{cls.__name__} fields changed to {actual}; update binance_decode")
    return tuple(cls.__dict__[name].__set__ for name in names)


_new = object.__new__
_T0, _T1, _T2, _T3, _T4, _T5 = _slot_setters(Trade, ("symbol", "trade_id", "price", "qty", "ts_ms", "side"))
_B0, _B1, _B2, _B3, _B4 = _slot_setters(BookSnapshot, ("symbol", "ts_ms", "last_update_id", "bids", "asks"))
(_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11) = _slot_setters(
    Candle, ("symbol", "interval", "open_time_ms", "open", "high", "low", "close", "volume", "closed",
             "quote_volume", "trades", "taker_buy_volume"))


def _new_trade(symbol: str, trade_id: int, price: float, qty: float, ts_ms: int, side: Side) -> Trade:
    trade = _new(Trade)
    _T0(trade, symbol)
    _T1(trade, trade_id)
    _T2(trade, price)
    _T3(trade, qty)
    _T4(trade, ts_ms)
    _T5(trade, side)
    return trade


def _new_book(symbol: str, ts_ms: int, last_update_id: int, bids: Levels, asks: Levels) -> BookSnapshot:
    book = _new(BookSnapshot)
    _B0(book, symbol)
    _B1(book, ts_ms)
    _B2(book, last_update_id)
    _B3(book, bids)
    _B4(book, asks)
    return book


def _new_candle(symbol: str, interval: str, open_time_ms: int, open_: float, high: float, low: float,
                close: float, volume: float, closed: bool, quote_volume: float, trades: int,
                taker_buy_volume: float) -> Candle:
    candle = _new(Candle)
    _C0(candle, symbol)
    _C1(candle, interval)
    _C2(candle, open_time_ms)
    _C3(candle, open_)
    _C4(candle, high)
    _C5(candle, low)
    _C6(candle, close)
    _C7(candle, volume)
    _C8(candle, closed)
    _C9(candle, quote_volume)
    _C10(candle, trades)
    _C11(candle, taker_buy_volume)
    return candle
