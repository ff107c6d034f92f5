"""Money in the account currency: the one place a symbol's quote or base currency is converted.

A symbol's P/L is in its quote currency (JPY for USDJPY, GBPJPY, EURJPY) and its margin in its
base currency; a trader's money is in the account currency (the broker's ``AccountInfo.currency``,
USD for paper). Rates come from live prices of the known symbols: JPY -> USD is 1 / USDJPY,
GBP -> USD is GBPUSD, and a cross through a third currency when no direct symbol has a usable
price (JPY -> USD = GBPUSD / GBPJPY).

A price older than ``money.max_rate_age_s`` does not convert money that decides something
(sizing, EXECUTE gates, margin): ``RateUnavailable`` says which price is missing or how old it is.
Valuing what already exists (a close, an open position's P/L) may use the last price of any age
(``allow_stale=True``), because refusing a stop loss is worse than an old rate. Nothing falls
back to 1.0: only a currency converts to itself at exactly 1.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from core.market.symbols import SymbolSpec
from core.models import Quote, Tick
from core.ports import BrokerError, Clock
from core.tunables import Tunable, TunableValues

TUNABLES: tuple[Tunable, ...] = (
    Tunable("money.max_rate_age_s", float, 300.0, "oldest price that may convert money into the account "
            "currency for sizing, margin and the EXECUTE gates (older: refused, with the reason)", 1, 86_400,
            unit="s"),
)
DEFAULT_MAX_RATE_AGE_S = 300.0

PriceLookup = Callable[[str], tuple[float, int] | None]  # trader symbol -> (mid price, ts_ms), or None
QuoteFetch = Callable[[str], Awaitable[Quote]]


class RateUnavailable(Exception):
    """A conversion that cannot be done now; ``message`` says why, for a trader."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def lookup_from_ticks(tick_of: Callable[[str], Tick | None]) -> PriceLookup:
    """Adapt a price cache's ``tick(symbol)`` (e.g. ``MarketState.tick``): its mid and time."""

    def lookup(symbol: str) -> tuple[float, int] | None:
        tick = tick_of(symbol)
        if tick is None:
            return None
        mid = (tick.bid + tick.ask) / 2.0 if tick.bid is not None and tick.ask is not None else tick.price
        return mid, tick.ts_ms

    return lookup


@dataclass(frozen=True, slots=True)
class _Leg:
    """One symbol used to step from ``source`` to ``target``: ``inverse`` when it quotes source in target."""

    symbol: str
    source: str
    target: str
    inverse: bool


