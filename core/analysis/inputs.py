"""What one analysis run reads: a frozen snapshot of market state for one symbol at one moment.

The market-state layer (rolling windows, tape, book) builds an ``AnalysisInput``; everything in
``core.analysis`` is a pure function of it plus the params.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.execution import ContractSpec
from core.models import BookSnapshot, CandleArrays, DataSource, Side, Trade


@dataclass(frozen=True, slots=True, eq=False)
class TradeColumns:
    """Recent aggregated trades as numpy columns, oldest first (``ts_ms`` non-decreasing).

    ``side`` is the aggressor sign (+1 buy, -1 sell); ``notional`` is price x qty in quote
    currency (USD for USDT pairs). Treat the arrays as read-only.
    """

    ts_ms: np.ndarray  # int64
    price: np.ndarray  # float64
    qty: np.ndarray  # float64
    side: np.ndarray  # int8, +1 / -1
    notional: np.ndarray  # float64

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])

    @classmethod
    def from_arrays(cls, ts_ms: Sequence[int] | np.ndarray, price: Sequence[float] | np.ndarray,
                    qty: Sequence[float] | np.ndarray, side: Sequence[int] | np.ndarray) -> TradeColumns:
        price_arr = np.asarray(price, dtype=np.float64)
        qty_arr = np.asarray(qty, dtype=np.float64)
        return cls(np.asarray(ts_ms, dtype=np.int64), price_arr, qty_arr,
                   np.asarray(side, dtype=np.int8), price_arr * qty_arr)

    @classmethod
    def from_trades(cls, trades: Sequence[Trade]) -> TradeColumns:
        return cls.from_arrays([t.ts_ms for t in trades], [t.price for t in trades],
                               [t.qty for t in trades], [1 if t.side is Side.BUY else -1 for t in trades])

    def since(self, start_ts_ms: int) -> TradeColumns:
        """Trades with ``ts_ms > start_ts_ms``."""
        i = int(np.searchsorted(self.ts_ms, start_ts_ms, side="right"))
        return TradeColumns(self.ts_ms[i:], self.price[i:], self.qty[i:], self.side[i:], self.notional[i:])

    def until(self, end_ts_ms: int) -> TradeColumns:
        """Trades with ``ts_ms <= end_ts_ms`` (no look-ahead when replaying)."""
        i = int(np.searchsorted(self.ts_ms, end_ts_ms, side="right"))
        return TradeColumns(self.ts_ms[:i], self.price[:i], self.qty[:i], self.side[:i], self.notional[:i])


@dataclass(frozen=True, slots=True)
class PlanSizing:
    """What sizes a plan the way EXECUTE will: the account's equity and currency, the broker's
    contract rules for the symbol, and the rate from the symbol's quote currency into the account
    currency (``core.money``; None when it is unknown, ``problem`` says why)."""

    equity: float  # account currency
    currency: str
    spec: ContractSpec
    quote_to_account: float | None
    problem: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class AnalysisInput:
    """Market state of one symbol at ``ts_ms``.

    ``htf`` maps an interval (``1h`` ... ``1M``) to its closed candles; candles that close after
    ``ts_ms`` are ignored anyway. ``seconds``/``minutes`` are 1 s / 1 m candles for
    micro-momentum and volume spikes. ``spread`` is in price units (ask - bid). ``data_age_s`` is
    how old the freshest live data is; ``sizing`` sizes the plan (None: no size).
    """

    symbol: str
    ts_ms: int
    price: float
    source: DataSource = DataSource.LIVE
    htf: dict[str, CandleArrays] = field(default_factory=dict)
    seconds: CandleArrays | None = None
    minutes: CandleArrays | None = None
    trades: TradeColumns | None = None
    book: BookSnapshot | None = None
    spread: float | None = None
    has_order_flow: bool = True
    data_age_s: float = 0.0
    sizing: PlanSizing | None = None
