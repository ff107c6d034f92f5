"""Order flow: book imbalance, whale trades, buy/sell pressure, liquidity voids, volume spikes and a
combined verdict. Pure functions over ``TradeColumns`` (numpy) and ``BookSnapshot``.

Definitions (defaults in ``OrderFlowParams``):
- Imbalance: (bid qty - ask qty) / (bid qty + ask qty) over the top 10 levels, -1..+1.
- Whale trade: an aggressive order of notional >= $50k, tiered small/medium/large/whale at
  $50k/$100k/$500k/$1M. Consecutive aggTrades with the same millisecond and side are one order
  (a market order sweeping several prices), unless ``whale_merge_same_ms`` is off. Listed over
  the last 300 s.
- Pressure: over (now - 30 s, now], aggressor buy/sell qty and notional, delta = buy - sell,
  buy ratio = buy notional / total notional (0.5 when there were no trades).
- Liquidity void: a gap between consecutive levels of one side of the book that is at least
  5x that side's average level spacing (and at least ``void_min_bps`` of the mid).
- Volume spike: a 1 s (last 5) or 1 m (last 1) candle whose volume z-score against the 60
  candles before it is >= 3; its direction is the candle's colour.
- Verdict score = 0.25 imbalance + 0.40 (2 x buy ratio - 1) + 0.25 whale net share + 0.10 spike
  direction, in -1..+1; |score| < 0.15 is neutral; strength = 100 x |score|.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.analysis.indicators import volume_zscore
from core.analysis.inputs import TradeColumns
from core.analysis.resample import closed_until
from core.models import BookSnapshot, CandleArrays, Side
from core.tunables import Tunable

TIER_NAMES: tuple[str, ...] = ("small", "medium", "large", "whale")

TUNABLES: tuple[Tunable, ...] = (
    Tunable("orderflow.whale_tier_small_usd", float, 50_000.0, "smallest trade counted as a whale (tier small)",
            1.0, 1e10, unit="USD"),
    Tunable("orderflow.whale_tier_medium_usd", float, 100_000.0, "whale tier medium from", 1.0, 1e10, unit="USD"),
    Tunable("orderflow.whale_tier_large_usd", float, 500_000.0, "whale tier large from", 1.0, 1e10, unit="USD"),
    Tunable("orderflow.whale_tier_whale_usd", float, 1_000_000.0, "whale tier whale from", 1.0, 1e10, unit="USD"),
    Tunable("orderflow.whale_merge_same_ms", bool, True,
            "count same-side trades in the same millisecond as one order"),
    Tunable("orderflow.whale_window_s", float, 300.0, "how far back whale trades are listed", 1.0, 86_400.0,
            unit="s"),
    Tunable("orderflow.pressure_window_s", float, 30.0, "window of the buy/sell pressure", 1.0, 3_600.0, unit="s"),
    Tunable("orderflow.imbalance_levels", int, 10, "book levels per side in the imbalance", 1, 1000),
    Tunable("orderflow.void_spacing_multiple", float, 5.0,
            "a book gap this many times the average level spacing is a liquidity void", 1.5, 100.0),
    Tunable("orderflow.void_min_bps", float, 0.0, "smallest gap reported as a void", 0.0, 1000.0, unit="bps"),
    Tunable("orderflow.spike_zscore", float, 3.0, "volume z-score that counts as a spike", 1.0, 20.0),
    Tunable("orderflow.spike_window", int, 60, "candles the spike z-score compares against", 5, 1000),
    Tunable("orderflow.neutral_threshold", float, 0.15, "verdict scores closer to 0 than this are neutral",
            0.0, 1.0),
)


@dataclass(frozen=True, slots=True)
class OrderFlowParams:
    tiers_usd: tuple[float, float, float, float] = (50_000.0, 100_000.0, 500_000.0, 1_000_000.0)
    whale_merge_same_ms: bool = True
    whale_window_s: float = 300.0
    pressure_window_s: float = 30.0
    imbalance_levels: int = 10
    void_spacing_multiple: float = 5.0
    void_min_bps: float = 0.0
    spike_zscore: float = 3.0
    spike_window: int = 60
    spike_recent_seconds: int = 5
    neutral_threshold: float = 0.15
    weight_imbalance: float = 0.25
    weight_pressure: float = 0.40
    weight_whales: float = 0.25
    weight_spikes: float = 0.10

    @classmethod
    def from_tunables(cls, values: Mapping[str, Any]) -> OrderFlowParams:
        # thresholds apply in ascending order even if an admin sets them out of order
        tiers = tuple(sorted(float(values[f"orderflow.whale_tier_{name}_usd"]) for name in TIER_NAMES))
        return cls(tiers_usd=tiers,  # type: ignore[arg-type]
                   whale_merge_same_ms=values["orderflow.whale_merge_same_ms"],
                   whale_window_s=values["orderflow.whale_window_s"],
                   pressure_window_s=values["orderflow.pressure_window_s"],
                   imbalance_levels=values["orderflow.imbalance_levels"],
                   void_spacing_multiple=values["orderflow.void_spacing_multiple"],
                   void_min_bps=values["orderflow.void_min_bps"], spike_zscore=values["orderflow.spike_zscore"],
                   spike_window=values["orderflow.spike_window"],
                   neutral_threshold=values["orderflow.neutral_threshold"])


@dataclass(frozen=True, slots=True)
class WhaleTrade:
    ts_ms: int
    side: Side
    price: float  # volume-weighted over the merged fills
    qty: float
    notional: float
    tier: str


@dataclass(frozen=True, slots=True)
class Pressure:
    window_s: float
    buy_qty: float
    sell_qty: float
    buy_notional: float
    sell_notional: float
    trade_count: int

    @property
    def delta_qty(self) -> float:
        return self.buy_qty - self.sell_qty

    @property
    def delta_notional(self) -> float:
        return self.buy_notional - self.sell_notional

    @property
    def buy_ratio(self) -> float:
        total = self.buy_notional + self.sell_notional
        return self.buy_notional / total if total > 0 else 0.5


@dataclass(frozen=True, slots=True)
class LiquidityVoid:
    side: str  # "bid" or "ask"
    low: float
    high: float
    spacing_multiple: float  # gap / average level spacing of that side

    @property
    def gap(self) -> float:
        return self.high - self.low


@dataclass(frozen=True, slots=True)
class VolumeSpike:
    interval: str
    open_time_ms: int
    volume: float
    zscore: float
    direction: int  # +1 up candle, -1 down candle, 0 flat


@dataclass(frozen=True, slots=True)
class OrderFlowVerdict:
    bias: str  # bullish | bearish | neutral
    score: float  # -1..+1
    strength: float  # 0..100
    reasons: tuple[str, ...]

    @property
    def sign(self) -> int:
        return {"bullish": 1, "bearish": -1}.get(self.bias, 0)


@dataclass(frozen=True, slots=True)
class OrderFlowSummary:
    imbalance: float | None  # None: no book data (no book yet, or an empty one)
    imbalance_levels: int
    whales: tuple[WhaleTrade, ...]  # newest first
    whale_counts: tuple[tuple[str, int], ...]  # (tier, count) in tier order
    pressure: Pressure
    voids: tuple[LiquidityVoid, ...]
    spikes: tuple[VolumeSpike, ...]
    verdict: OrderFlowVerdict


# ---------------------------------------------------------------------------- book


def book_imbalance(book: BookSnapshot, levels: int = 10) -> float:
    """(bid qty - ask qty) / (bid qty + ask qty) over the top ``levels``; 0 for an empty book."""
    bid_qty = sum(qty for _, qty in book.bids[:levels])
    ask_qty = sum(qty for _, qty in book.asks[:levels])
    total = bid_qty + ask_qty
    return (bid_qty - ask_qty) / total if total > 0 else 0.0


def liquidity_voids(book: BookSnapshot, spacing_multiple: float = 5.0,
                    min_bps: float = 0.0) -> tuple[LiquidityVoid, ...]:
    """Gaps between consecutive levels of a side at least ``spacing_multiple`` x its average spacing."""
    mid = book.mid or 0.0
    out = []
    for side, levels in (("bid", book.bids), ("ask", book.asks)):
        if len(levels) < 3:
            continue
        prices = np.fromiter((p for p, _ in levels), dtype=np.float64, count=len(levels))
        gaps = np.abs(np.diff(prices))
        average = abs(prices[-1] - prices[0]) / gaps.size
        if average <= 0:
            continue
        for i in np.flatnonzero(gaps >= spacing_multiple * average).tolist():
            if mid > 0 and gaps[i] / mid * 1e4 < min_bps:
                continue
            low, high = sorted((float(prices[i]), float(prices[i + 1])))
            out.append(LiquidityVoid(side, low, high, float(gaps[i] / average)))
    return tuple(out)


# ---------------------------------------------------------------------------- trades


def merge_orders(trades: TradeColumns) -> TradeColumns:
    """Merge runs of consecutive trades with the same ``ts_ms`` and side into one order each
    (price becomes the volume-weighted price)."""
    n = len(trades)
    if n == 0:
        return trades
    starts = np.flatnonzero(np.r_[True, (trades.ts_ms[1:] != trades.ts_ms[:-1])
                                  | (trades.side[1:] != trades.side[:-1])])
    if starts.size == n:
        return trades
    qty = np.add.reduceat(trades.qty, starts)
    notional = np.add.reduceat(trades.notional, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        price = np.where(qty > 0, notional / qty, trades.price[starts])
    return TradeColumns(trades.ts_ms[starts], price, qty, trades.side[starts], notional)


def tier_index(notional: np.ndarray, tiers_usd: tuple[float, ...]) -> np.ndarray:
    """Per trade: -1 below the smallest tier, else the index of the highest tier reached."""
    return np.searchsorted(np.asarray(tiers_usd, dtype=np.float64), notional, side="right") - 1


def whale_trades(trades: TradeColumns, params: OrderFlowParams = OrderFlowParams()) -> tuple[WhaleTrade, ...]:
    """Every whale order in ``trades`` (already limited to the wanted window), newest first."""
    orders = merge_orders(trades) if params.whale_merge_same_ms else trades
    tiers = tier_index(orders.notional, params.tiers_usd)
    picked = np.flatnonzero(tiers >= 0)[::-1]
    return tuple(WhaleTrade(int(orders.ts_ms[i]), Side.BUY if orders.side[i] > 0 else Side.SELL,
                            float(orders.price[i]), float(orders.qty[i]), float(orders.notional[i]),
                            TIER_NAMES[tiers[i]]) for i in picked.tolist())


def whale_counts(whales: tuple[WhaleTrade, ...]) -> tuple[tuple[str, int], ...]:
    return tuple((name, sum(1 for w in whales if w.tier == name)) for name in TIER_NAMES)


def pressure(trades: TradeColumns, now_ts_ms: int, window_s: float = 30.0) -> Pressure:
    """Aggressor volume and notional per side over (now - window, now]."""
    start = now_ts_ms - int(round(window_s * 1000))
    lo = int(np.searchsorted(trades.ts_ms, start, side="right"))
    hi = int(np.searchsorted(trades.ts_ms, now_ts_ms, side="right"))
    side, qty, notional = trades.side[lo:hi], trades.qty[lo:hi], trades.notional[lo:hi]
    buys = side > 0
    return Pressure(window_s, float(qty[buys].sum()), float(qty[~buys].sum()), float(notional[buys].sum()),
                    float(notional[~buys].sum()), hi - lo)


# ---------------------------------------------------------------------------- candles


def volume_spikes(candles: CandleArrays | None, window: int = 60, zscore_min: float = 3.0,
                  recent: int = 1) -> tuple[VolumeSpike, ...]:
    """Spikes among the last ``recent`` candles, each scored against the ``window`` before it."""
    if candles is None or len(candles) <= window:
        return ()
    tail = candles.tail(window + recent)
    scores = volume_zscore(tail.volume, window)
    out = []
    for i in range(max(window, len(tail) - recent), len(tail)):
        if scores[i] >= zscore_min:
            move = float(tail.close[i] - tail.open[i])
            out.append(VolumeSpike(tail.interval, int(tail.open_time_ms[i]), float(tail.volume[i]),
                                   float(scores[i]), (move > 0) - (move < 0)))
    return tuple(out)


# ---------------------------------------------------------------------------- verdict


def _usd(amount: float) -> str:
    amount = abs(amount)
    if amount >= 1e6:
        return f"${amount / 1e6:.2f}M"
    if amount >= 1e3:
        return f"${amount / 1e3:.0f}k"
    return f"${amount:.0f}"


def order_flow_verdict(imbalance: float | None, flow: Pressure | None, whales: tuple[WhaleTrade, ...],
                       spikes: tuple[VolumeSpike, ...],
                       params: OrderFlowParams = OrderFlowParams()) -> OrderFlowVerdict:
    """Weighted vote of the four order-flow readings (a missing reading counts 0), with reasons."""
    parts: list[tuple[float, float, str]] = []  # (weight, component -1..1, reason)
    if imbalance is not None:
        heavier = "bids" if imbalance > 0 else "asks"
        parts.append((params.weight_imbalance, imbalance,
                      f"book imbalance {imbalance:+.2f} ({heavier} heavier, top {params.imbalance_levels})"))
    if flow is not None and flow.trade_count:
        ratio = flow.buy_ratio
        parts.append((params.weight_pressure, 2.0 * ratio - 1.0,
                      f"{ratio:.0%} of {_usd(flow.buy_notional + flow.sell_notional)} bought "
                      f"in {flow.window_s:g}s (delta {'+' if flow.delta_notional >= 0 else '-'}"
                      f"{_usd(flow.delta_notional)})"))
    if whales:
        buy = sum(w.notional for w in whales if w.side is Side.BUY)
        sell = sum(w.notional for w in whales if w.side is Side.SELL)
        n_buy = sum(1 for w in whales if w.side is Side.BUY)
        parts.append((params.weight_whales, (buy - sell) / (buy + sell),
                      f"whales: {n_buy} buys {_usd(buy)} vs {len(whales) - n_buy} sells {_usd(sell)}"))
    if spikes:
        direction = sum(s.direction for s in spikes) / len(spikes)
        strongest = max(spikes, key=lambda s: s.zscore)
        parts.append((params.weight_spikes, direction,
                      f"volume spike z={strongest.zscore:.1f} on {strongest.interval} "
                      f"({'up' if strongest.direction > 0 else 'down' if strongest.direction < 0 else 'flat'})"))
    score = sum(weight * value for weight, value, _ in parts)
    score = max(-1.0, min(1.0, score))
    bias = "neutral" if abs(score) < params.neutral_threshold else ("bullish" if score > 0 else "bearish")
    ordered = sorted(parts, key=lambda p: -abs(p[0] * p[1]))
    return OrderFlowVerdict(bias, round(score, 4), round(100.0 * abs(score), 1), tuple(r for _, _, r in ordered))


def summarize_order_flow(trades: TradeColumns | None, book: BookSnapshot | None, now_ts_ms: int,
                         seconds: CandleArrays | None = None, minutes: CandleArrays | None = None,
                         params: OrderFlowParams = OrderFlowParams()) -> OrderFlowSummary:
    """Everything the signal card shows about order flow at ``now_ts_ms``."""
    has_book = book is not None and bool(book.bids or book.asks)
    imbalance = book_imbalance(book, params.imbalance_levels) if has_book else None
    if trades is not None:
        recent = trades.until(now_ts_ms).since(now_ts_ms - int(round(params.whale_window_s * 1000)))
        whales = whale_trades(recent, params)
        flow = pressure(trades, now_ts_ms, params.pressure_window_s)
    else:
        whales, flow = (), Pressure(params.pressure_window_s, 0.0, 0.0, 0.0, 0.0, 0)
    voids = liquidity_voids(book, params.void_spacing_multiple, params.void_min_bps) if book is not None else ()
    spikes = ()
    for candles, recent in ((seconds, params.spike_recent_seconds), (minutes, 1)):
        if candles is not None:
            closed = closed_until(candles, now_ts_ms)
            spikes += volume_spikes(closed, params.spike_window, params.spike_zscore, recent)
    verdict = order_flow_verdict(imbalance, flow, whales, spikes, params)
    return OrderFlowSummary(imbalance, params.imbalance_levels, whales, whale_counts(whales), flow, voids, spikes,
                            verdict)
