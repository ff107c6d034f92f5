"""Price sync: the basis between Binance's price and the broker's for the same symbol.

Levels are computed on Binance prices (they carry the order flow); orders go to the broker,
whose quotes differ (USDT vs USD, futures vs spot gold, the broker's own feed). ``PriceSync``
keeps the last ``window`` pairs of (reference price, broker price) per symbol and estimates the
basis as rolling medians of the ratio and of the difference, with their spread (median absolute
deviation, in basis points of price). ``to_broker`` translates a Binance-based price with the
ratio (the default: a premium scales with price) or the difference; it refuses while the basis
is not stable. With the paper broker use ``PriceSync.identity()``: basis zero, always stable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from core.tunables import Tunable, params_from_values

TUNABLES: tuple[Tunable, ...] = (
    Tunable("price_sync.min_samples", int, 20, "Broker/Binance price pairs needed before the basis is "
            "trusted", min=1, max=100000),
    Tunable("price_sync.max_spread_bps", float, 10.0, "The basis is unstable when its spread (median absolute "
            "deviation) is wider than this", min=0, max=10000, unit="bps"),
    Tunable("price_sync.max_skew_ms", int, 2000, "A broker quote and a Binance price further apart in time than "
            "this are not paired", min=0, max=600000, unit="ms"),
    Tunable("price_sync.max_age_s", float, 300.0, "The basis is unstable when its newest pair is older than "
            "this", min=1, max=86400, unit="s"),
)


class BasisMethod(StrEnum):
    RATIO = "ratio"  # broker = reference * median(broker / reference)
    DIFFERENCE = "difference"  # broker = reference + median(broker - reference)


class BasisUnavailable(ValueError):
    """No stable basis for a symbol; ``reason`` is readable by a trader."""

    def __init__(self, symbol: str, reason: str) -> None:
        super().__init__(f"{symbol}: cannot translate prices to the broker: {reason}")
        self.symbol = symbol
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SyncParams:
    min_samples: int = 20
    max_spread_bps: float = 10.0
    max_skew_ms: int = 2000
    max_age_s: float = 300.0

    @classmethod
    def from_values(cls, values: Mapping[str, Any] | Any) -> SyncParams:
        return params_from_values(cls, "price_sync", values)


@dataclass(frozen=True, slots=True)
class Basis:
    symbol: str
    median_difference: float  # broker - reference, in price units
    median_ratio: float  # broker / reference
    difference_mad: float  # median absolute deviation of the difference, price units
    spread_bps: float  # median absolute deviation of the ratio, in bps
    samples: int
    last_ts_ms: int
    stable: bool
    reason: str  # why it is (not) stable, for /health and refusals
    method: BasisMethod = BasisMethod.RATIO

    @property
    def median_difference_bps(self) -> float:
        return (self.median_ratio - 1.0) * 10_000.0

    def to_broker(self, price: float) -> float:
        if self.method is BasisMethod.RATIO:
            return price * self.median_ratio
        return price + self.median_difference

    def from_broker(self, price: float) -> float:
        if self.method is BasisMethod.RATIO:
            return price / self.median_ratio
        return price - self.median_difference


class PriceSync:
    """Rolling basis per symbol over the last ``window`` price pairs."""

    def __init__(self, window: int = 300, params: SyncParams | None = None, *,
                 methods: Mapping[str, BasisMethod] | None = None, identity: bool = False) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.window = window
        self.params = params or SyncParams()
        self.is_identity = identity
        self._methods = dict(methods or {})
        self._pairs: dict[str, deque[tuple[int, float, float]]] = {}

    @classmethod
    def identity(cls) -> PriceSync:
        """For the paper broker: it fills at Binance prices, so the basis is zero."""
        return cls(window=1, identity=True)

    def method(self, symbol: str) -> BasisMethod:
        return self._methods.get(symbol, BasisMethod.RATIO)

    def record(self, symbol: str, reference_price: float, broker_price: float, ts_ms: int) -> bool:
        """Add one pair taken at (about) the same moment; returns False if the prices are unusable."""
        if not (reference_price > 0 and broker_price > 0) or np.isinf(reference_price + broker_price):
            return False
        pairs = self._pairs.get(symbol)
        if pairs is None:
            pairs = self._pairs[symbol] = deque(maxlen=self.window)
        pairs.append((ts_ms, reference_price, broker_price))
        return True

    def record_quote(self, symbol: str, reference_price: float, reference_ts_ms: int,
                     broker_price: float, broker_ts_ms: int) -> bool:
        """Pair a broker quote (use its mid) with the Binance price, if close enough in time."""
        if abs(reference_ts_ms - broker_ts_ms) > self.params.max_skew_ms:
            return False
        return self.record(symbol, reference_price, broker_price, max(reference_ts_ms, broker_ts_ms))

    def samples(self, symbol: str) -> int:
        return len(self._pairs.get(symbol, ()))

    def basis(self, symbol: str, now_ms: int | None = None) -> Basis | None:
        """The current basis estimate (None before the first pair); ``now_ms`` enables the age check."""
        method = self.method(symbol)
        if self.is_identity:
            return Basis(symbol, 0.0, 1.0, 0.0, 0.0, 0, now_ms or 0, True, "paper broker: no basis", method)
        pairs = self._pairs.get(symbol)
        if not pairs:
            return None
        data = np.array(pairs, dtype=np.float64)
        reference, broker = data[:, 1], data[:, 2]
        ratio = broker / reference
        difference = broker - reference
        median_ratio = float(np.median(ratio))
        median_difference = float(np.median(difference))
        spread_bps = float(np.median(np.abs(ratio - median_ratio)) / median_ratio * 10_000.0)
        difference_mad = float(np.median(np.abs(difference - median_difference)))
        last_ts_ms = int(pairs[-1][0])
        stable, reason = self._judge(len(pairs), spread_bps, last_ts_ms, now_ms)
        return Basis(symbol, median_difference, median_ratio, difference_mad, spread_bps, len(pairs),
                     last_ts_ms, stable, reason, method)

    def _judge(self, samples: int, spread_bps: float, last_ts_ms: int, now_ms: int | None) -> tuple[bool, str]:
        params = self.params
        if samples < params.min_samples:
            return False, f"only {samples} of {params.min_samples} price pairs so far"
        if spread_bps > params.max_spread_bps:
            return False, f"basis too noisy: spread {spread_bps:.1f} bps > {params.max_spread_bps:g} bps"
        if now_ms is not None and (now_ms - last_ts_ms) / 1000 > params.max_age_s:
            return False, f"newest price pair is {(now_ms - last_ts_ms) / 1000:.0f} s old"
        return True, f"{samples} pairs, spread {spread_bps:.1f} bps"

    def to_broker(self, symbol: str, price: float, now_ms: int | None = None) -> float:
        """A Binance-based price in the broker's terms; raises ``BasisUnavailable`` if unstable."""
        return self._stable_basis(symbol, now_ms).to_broker(price)

    def from_broker(self, symbol: str, price: float, now_ms: int | None = None) -> float:
        return self._stable_basis(symbol, now_ms).from_broker(price)

    def _stable_basis(self, symbol: str, now_ms: int | None) -> Basis:
        basis = self.basis(symbol, now_ms)
        if basis is None:
            raise BasisUnavailable(symbol, "no broker quotes recorded yet")
        if not basis.stable:
            raise BasisUnavailable(symbol, basis.reason)
        return basis

    def reference_price(self, symbol: str, broker_price: float, now_ms: int | None = None) -> tuple[float | None, str]:
        """A broker price in Binance terms, or (None, why not) while the basis is not usable: the
        reason says how far calibration has come ("not calibrated yet: 7 of 20 price pairs ...")."""
        if self.is_identity:
            return broker_price, ""
        problem = self.basis_problem(symbol, now_ms)
        if problem:
            return None, problem
        basis = self.basis(symbol, now_ms)
        assert basis is not None
        return basis.from_broker(broker_price), ""

    def basis_problem(self, symbol: str, now_ms: int | None = None) -> str:
        """Why the broker price basis of ``symbol`` cannot be used now, for a trader ("" when it can)."""
        if self.is_identity:
            return ""
        basis = self.basis(symbol, now_ms)
        needed = self.params.min_samples
        if basis is None:
            return (f"the broker price basis is not calibrated yet: no broker/Binance price pairs so far "
                    f"(it needs {needed})")
        if basis.samples < needed:
            return (f"the broker price basis is not calibrated yet: {basis.samples} of {needed} broker/Binance "
                    f"price pairs{self._eta(symbol, needed - basis.samples)}")
        if not basis.stable:
            return f"the broker price basis is not usable: {basis.reason}"
        return ""

    def _eta(self, symbol: str, missing: int) -> str:
        """", about N s more" from the pace of the pairs so far (nothing before there are two)."""
        pairs = self._pairs.get(symbol)
        if not pairs or len(pairs) < 2:
            return ""
        pace_s = (pairs[-1][0] - pairs[0][0]) / 1000 / (len(pairs) - 1)
        return f", about {max(1, round(missing * pace_s))} s more" if pace_s > 0 else ""

    def forget(self, symbol: str) -> None:
        self._pairs.pop(symbol, None)


def methods_for(asset_classes: Mapping[str, str]) -> dict[str, BasisMethod]:
    """Ratio for everything except FX, where a plain difference is just as good and easier to read."""
    return {symbol: BasisMethod.DIFFERENCE if str(asset_class) == "fx" else BasisMethod.RATIO
            for symbol, asset_class in asset_classes.items()}
