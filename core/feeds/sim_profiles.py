"""What the market simulator knows about each symbol and asset class.

Crypto numbers are measured from real Binance BTCUSDT data (see docs/simulator.md); Binance has
no gold or FX data here, so those classes scale the crypto microstructure down (fewer, smaller
trades) and take their volatility and sessions from common market knowledge.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from core.market.symbols import AssetClass, SymbolSpec

HOUR_MS = 3_600_000
DAY_MS = 86_400_000

# Mean |1h return| by UTC hour, BTCUSDT USD-M perpetual 2024-01 .. 2026-04 (20,339 hours).
CRYPTO_HOUR_PROFILE: tuple[float, ...] = (
    0.99, 1.07, 0.96, 0.83, 0.76, 0.75, 0.82, 0.85, 0.85, 0.80, 0.77, 0.78,
    0.87, 1.29, 1.66, 1.50, 1.19, 1.23, 1.12, 1.10, 1.03, 0.95, 0.99, 0.84,
)
# FX / metals: quiet Asia, London open, London-New York overlap peak, quiet late New York.
FX_HOUR_PROFILE: tuple[float, ...] = (
    0.55, 0.50, 0.55, 0.60, 0.60, 0.60, 0.70, 1.00, 1.25, 1.20, 1.10, 1.05,
    1.25, 1.50, 1.55, 1.45, 1.20, 0.95, 0.80, 0.75, 0.70, 0.50, 0.45, 0.50,
)


@dataclass(frozen=True, slots=True)
class AssetClassProfile:
    """Per-class activity: trade rate, size scale, book sizes, sessions."""

    trade_rate_per_s: float  # aggregated trades per second at activity 1 (TRENDING regime, weekday)
    size_scale: float  # multiplies the BTCUSDT-calibrated trade and book notional sizes
    hour_profile: tuple[float, ...]
    weekend_activity: float  # relative volatility and trade rate on weekends
    trading_days_per_year: int  # calendar used to turn annual volatility into per-second volatility
    fx_weekend: bool = False  # weekend = Friday 21:00 to Sunday 21:00 UTC instead of Sat+Sun

    def hour_factors(self) -> tuple[float, ...]:
        """The hour profile scaled so the mean of its squares is 1 (keeps annual variance)."""
        norm = math.sqrt(sum(x * x for x in self.hour_profile) / len(self.hour_profile))
        return tuple(x / norm for x in self.hour_profile)

    def week_factors(self) -> tuple[float, float]:
        """(weekday, weekend) multipliers keeping the average variance of a trading week at 1."""
        if self.fx_weekend:
            return 1.0, self.weekend_activity  # volatility is already per trading day
        norm = math.sqrt((5 + 2 * self.weekend_activity ** 2) / 7)
        return 1.0 / norm, self.weekend_activity / norm


CLASS_PROFILES: dict[AssetClass, AssetClassProfile] = {
    # 18/s: the measured 17.4/s BTCUSDT rate divided by the hour factor at the recording's time of day.
    AssetClass.CRYPTO: AssetClassProfile(18.0, 1.0, CRYPTO_HOUR_PROFILE, 0.7, 365),
    AssetClass.METAL: AssetClassProfile(7.0, 1.0, FX_HOUR_PROFILE, 0.03, 260, fx_weekend=True),
    AssetClass.FX: AssetClassProfile(5.0, 0.7, FX_HOUR_PROFILE, 0.03, 260, fx_weekend=True),
    AssetClass.INDEX: AssetClassProfile(6.0, 1.0, FX_HOUR_PROFILE, 0.03, 260, fx_weekend=True),
    AssetClass.OTHER: AssetClassProfile(5.0, 0.7, FX_HOUR_PROFILE, 0.03, 260, fx_weekend=True),
}


@dataclass(frozen=True, slots=True)
class SimSymbol:
    """One simulated symbol: its scales and its book shape."""

    symbol: str
    asset_class: AssetClass
    start_price: float
    tick_size: float
    qty_step: float  # base-unit lot step for trade and book quantities
    annual_vol: float  # long-run annualised volatility (regime mix included)
    spread_ticks: int  # quoted spread in calm and trending markets
    level_gap_ticks: float  # mean distance between book levels
    usd_per_base: float | None = None  # None: derived from the name (XXXUSD: price; USDXXX: 1)
    activity: float = 1.0  # multiplies the class trade rate (crosses trade less)

    @property
    def profile(self) -> AssetClassProfile:
        return CLASS_PROFILES[self.asset_class]

    def usd_value_of_base(self, price: float) -> float:
        """USD value of one base unit at ``price`` (fixed rate for crosses such as GBPJPY)."""
        if self.usd_per_base is not None:
            return self.usd_per_base
        if self.symbol.startswith("USD"):
            return 1.0
        return price


DEFAULT_SIM_SYMBOLS: tuple[SimSymbol, ...] = (
    SimSymbol("BTCUSD", AssetClass.CRYPTO, 95_000.0, 0.01, 0.00001, 0.60, 1, 57.0),
    SimSymbol("XAUUSD", AssetClass.METAL, 3_300.0, 0.01, 0.001, 0.15, 15, 5.0),
    SimSymbol("EURUSD", AssetClass.FX, 1.0850, 0.00001, 1.0, 0.07, 6, 2.0),
    SimSymbol("GBPUSD", AssetClass.FX, 1.2700, 0.00001, 1.0, 0.08, 9, 2.0),
    SimSymbol("USDJPY", AssetClass.FX, 150.000, 0.001, 1.0, 0.09, 8, 2.0),
    SimSymbol("GBPJPY", AssetClass.FX, 190.500, 0.001, 1.0, 0.11, 20, 3.0, usd_per_base=1.27, activity=0.6),
    SimSymbol("EURJPY", AssetClass.FX, 162.800, 0.001, 1.0, 0.09, 15, 3.0, usd_per_base=1.085, activity=0.6),
)

_CLASS_DEFAULT_VOL = {AssetClass.CRYPTO: 0.60, AssetClass.METAL: 0.15, AssetClass.FX: 0.08,
                      AssetClass.INDEX: 0.18, AssetClass.OTHER: 0.2}


def sim_symbol(name: str) -> SimSymbol:
    """The default simulated symbol called ``name`` (KeyError listing the known ones)."""
    for sym in DEFAULT_SIM_SYMBOLS:
        if sym.symbol == name.upper():
            return sym
    raise KeyError(f"no simulator defaults for {name!r}; known: {', '.join(s.symbol for s in DEFAULT_SIM_SYMBOLS)}")


def sim_symbols_for(specs: Iterable[SymbolSpec | SimSymbol | str],
                    start_prices: dict[str, float] | None = None) -> list[SimSymbol]:
    """Simulator symbols for a symbol map's specs, names or ready ``SimSymbol`` objects.

    Default symbols keep their calibrated settings; other specs get their class's defaults with a
    tick of ``10**-price_digits`` and a start price from ``start_prices`` (else 100).
    """
    out: list[SimSymbol] = []
    prices = start_prices or {}
    for item in specs:
        if isinstance(item, SimSymbol):
            out.append(item)
            continue
        name = item if isinstance(item, str) else item.symbol
        try:
            found = sim_symbol(name)
        except KeyError:
            if isinstance(item, str):
                raise
            found = _from_spec(item, prices.get(item.symbol, 100.0))
        if name.upper() in prices:
            found = _replace_price(found, prices[name.upper()])
        out.append(found)
    return out


def _from_spec(spec: SymbolSpec, start_price: float) -> SimSymbol:
    tick = 10.0 ** -spec.price_digits
    return SimSymbol(spec.symbol, spec.asset_class, start_price, tick, 0.001,
                     _CLASS_DEFAULT_VOL[spec.asset_class], 5, 2.0)


def _replace_price(sym: SimSymbol, price: float) -> SimSymbol:
    return replace(sym, start_price=price)


def symbol_names(symbols: Sequence[SimSymbol]) -> tuple[str, ...]:
    return tuple(s.symbol for s in symbols)
