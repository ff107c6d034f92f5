"""Decode Binance combined-stream frames into core events (the adapter edge).

One ``BinanceDecoder`` per market ("spot" or "futures") turns a raw frame (bytes or str,
``{"stream": ..., "data": ...}``) into a ``Candle``, ``Trade`` or ``BookSnapshot``, or ``None``
for frames that carry no market event (subscription acks, REST snapshot lines in recordings,
streams we do not model such as ``bookTicker`` or diff depth). Nothing past this module sees a
Binance payload.

Speed: prices are decoded straight to floats by msgspec typed structs (``strict=False`` accepts
Binance's decimal strings), one decode per frame: a frame ending like an aggTrade is tried as one
first, anything else picks its struct by the letter after the ``@`` of its stream name. Stream
names are looked up in a per-decoder route cache, so the symbol mapping runs once per stream,
and events are built with ``core.market.fast_models`` (the frozen models' constructors, faster).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from core.market.fast_models import TRADE_SHELL, new_book, new_candle, new_trade
from core.models import MarketEvent, Side, StreamKind, Trade

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
# byte value -> decode function (a list index is cheaper than a dict lookup on the hot path)
_DECODE_BY_BYTE = [_FRAME_BY_LETTER.get(byte, _OTHER_FRAME).decode for byte in range(256)]
_ENVELOPE = msgspec.json.Decoder(_Envelope)

_BUY = Side.BUY
_SELL = Side.SELL

# route kinds (ints compare fastest)
_R_AGG, _R_TRADE, _R_KLINE, _R_DEPTH, _R_SKIP = range(5)
_FRAME_OF_ROUTE: dict[int, type] = {_R_AGG: _AggTradeFrame, _R_TRADE: _RawTradeFrame, _R_KLINE: _KlineFrame,
                                    _R_DEPTH: _DepthFrame}


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
        self._agg_symbols: dict[str, str] = {}  # aggTrade stream name -> trader symbol (the hot path)
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
        and attribute lookups cost as much as the JSON decode). A frame ending like an aggTrade
        payload is tried as one first and built inline (the most frequent message). Otherwise
        the letter after the first ``@`` (in a combined-stream frame, the one in the stream
        name) picks a typed struct, so one msgspec decode yields stream name and payload.
        Guesses are safe: msgspec checks the whole shape, and ``_typed`` checks that the struct
        fits the stream, so a frame that fooled either guess (other key order, control
        messages) ends on the slow path.
        """
        agg_symbols, typed, slow = self._agg_symbols, self._typed, self._slow
        decode_by_byte, errors = _DECODE_BY_BYTE, (msgspec.DecodeError, IndexError)
        not_agg = (msgspec.DecodeError, IndexError, KeyError)  # KeyError: a stream not routed yet
        decode_agg = _FRAME_BY_LETTER[ord("a")].decode
        new, shell, trade_cls, sell, buy = object.__new__, TRADE_SHELL, Trade, _SELL, _BUY

        def decode(frame: bytes | str, recv_ts_ms: int) -> MarketEvent | None:
            if type(frame) is str:
                frame = frame.encode()
            try:
                if frame[-3] == 101:  # b"e": ends like an aggTrade ('"m":true}}'); cheaper than finding "@"
                    msg = decode_agg(frame)
                    symbol = agg_symbols[msg.stream]
                    d = msg.data
                    trade = new(shell)  # fast_models.new_trade, inlined
                    trade.symbol = symbol
                    trade.trade_id = d.a
                    trade.price = d.p
                    trade.qty = d.q
                    trade.ts_ms = d.T
                    trade.side = sell if d.m else buy
                    trade.__class__ = trade_cls
                    return trade
            except not_agg:
                pass  # not an aggTrade of a known stream after all: the general path decides
            try:
                msg = decode_by_byte[frame[frame.find(b"@", 11) + 1]](frame)
            except errors:
                return slow(frame, recv_ts_ms)
            return typed(msg, frame, recv_ts_ms)

        return decode

    def _typed(self, msg: Any, frame: bytes, recv_ts_ms: int) -> MarketEvent | None:
        """A frame decoded into a typed struct: check it fits its stream, then build the event."""
        route = self._routes.get(msg.stream)
        if route is None:
            route = self._route_for(msg.stream)
        if route.code == _R_SKIP:
            self.skipped += 1
            return None
        if _FRAME_OF_ROUTE[route.code] is not type(msg):
            return self._slow(frame, recv_ts_ms)
        return self._event(route, msg.data, recv_ts_ms)

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
        if route.code == _R_AGG:
            self._agg_symbols[stream] = route.symbol
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
# (core.market.fast_models: the models' constructors minus the frozen guard, several times faster)

_new_trade = new_trade
_new_book = new_book
_new_candle = new_candle