class MoneyService:
    """Rates between currencies from the prices of ``specs``' symbols; see the module docstring.

    Prices come from ``lookups`` (the market's price cache) and from ``note`` (broker quotes seen
    elsewhere); the freshest one counts.
    """

    def __init__(self, specs: Iterable[SymbolSpec], clock: Clock, *, lookups: Sequence[PriceLookup] = (),
                 tunables: TunableValues | None = None) -> None:
        self._pairs: dict[str, tuple[str, str]] = {}
        for spec in specs:
            self._pairs.setdefault(spec.symbol, spec.currencies)
        self._clock = clock
        self._lookups = tuple(lookups)
        self._tunables = tunables
        self._noted: dict[str, tuple[float, int]] = {}

    # ------------------------------------------------------------------ prices

    @property
    def max_age_s(self) -> float:
        if self._tunables is None:
            return DEFAULT_MAX_RATE_AGE_S
        return float(self._tunables["money.max_rate_age_s"])

    def note(self, symbol: str, bid: float, ask: float, ts_ms: int) -> None:
        """A price seen elsewhere (a broker quote); kept when it is the newest of ``symbol``."""
        known = self._noted.get(symbol)
        if bid > 0 and ask > 0 and (known is None or ts_ms >= known[1]):
            self._noted[symbol] = ((bid + ask) / 2.0, ts_ms)

    def price(self, symbol: str) -> tuple[float, int] | None:
        """The freshest known (mid, ts_ms) of ``symbol``."""
        found = [p for p in (self._noted.get(symbol), *(lookup(symbol) for lookup in self._lookups))
                 if p is not None and p[0] > 0]
        return max(found, key=lambda p: p[1]) if found else None

    # ------------------------------------------------------------------ currencies

    def currencies(self, symbol: str) -> tuple[str, str]:
        """(base, quote) of ``symbol`` (an unlisted six-letter name reads as both); RateUnavailable
        when nothing says."""
        known = self._pairs.get(symbol)
        base, quote = known if known is not None else SymbolSpec(symbol, None, None, symbol).currencies
        if not base or not quote:
            raise RateUnavailable(f"the currencies of {symbol} are unknown: set its base_currency and "
                                  "quote_currency in the symbols config")
        return base, quote

    def quote_rate(self, symbol: str, currency: str, *, allow_stale: bool = False) -> float:
        """``currency`` per unit of ``symbol``'s quote currency (P/L in quote x this = P/L in ``currency``)."""
        return self.rate(self.currencies(symbol)[1], currency, allow_stale=allow_stale)

    def base_rate(self, symbol: str, currency: str, *, allow_stale: bool = False) -> float:
        """``currency`` per unit of ``symbol``'s base currency (the value of one base unit)."""
        return self.rate(self.currencies(symbol)[0], currency, allow_stale=allow_stale)

    def rate(self, source: str, target: str, *, allow_stale: bool = False) -> float:
        """How many ``target`` one ``source`` is worth now; RateUnavailable says why not."""
        source, target = source.upper(), target.upper()
        if source == target:
            return 1.0
        problems: dict[str, int] = {}  # why each path failed -> its length
        for path in self._paths(source, target):
            value, problem = self._path_rate(path, allow_stale)
            if value is not None:
                return value
            problems.setdefault(problem, len(path))
        if not problems:
            raise RateUnavailable(f"cannot convert {source} to {target}: no symbol prices {source} in {target} "
                                  f"(add {target}{source} or {source}{target})")
        shortest = min(problems.values())  # the direct symbols' problems say it best
        shown = [problem for problem, length in problems.items() if length == shortest][:2]
        raise RateUnavailable(f"cannot convert {source} to {target}: {'; '.join(shown)}")

    async def refresh(self, source: str, target: str, fetch: QuoteFetch) -> None:
        """Fetch (``fetch`` = a broker's ``quote``) the prices a ``source`` -> ``target`` conversion
        needs, direct symbols first, until one path is fresh; a refused quote is skipped (the rate
        then says what is missing)."""
        for path in self._paths(source.upper(), target.upper()):
            if self._path_rate(path, allow_stale=False)[0] is not None:
                return
            for leg in path:
                try:
                    quote = await fetch(leg.symbol)
                except BrokerError:
                    continue
                self.note(leg.symbol, quote.bid, quote.ask, quote.ts_ms)
            if self._path_rate(path, allow_stale=False)[0] is not None:
                return

    async def live_quote_rate(self, symbol: str, currency: str, fetch: QuoteFetch) -> float:
        """``quote_rate`` from fresh prices, fetching (``refresh``) what is missing or old first."""
        await self.refresh(self.currencies(symbol)[1], currency, fetch)
        return self.quote_rate(symbol, currency)

    # ------------------------------------------------------------------ internals

    def _legs(self, source: str) -> list[_Leg]:
        legs = []
        for symbol, (base, quote) in self._pairs.items():
            if base == source and quote:
                legs.append(_Leg(symbol, source, quote, inverse=False))
            elif quote == source and base:
                legs.append(_Leg(symbol, source, base, inverse=True))
        return legs

    def _paths(self, source: str, target: str) -> list[tuple[_Leg, ...]]:
        """Direct symbols first, then crosses through one other currency."""
        first = self._legs(source)
        direct = [(leg,) for leg in first if leg.target == target]
        crosses = [(leg, second) for leg in first if leg.target != target
                   for second in self._legs(leg.target) if second.target == target]
        return [*direct, *crosses]

    def _path_rate(self, path: tuple[_Leg, ...], allow_stale: bool) -> tuple[float | None, str]:
        value = 1.0
        now_ms = self._clock.now_ms()
        for leg in path:
            found = self.price(leg.symbol)
            if found is None:
                return None, f"no {leg.symbol} price yet"
            mid, ts_ms = found
            age_s = (now_ms - ts_ms) / 1000.0
            if not allow_stale and age_s > self.max_age_s:
                return None, f"the {leg.symbol} price is {age_s:,.0f} s old (limit {self.max_age_s:g} s)"
            value *= 1.0 / mid if leg.inverse else mid
        return value, ""
