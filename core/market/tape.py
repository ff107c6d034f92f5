"""The trade tape: recent aggregated trades of one symbol in a bounded columnar ring.

Writes are on the ingest hot path, so ``add`` only appends to three small Python lists; they
are moved into the numpy ring in one batch when they reach ``flush_rows`` or when someone
reads. Reads (``since``, ``last``) return independent arrays, oldest first.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from core.market.ring import ColumnRing

TAPE_COLUMNS: dict[str, type] = {
    "ts_ms": np.int64, "price": np.float64, "qty": np.float64, "side": np.int8, "notional": np.float64,
}


@dataclass(frozen=True, slots=True, eq=False)
class TradeArrays:
    """Trades as columns, oldest first: ``side`` is +1 for aggressive buys, -1 for sells;
    ``notional`` is price * qty in quote currency (USD(T))."""

    symbol: str
    ts_ms: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    side: np.ndarray
    notional: np.ndarray

    def __len__(self) -> int:
        return int(self.ts_ms.shape[0])

    @classmethod
    def empty(cls, symbol: str) -> TradeArrays:
        return cls(symbol, *(np.zeros(0, dtype=dtype) for dtype in TAPE_COLUMNS.values()))


def _floats(values: list[float]) -> np.ndarray:
    """A list of Python floats as a float64 array (``struct.pack`` is twice as fast as
    ``np.fromiter`` at this)."""
    return np.frombuffer(struct.pack(f"{len(values)}d", *values), np.float64)


class TradeTape:
    """Bounded tape of (ts_ms, price, qty, side sign, notional).

    The hot path (``add_signed``) appends three Python scalars to three lists; the side travels
    as the sign of the quantity (``-0.0`` for an empty sell still reads as a sell). ``flush``
    turns the lists into columns with one ``np.fromiter`` each and does the rest (clamping,
    side, notional) vectorised.
    """

    __slots__ = ("symbol", "_ring", "_ts", "_price", "_signed_qty", "_flush_rows", "_last_ts_ms")

    def __init__(self, symbol: str, capacity: int = 50_000, *, flush_rows: int = 2048) -> None:
        self.symbol = symbol
        self._ring = ColumnRing(capacity, TAPE_COLUMNS)
        self._ts: list[int] = []
        self._price: list[float] = []
        self._signed_qty: list[float] = []  # qty for buy aggressors, -qty for sells
        self._flush_rows = max(1, min(flush_rows, capacity))
        self._last_ts_ms = 0  # newest time flushed so far

    @property
    def capacity(self) -> int:
        return self._ring.capacity

    @property
    def nbytes(self) -> int:
        return self._ring.nbytes

    @property
    def pending_rows(self) -> int:
        return len(self._ts)

    @property
    def flush_rows(self) -> int:
        return self._flush_rows

    def pending_columns(self) -> tuple[list[int], list[float], list[float]]:
        """The lists ``add_signed`` appends to (ts_ms, price, signed qty), for a writer that
        inlines it (``MarketState.apply``): append to all three, then call ``flush`` once they
        hold ``flush_rows``. They are cleared in place, so the references stay valid."""
        return self._ts, self._price, self._signed_qty

    def __len__(self) -> int:
        return min(self._ring.capacity, len(self._ring) + len(self._ts))

    def add(self, ts_ms: int, price: float, qty: float, side_sign: int) -> None:
        """Record one trade (``side_sign`` +1 buy aggressor, -1 sell). Out-of-order trades are
        clamped to the newest time seen so ``since`` stays a binary search."""
        self.add_signed(ts_ms, price, qty if side_sign > 0 else -qty)

    def add_signed(self, ts_ms: int, price: float, signed_qty: float) -> None:
        """Hot path of ``add``: ``signed_qty`` is ``qty`` for a buy aggressor, ``-qty`` for a sell."""
        times = self._ts
        times.append(ts_ms)
        self._price.append(price)
        self._signed_qty.append(signed_qty)
        if len(times) >= self._flush_rows:
            self.flush()

    def flush(self) -> None:
        """Move pending trades into the ring (called automatically)."""
        count = len(self._ts)
        if not count:
            return
        ts_ms = np.fromiter(self._ts, np.int64, count)
        np.maximum.accumulate(ts_ms, out=ts_ms)  # clamp each trade to the newest time before it
        np.maximum(ts_ms, self._last_ts_ms, out=ts_ms)
        self._last_ts_ms = int(ts_ms[-1])
        price = _floats(self._price)
        signed_qty = _floats(self._signed_qty)
        qty = np.abs(signed_qty)
        side = np.where(np.signbit(signed_qty), -1, 1).astype(np.int8)
        self._ring.extend({"ts_ms": ts_ms, "price": price, "qty": qty, "side": side, "notional": price * qty})
        self._ts.clear()
        self._price.clear()
        self._signed_qty.clear()

    def _arrays(self, first: int | None, last: int | None) -> TradeArrays:
        self.flush()
        cols = self._ring.columns(last, copy=False)
        if first:
            cols = {name: values[first:] for name, values in cols.items()}
        return TradeArrays(self.symbol, *(cols[name].copy() for name in TAPE_COLUMNS))

    def since(self, ts_ms: int) -> TradeArrays:
        """Trades with ``ts_ms >= ts_ms`` (as far back as the ring reaches)."""
        self.flush()
        times = self._ring.column("ts_ms")
        first = int(np.searchsorted(times, ts_ms, side="left"))
        return self._arrays(first, None)

    def last(self, count: int) -> TradeArrays:
        return self._arrays(None, count)

    def oldest_ts_ms(self) -> int | None:
        self.flush()
        times = self._ring.column("ts_ms")
        return int(times[0]) if times.shape[0] else None

    def clear(self) -> None:
        self._ts.clear()
        self._price.clear()
        self._signed_qty.clear()
        self._ring.clear()
