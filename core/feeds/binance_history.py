"""``RestHistory``: closed higher-timeframe candles from Binance REST behind an on-disk cache.

Implements ``core.ports.HistoryProvider``. Per (market, Binance symbol, interval) the cache holds
one contiguous run of closed candles, as Binance served them, in a CSV file under ``cache_dir``
(``<market>/<SYMBOL>_<interval>.csv``; ``1M`` is spelled ``1mo`` so that case-insensitive file
systems keep it apart from ``1m``). New closed candles are appended as they close; older ones
are prepended when a request reaches further back. A restart re-reads the files and only asks
Binance for what closed since.
"""

from __future__ import annotations

import asyncio
import bisect
import os
from dataclasses import dataclass, field
from pathlib import Path

from core.feeds.binance_rest import BinanceRestClient
from core.market.candles import next_bucket_start_ms
from core.market.symbols import BinanceMarket, SymbolMap
from core.models import Candle
from core.ports import Clock

_HEADER = "open_time_ms,open,high,low,close,volume,quote_volume,trades,taker_buy_volume\n"


class NoBinanceMarket(KeyError):
    """The trader symbol has no Binance market (history must come from elsewhere)."""


@dataclass(slots=True)
class _Series:
    candles: list[Candle] = field(default_factory=list)
    opens: list[int] = field(default_factory=list)  # open times, for bisect
    next_close_ms: int | None = None  # close time of the forming candle seen last (memory only)
    history_start: bool = False  # Binance has nothing older than candles[0]


class RestHistory:
    """HistoryProvider over ``BinanceRestClient`` with a per-series disk cache."""

    def __init__(self, client: BinanceRestClient, symbol_map: SymbolMap, clock: Clock,
                 cache_dir: Path | str | None = None) -> None:
        self._client = client
        self._symbol_map = symbol_map
        self._clock = clock
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def klines(self, symbol: str, interval: str, *, limit: int = 500,
                     end_ms: int | None = None) -> list[Candle]:
        """Up to ``limit`` closed candles ending with the last one closed at or before ``end_ms``."""
        target = self._symbol_map.to_binance(symbol)
        if target is None:
            raise NoBinanceMarket(f"{symbol} has no Binance market")
        binance_symbol, market = target[0], BinanceMarket(target[1])
        key = (market.value, binance_symbol.upper(), interval)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = await asyncio.to_thread(self._load, key, symbol)
            now_ms = self._clock.now_ms()
            end = now_ms if end_ms is None else min(end_ms, now_ms)
            await self._refresh(series, key, symbol, end)
            await self._extend_back(series, key, symbol, end, limit)
            return self._window(series, interval, end, limit)

    async def _refresh(self, series: _Series, key: tuple[str, str, str], symbol: str, end: int) -> None:
        """Append candles that closed since the newest cached one (when any can have)."""
        if not series.candles:
            return
        interval = key[2]
        last_open = series.candles[-1].open_time_ms
        following_open = next_bucket_start_ms(last_open, interval)
        following_close = next_bucket_start_ms(following_open, interval) - 1
        if end <= following_close or (series.next_close_ms is not None and end <= series.next_close_ms):
            return  # no further candle can have closed by ``end``
        page = await self._client.klines_range(key[1], key[0], interval, start_ms=last_open + 1, end_ms=end,
                                               symbol=symbol)
        series.next_close_ms = page.next_close_ms
        fresh = [c for c in page.candles if c.open_time_ms > last_open]
        if fresh:
            self._append(series, fresh)
            await asyncio.to_thread(self._write_append, key, fresh)

    async def _extend_back(self, series: _Series, key: tuple[str, str, str], symbol: str, end: int,
                           limit: int) -> None:
        """Fetch older candles until ``limit`` closed ones end at ``end`` (or history starts)."""
        interval = key[2]
        while not series.history_start:
            have = self._closed_count(series, interval, end)
            if have >= limit:
                return
            if not series.candles:
                page = await self._client.klines_before(key[1], key[0], interval, count=limit, end_ms=end,
                                                        symbol=symbol)
                series.next_close_ms = page.next_close_ms
                older = page.candles
            else:
                page = await self._client.klines_before(key[1], key[0], interval, count=limit - have,
                                                        end_ms=series.candles[0].open_time_ms - 1, symbol=symbol)
                older = page.candles
            want = limit if not series.candles else limit - have
            if len(older) < want:
                series.history_start = True
            if not older:
                return
            self._prepend(series, older)
            await asyncio.to_thread(self._write_all, key, series.candles)

    def _closed_count(self, series: _Series, interval: str, end: int) -> int:
        index = bisect.bisect_right(series.opens, end)
        while index and next_bucket_start_ms(series.opens[index - 1], interval) - 1 > end:
            index -= 1
        return index

    def _window(self, series: _Series, interval: str, end: int, limit: int) -> list[Candle]:
        index = self._closed_count(series, interval, end)
        return series.candles[max(0, index - limit):index] if limit > 0 else []

    @staticmethod
    def _append(series: _Series, candles: list[Candle]) -> None:
        series.candles.extend(candles)
        series.opens.extend(c.open_time_ms for c in candles)

    @staticmethod
    def _prepend(series: _Series, candles: list[Candle]) -> None:
        first = series.candles[0].open_time_ms if series.candles else None
        older = [c for c in candles if first is None or c.open_time_ms < first]
        series.candles[:0] = older
        series.opens[:0] = [c.open_time_ms for c in older]

    # ------------------------------------------------------------------ disk cache (run in threads)

    def _path(self, key: tuple[str, str, str]) -> Path | None:
        if self._cache_dir is None:
            return None
        market, binance_symbol, interval = key
        name = interval[:-1] + "mo" if interval.endswith("M") else interval
        return self._cache_dir / market / f"{binance_symbol}_{name}.csv"

    def _load(self, key: tuple[str, str, str], symbol: str) -> _Series:
        series = _Series()
        path = self._path(key)
        if path is None or not path.exists():
            return series
        candles = []
        with path.open() as f:
            for line in f:
                parts = line.rstrip("\n").split(",")
                if len(parts) != 9 or not parts[0].isdigit():
                    continue  # the header, or a torn last line
                candles.append(Candle(symbol, key[2], int(parts[0]), float(parts[1]), float(parts[2]),
                                      float(parts[3]), float(parts[4]), float(parts[5]), True,
                                      float(parts[6]), int(parts[7]), float(parts[8])))
        candles.sort(key=lambda c: c.open_time_ms)
        unique = [c for i, c in enumerate(candles) if i == 0 or c.open_time_ms != candles[i - 1].open_time_ms]
        self._append(series, unique)
        return series

    def _write_append(self, key: tuple[str, str, str], candles: list[Candle]) -> None:
        path = self._path(key)
        if path is None:
            return
        if not path.exists():
            self._write_all(key, candles)
            return
        with path.open("a") as f:
            f.writelines(_row(c) for c in candles)

    def _write_all(self, key: tuple[str, str, str], candles: list[Candle]) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w") as f:
            f.write(_HEADER)
            f.writelines(_row(c) for c in candles)
        os.replace(tmp, path)


def _row(c: Candle) -> str:
    return (f"{c.open_time_ms},{c.open!r},{c.high!r},{c.low!r},{c.close!r},{c.volume!r},"
            f"{c.quote_volume!r},{c.trades},{c.taker_buy_volume!r}\n")
