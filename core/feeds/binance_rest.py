"""Binance REST klines (spot ``/api/v3/klines``, USD-M ``/fapi/v1/klines``) as core Candles.

``BinanceRestClient`` pages through any interval, keeps within the request-weight budget using the
``X-MBX-USED-WEIGHT-1M`` header (it waits for the next minute when usage nears the cap), backs off
on 429 (honouring ``Retry-After``), stops every request on 418 until the ban ends, retries
timeouts and 5xx, and returns only closed candles. ``RestHistory`` (in ``binance_history``) puts a
disk cache in front of it and implements ``core.ports.HistoryProvider``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec

from core.feeds.binance_endpoints import BinanceEndpoints
from core.market.symbols import BinanceMarket
from core.models import Candle
from core.ports import Clock
from core.tunables import Tunable

log = logging.getLogger(__name__)

TUNABLES: tuple[Tunable, ...] = (
    Tunable("binance.rest_weight_pause_pct", float, 80.0,
            "Pause Binance REST calls until the next minute once this share of the weight budget is used",
            min=10, max=100, unit="%"),
)

Sleep = Callable[[float], Awaitable[None]]

# [openTime, open, high, low, close, volume, closeTime, quoteVolume, trades, takerBuyBase, takerBuyQuote, ignore]
_KlineRow = tuple[int, float, float, float, float, float, int, float, int, float, Any, Any]
_KLINES = msgspec.json.Decoder(list[_KlineRow], strict=False)
_ERROR = msgspec.json.Decoder(dict)


class BinanceRestError(Exception):
    """A request failed for good; ``status`` is the HTTP status (0 for network errors)."""

    def __init__(self, message: str, *, status: int = 0, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class BinanceBannedError(BinanceRestError):
    """HTTP 418: the IP is banned until ``until_ms``; no request is sent before then."""

    def __init__(self, message: str, *, until_ms: int) -> None:
        super().__init__(message, status=418)
        self.until_ms = until_ms


@dataclass(frozen=True, slots=True)
class RestParams:
    timeout_s: float = 10.0
    max_retries: int = 5
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    weight_pause_pct: float = 80.0
    spot_weight_limit: int = 6000  # REQUEST_WEIGHT per minute (exchangeInfo.rateLimits)
    futures_weight_limit: int = 2400
    spot_page_limit: int = 1000  # the per-call maximum
    futures_page_limit: int = 1000  # max 1500, but 1000 costs 5 weight and 1500 costs 10


@dataclass(slots=True)
class _Budget:
    """Weight accounting for one market (one IP budget per host)."""

    limit: int
    used: int = 0
    window_ms: int = -1  # the minute the ``used`` figure belongs to
    banned_until_ms: int = 0


@dataclass(frozen=True, slots=True)
class KlinePage:
    candles: list[Candle]  # closed ones only
    rows: int  # rows Binance returned (forming one included)
    next_close_ms: int | None  # close time of the forming candle, if the page had one


class BinanceRestClient:
    """Kline requests with pagination, weight accounting, backoff and ban handling."""

    def __init__(self, clock: Clock, *, endpoints: BinanceEndpoints = BinanceEndpoints(),
                 params: RestParams = RestParams(), session: aiohttp.ClientSession | None = None,
                 sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._endpoints = endpoints
        self._params = params
        self._session = session
        self._own_session = session is None
        self._sleep = sleep
        self._budgets = {BinanceMarket.SPOT: _Budget(params.spot_weight_limit),
                         BinanceMarket.FUTURES: _Budget(params.futures_weight_limit)}
        self.requests = 0

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    def used_weight(self, market: BinanceMarket | str) -> int:
        """Weight used in the current minute, as Binance last reported it."""
        budget = self._budgets[BinanceMarket(market)]
        return budget.used if budget.window_ms == self._clock.now_ms() // 60_000 else 0

    async def klines(self, binance_symbol: str, market: BinanceMarket | str, interval: str, *,
                     symbol: str | None = None, start_ms: int | None = None, end_ms: int | None = None,
                     limit: int = 500) -> KlinePage:
        """One page of klines (at most the per-call maximum); forming candles are dropped."""
        market = BinanceMarket(market)
        page_max = self._params.spot_page_limit if market is BinanceMarket.SPOT else self._params.futures_page_limit
        query: dict[str, str] = {"symbol": binance_symbol.upper(), "interval": interval,
                                 "limit": str(max(1, min(limit, page_max)))}
        if start_ms is not None:
            query["startTime"] = str(start_ms)
        if end_ms is not None:
            query["endTime"] = str(end_ms)
        path = "/api/v3/klines" if market is BinanceMarket.SPOT else "/fapi/v1/klines"
        body = await self._get(market, path, query)
        try:
            rows = _KLINES.decode(body)
        except msgspec.DecodeError as e:
            raise BinanceRestError(f"unexpected klines payload for {binance_symbol} {interval}: {e}") from None
        now_ms = self._clock.now_ms()
        cutoff_ms = now_ms if end_ms is None else min(now_ms, end_ms + 1)  # closed by then
        label = symbol or binance_symbol.upper()
        closed = [_candle(label, interval, row) for row in rows if row[6] < cutoff_ms]
        forming = [row[6] for row in rows if row[6] >= now_ms]
        return KlinePage(closed, len(rows), forming[0] if forming else None)

    async def klines_range(self, binance_symbol: str, market: BinanceMarket | str, interval: str, *,
                           start_ms: int, end_ms: int | None = None, symbol: str | None = None) -> KlinePage:
        """Every closed kline opening in ``[start_ms, end_ms]``, paging forwards."""
        market = BinanceMarket(market)
        page_max = self._params.spot_page_limit if market is BinanceMarket.SPOT else self._params.futures_page_limit
        out: list[Candle] = []
        next_close_ms = None
        cursor = start_ms
        while True:
            page = await self.klines(binance_symbol, market, interval, symbol=symbol, start_ms=cursor,
                                     end_ms=end_ms, limit=page_max)
            out.extend(page.candles)
            next_close_ms = page.next_close_ms
            if page.rows < page_max or not page.candles or page.next_close_ms is not None:
                return KlinePage(out, len(out), next_close_ms)
            cursor = page.candles[-1].open_time_ms + 1

    async def klines_before(self, binance_symbol: str, market: BinanceMarket | str, interval: str, *,
                            count: int, end_ms: int | None = None, symbol: str | None = None) -> KlinePage:
        """The last ``count`` closed klines opening at or before ``end_ms``, paging backwards."""
        market = BinanceMarket(market)
        page_max = self._params.spot_page_limit if market is BinanceMarket.SPOT else self._params.futures_page_limit
        pages: list[list[Candle]] = []
        have = 0
        cursor = end_ms
        next_close_ms = None
        first = True
        while have < count:
            want = min(page_max, count - have + (1 if first else 0))  # +1: the forming one is dropped
            page = await self.klines(binance_symbol, market, interval, symbol=symbol, end_ms=cursor, limit=want)
            if first:
                next_close_ms = page.next_close_ms
                first = False
            if page.candles:
                pages.append(page.candles)
                have += len(page.candles)
            if page.rows < want or not page.candles:
                break  # the start of the market's history
            cursor = page.candles[0].open_time_ms - 1
        candles = [c for chunk in reversed(pages) for c in chunk]
        return KlinePage(candles[-count:] if count else [], have, next_close_ms)

    # ------------------------------------------------------------------ transport

    async def _get(self, market: BinanceMarket, path: str, query: dict[str, str]) -> bytes:
        """GET with the weight budget, retries and ban handling (a small retry state machine)."""
        budget = self._budgets[market]
        base = self._endpoints.spot_rest_url if market is BinanceMarket.SPOT else self._endpoints.futures_rest_url
        attempt = 0
        while True:
            self._check_ban(budget, market)
            await self._respect_budget(budget)
            try:
                status, headers, body = await self._request(base + path, query)
            except (aiohttp.ClientError, TimeoutError) as e:
                detail = "timed out" if isinstance(e, TimeoutError) else str(e) or type(e).__name__
                attempt = await self._retry_or_raise(attempt, f"GET {path} {detail}", status=0)
                continue
            self._note_weight(budget, headers)
            if status == 200:
                return body
            retry_after_s = _retry_after_s(headers)
            if status == 418:
                wait_s = retry_after_s if retry_after_s is not None else 120.0
                budget.banned_until_ms = self._clock.now_ms() + int(wait_s * 1000)
                self._check_ban(budget, market)
            if status == 429:
                log.warning("binance %s rate limited (429); retry after %s s", market.value, retry_after_s)
                attempt = await self._retry_or_raise(attempt, f"GET {path} rate limited (429)", status=429,
                                                     wait_s=retry_after_s)
                continue
            if status >= 500:
                attempt = await self._retry_or_raise(attempt, f"GET {path} server error {status}", status=status)
                continue
            error = _error_body(body)
            raise BinanceRestError(f"GET {path} {query.get('symbol', '')} failed: HTTP {status} "
                                   f"{error.get('msg', body[:200].decode('utf-8', 'replace'))}",
                                   status=status, code=error.get("code"))

    async def _request(self, url: str, query: dict[str, str]) -> tuple[int, Any, bytes]:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        self.requests += 1
        timeout = aiohttp.ClientTimeout(total=self._params.timeout_s)
        async with self._session.get(url, params=query, timeout=timeout) as response:
            return response.status, response.headers, await response.read()

    def _check_ban(self, budget: _Budget, market: BinanceMarket) -> None:
        now_ms = self._clock.now_ms()
        if budget.banned_until_ms > now_ms:
            wait_s = (budget.banned_until_ms - now_ms) / 1000
            raise BinanceBannedError(
                f"Binance {market.value} banned this IP (HTTP 418); no requests for another {wait_s:.0f} s",
                until_ms=budget.banned_until_ms)

    async def _respect_budget(self, budget: _Budget) -> None:
        now_ms = self._clock.now_ms()
        minute = now_ms // 60_000
        if budget.window_ms != minute:
            return
        if budget.used * 100 >= budget.limit * self._params.weight_pause_pct:
            wait_s = ((minute + 1) * 60_000 - now_ms) / 1000 + 0.5
            log.warning("binance weight %d/%d used; pausing %.1fs", budget.used, budget.limit, wait_s)
            await self._sleep(wait_s)

    def _note_weight(self, budget: _Budget, headers: Any) -> None:
        raw = headers.get("X-MBX-USED-WEIGHT-1M") or headers.get("X-MBX-USED-WEIGHT-1m")
        if raw is None:
            return
        try:
            budget.used = int(raw)
        except ValueError:
            return
        budget.window_ms = self._clock.now_ms() // 60_000

    async def _retry_or_raise(self, attempt: int, detail: str, *, status: int, wait_s: float | None = None) -> int:
        if attempt >= self._params.max_retries:
            raise BinanceRestError(f"{detail}; gave up after {attempt + 1} tries", status=status)
        if wait_s is None:
            wait_s = min(self._params.backoff_max_s, self._params.backoff_initial_s * 2 ** attempt)
        await self._sleep(wait_s)
        return attempt + 1


def _candle(symbol: str, interval: str, row: _KlineRow) -> Candle:
    return Candle(symbol, interval, row[0], row[1], row[2], row[3], row[4], row[5], True, row[7], row[8], row[9])


def _retry_after_s(headers: Any) -> float | None:
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _error_body(body: bytes) -> dict[str, Any]:
    try:
        value = _ERROR.decode(body)
    except msgspec.DecodeError:
        return {}
    return value
