"""Which Binance streams to open for the watched symbols, and on which connections.

Spot: ``kline_1s``, ``depth20@100ms`` and ``aggTrade`` per symbol on ``<spot>/stream``.
USD-M futures (routed since 2026-04-23): ``depth20@100ms`` on ``<futures>/public/stream``, and
``aggTrade`` + ``kline_1m`` (futures offer no 1s klines) on ``<futures>/market/stream``.
A connection carries at most ``max_streams_per_connection`` streams (Binance allows 1024); the
URL names the first ``url_streams_max`` of them and the rest are sent in SUBSCRIBE batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from core.feeds.binance_endpoints import BinanceEndpoints
from core.market.symbols import BinanceMarket, SymbolMap


@dataclass(frozen=True, slots=True)
class StreamParams:
    spot_kline_interval: str = "1s"
    futures_kline_interval: str = "1m"
    depth_stream: str = "depth20@100ms"
    max_streams_per_connection: int = 1024
    url_streams_max: int = 100


@dataclass(frozen=True, slots=True)
class ConnectionPlan:
    """One websocket connection: where, which market, which streams, for which trader symbols."""

    name: str  # e.g. "spot#0", "futures/public#0"
    market: BinanceMarket
    base_url: str  # ".../stream" (the combined-stream endpoint, no query)
    streams: tuple[str, ...]
    symbols: tuple[str, ...]
    url_streams_max: int = 100

    @property
    def url(self) -> str:
        head = self.streams[: self.url_streams_max]
        return f"{self.base_url}?streams=" + "/".join(quote(s, safe="@_") for s in head)

    @property
    def subscribe_later(self) -> tuple[str, ...]:
        """Streams not named in the URL: sent with SUBSCRIBE once connected."""
        return self.streams[self.url_streams_max:]


def symbol_streams(binance_symbol: str, market: BinanceMarket, params: StreamParams) -> dict[str, list[str]]:
    """Stream names per endpoint path (``""``, ``"/public"`` or ``"/market"``) for one symbol."""
    lower = binance_symbol.lower()
    if market is BinanceMarket.SPOT:
        return {"": [f"{lower}@kline_{params.spot_kline_interval}", f"{lower}@{params.depth_stream}",
                     f"{lower}@aggTrade"]}
    return {"/public": [f"{lower}@{params.depth_stream}"],
            "/market": [f"{lower}@aggTrade", f"{lower}@kline_{params.futures_kline_interval}"]}


def plan_connections(symbol_map: SymbolMap, endpoints: BinanceEndpoints,
                     params: StreamParams = StreamParams(), symbols: list[str] | None = None) -> list[ConnectionPlan]:
    """Connections for ``symbols`` (default: every symbol with a Binance market), sharded."""
    groups: dict[tuple[BinanceMarket, str], list[tuple[str, str]]] = {}
    for symbol in symbols if symbols is not None else symbol_map.symbols():
        target = symbol_map.to_binance(symbol)
        if target is None:
            continue
        binance_symbol, market = target
        market = BinanceMarket(market)
        for path, names in symbol_streams(binance_symbol, market, params).items():
            groups.setdefault((market, path), []).extend((name, symbol) for name in names)
    plans = []
    for (market, path), pairs in groups.items():
        base = endpoints.spot_ws_url if market is BinanceMarket.SPOT else endpoints.futures_ws_url
        size = max(1, params.max_streams_per_connection)
        for index, start in enumerate(range(0, len(pairs), size)):
            chunk = pairs[start:start + size]
            plans.append(ConnectionPlan(
                name=f"{market.value}{path}#{index}", market=market, base_url=f"{base}{path}/stream",
                streams=tuple(name for name, _ in chunk),
                symbols=tuple(dict.fromkeys(symbol for _, symbol in chunk)),
                url_streams_max=max(1, params.url_streams_max)))
    return plans
