"""Trade statistics over closed trades (``/stats``, daily summaries, later learning and backtests).

Pure functions over ``ClosedTrade`` records. Definitions (also in docs/stats.md):
- A trade is a win when ``realized_pnl > breakeven_tolerance``, a loss when below its negative, and
  a breakeven otherwise. Win rate is wins over all trades (breakevens count in the denominator).
- Gross profit and gross loss sum the positive and negative P/L of every trade (tolerance or not),
  so ``net_pnl == gross_profit - gross_loss``. Profit factor is ``gross_profit / gross_loss`` and is
  ``None`` when nothing was lost (``profit_factor_text`` says why).
- R is ``realized_pnl / risk_amount``; a trade without a known risk has no R and is left out of the
  R figures only (``r_count`` says how many had one).
- Trades are taken in close order (``close_ts_ms``, then ``open_ts_ms``, then ``ticket``). The
  equity curve has one point per distinct close time: trades closed in the same millisecond are
  one step, so the drawdown does not depend on how a tie is ordered.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from typing import Any

import numpy as np

from core.models import Direction
from core.tunables import Tunable, params_from_values

TUNABLES: tuple[Tunable, ...] = (
    Tunable("stats.breakeven_tolerance", float, 0.0, "a closed trade whose P/L is within this of zero counts "
            "as breakeven (neither a win nor a loss)", 0, 1_000_000, unit="account currency"),
    Tunable("stats.default_days", int, 30, "period /stats covers when no number of days is given", 1, 3650,
            unit="days"),
)

UNSPECIFIED = "unspecified"  # the breakdown key of a trade without a setup type


@dataclass(frozen=True, slots=True)
class StatsParams:
    """The ``stats.*`` tunables that change the numbers; defaults equal the tunable defaults."""

    breakeven_tolerance: float = 0.0

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> StatsParams:
        return params_from_values(cls, "stats", values)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosedTrade:
    """One position from open to final close; partial closes are summed into ``realized_pnl``.

    ``risk_amount`` is the money at risk at entry (|entry - stop| x volume x contract size, in the
    account currency), 0 when unknown. ``r_multiple`` None means "derive it from ``risk_amount``" (see ``r_multiple_of``).
    ``tags`` carries extra slicing dimensions for later learning (timeframe, AI verdict, ...).
    """

    approval_id: str
    ticket: int
    symbol: str
    direction: Direction
    setup_type: str
    entry_price: float
    exit_price: float
    volume: float
    realized_pnl: float  # account currency, after partial closes, swaps and commissions
    risk_amount: float = 0.0
    r_multiple: float | None = None
    open_ts_ms: int
    close_ts_ms: int
    exit_reason: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    provisional: bool = False  # realized_pnl is an estimate until the broker's closing deals confirm it

    @property
    def hold_ms(self) -> int:
        return self.close_ts_ms - self.open_ts_ms

    @property
    def r(self) -> float | None:
        """The R multiple: the explicit one if finite, else P/L over risk, else None."""
        if self.r_multiple is not None:
            return self.r_multiple if math.isfinite(self.r_multiple) else None
        return r_multiple_of(self.realized_pnl, self.risk_amount)

    def tag(self, name: str) -> str | None:
        return next((value for key, value in self.tags if key == name), None)


def r_multiple_of(realized_pnl: float, risk_amount: float) -> float | None:
    """P/L in units of the money risked; None when the risk is unknown (0, negative or not finite)."""
    if not math.isfinite(risk_amount) or risk_amount <= 0:
        return None
    return realized_pnl / risk_amount


@dataclass(frozen=True, slots=True)
class GroupStats:
    """The headline numbers of one group of trades (all trades, one symbol, one setup type)."""

    key: str
    count: int
    wins: int
    losses: int
    breakevens: int
    win_rate_pct: float | None  # None without trades
    gross_profit: float  # >= 0
    gross_loss: float  # >= 0 (a magnitude)
    net_pnl: float
    profit_factor: float | None  # None when gross_loss is 0
    expectancy: float | None  # money per trade
    expectancy_r: float | None  # mean R over the trades with a known R (the "average R")
    r_count: int


@dataclass(frozen=True, slots=True)
class Dip:
    """One fall of an equity curve below its running peak: its money and its percent belong together."""

    amount: float  # money, >= 0
    pct: float | None  # the same fall in percent of the peak it fell from (None when that peak is <= 0)
    peak_ts_ms: int | None  # the last time at that peak, and the bottom of the fall
    trough_ts_ms: int | None


NO_DIP = Dip(0.0, None, None, None)


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The largest fall in money and the largest fall in percent: two honest figures, each from its
    own dip (a 1000 -> 900 fall is the larger in money, a 100 -> 50 fall the larger in percent)."""

    by_money: Dip
    by_pct: Dip | None  # None when no peak was positive (or compute_stats had no starting equity)

    @property
    def amount(self) -> float:
        """The largest fall in money."""
        return self.by_money.amount

    @property
    def pct(self) -> float | None:
        """The largest fall in percent (maybe another dip than ``amount``)."""
        return None if self.by_pct is None else self.by_pct.pct

    @property
    def same_dip(self) -> bool:
        return self.by_pct is not None and self.by_pct == self.by_money


@dataclass(frozen=True, slots=True)
class TradeStats:
    """Everything ``/stats`` shows for one period."""

    totals: GroupStats
    average_win: float | None  # mean P/L of wins
    average_loss: float | None  # mean P/L of losses (negative)
    average_win_r: float | None
    average_loss_r: float | None
    drawdown: Drawdown
    best: ClosedTrade | None
    worst: ClosedTrade | None
    average_hold_ms: float | None
    longest_win_streak: int
    longest_loss_streak: int
    by_symbol: tuple[GroupStats, ...]  # most trades first
    by_setup: tuple[GroupStats, ...]
    since_ts_ms: int | None = None
    starting_equity: float | None = None


def compute_stats(
    trades: Iterable[ClosedTrade],
    *,
    since_ts_ms: int | None = None,
    starting_equity: float | None = None,
    params: StatsParams = StatsParams(),
) -> TradeStats:
    """Statistics of the trades closed at or after ``since_ts_ms`` (all when None).

    ``starting_equity`` is the equity at the start of the period; without it the drawdown is still
    measured in money (from a curve starting at 0) but has no percentage.
    """
    ordered = in_close_order(trades, since_ts_ms)
    tolerance = params.breakeven_tolerance
    wins = [t for t in ordered if t.realized_pnl > tolerance]
    losses = [t for t in ordered if t.realized_pnl < -tolerance]
    drawdown = max_drawdown(equity_curve(ordered, starting_equity or 0.0, since_ts_ms=since_ts_ms))
    if starting_equity is None:  # a curve from 0 has money falls but no meaningful percentages
        drawdown = Drawdown(replace(drawdown.by_money, pct=None), None)
    win_streak, loss_streak = longest_streaks(ordered, tolerance)
    return TradeStats(
        totals=summarize("all", ordered, params),
        average_win=_mean([t.realized_pnl for t in wins]),
        average_loss=_mean([t.realized_pnl for t in losses]),
        average_win_r=_mean(_known_r(wins)),
        average_loss_r=_mean(_known_r(losses)),
        drawdown=drawdown,
        best=max(ordered, key=lambda t: t.realized_pnl, default=None),
        worst=min(ordered, key=lambda t: t.realized_pnl, default=None),
        average_hold_ms=_mean([float(t.hold_ms) for t in ordered]),
        longest_win_streak=win_streak,
        longest_loss_streak=loss_streak,
        by_symbol=breakdown(ordered, lambda t: t.symbol, params),
        by_setup=breakdown(ordered, lambda t: t.setup_type or UNSPECIFIED, params),
        since_ts_ms=since_ts_ms,
        starting_equity=starting_equity,
    )


def summarize(key: str, trades: Sequence[ClosedTrade], params: StatsParams = StatsParams()) -> GroupStats:
    """Headline numbers of ``trades`` under the label ``key`` (order does not matter)."""
    pnls = [t.realized_pnl for t in trades]
    count = len(pnls)
    wins = sum(1 for pnl in pnls if pnl > params.breakeven_tolerance)
    losses = sum(1 for pnl in pnls if pnl < -params.breakeven_tolerance)
    gross_profit = math.fsum(pnl for pnl in pnls if pnl > 0)
    gross_loss = -math.fsum(pnl for pnl in pnls if pnl < 0)
    net_pnl = math.fsum(pnls)
    known_r = _known_r(trades)
    return GroupStats(
        key=key, count=count, wins=wins, losses=losses, breakevens=count - wins - losses,
        win_rate_pct=100.0 * wins / count if count else None,
        gross_profit=gross_profit, gross_loss=gross_loss, net_pnl=net_pnl,
        profit_factor=gross_profit / gross_loss if gross_loss > 0 else None,
        expectancy=net_pnl / count if count else None,
        expectancy_r=_mean(known_r), r_count=len(known_r),
    )


def breakdown(
    trades: Iterable[ClosedTrade],
    key: Callable[[ClosedTrade], str],
    params: StatsParams = StatsParams(),
) -> tuple[GroupStats, ...]:
    """``summarize`` per value of ``key`` (symbol, setup type, a tag, ...), most trades first."""
    groups: dict[str, list[ClosedTrade]] = {}
    for trade in trades:
        groups.setdefault(key(trade), []).append(trade)
    summaries = (summarize(name, members, params) for name, members in groups.items())
    return tuple(sorted(summaries, key=lambda group: (-group.count, group.key)))


def in_close_order(trades: Iterable[ClosedTrade], since_ts_ms: int | None = None) -> list[ClosedTrade]:
    """The trades closed at or after ``since_ts_ms``, sorted by close, then open time, then ticket."""
    kept = trades if since_ts_ms is None else (t for t in trades if t.close_ts_ms >= since_ts_ms)
    return sorted(kept, key=lambda t: (t.close_ts_ms, t.open_ts_ms, t.ticket))


def equity_curve(
    trades: Iterable[ClosedTrade], starting_equity: float, *, since_ts_ms: int | None = None
) -> list[tuple[int, float]]:
    """``(ts_ms, equity)`` points for ``charts.render_equity_chart``: the start, then one per close time.

    The start point sits at ``since_ts_ms``, or without it at the earliest open (or first close).
    No trades give just the start point when ``since_ts_ms`` is known, else an empty list.
    """
    ordered = in_close_order(trades, since_ts_ms)
    if not ordered:
        return [] if since_ts_ms is None else [(since_ts_ms, starting_equity)]
    start_ts_ms = since_ts_ms if since_ts_ms is not None else min(
        ordered[0].close_ts_ms, min(t.open_ts_ms for t in ordered))
    points = [(start_ts_ms, starting_equity)]
    equity = starting_equity
    for close_ts_ms, closed in groupby(ordered, key=lambda t: t.close_ts_ms):
        equity += math.fsum(t.realized_pnl for t in closed)
        points.append((close_ts_ms, equity))
    return points


def max_drawdown(points: Sequence[tuple[int, float]]) -> Drawdown:
    """The largest money fall and the largest percent fall below the running peak of an equity curve
    given in time order (each with its own peak, trough and the other measure of the same fall)."""
    if not points:
        return Drawdown(NO_DIP, None)
    times = [ts_ms for ts_ms, _ in points]
    equity = np.fromiter((value for _, value in points), dtype=np.float64, count=len(points))
    peaks = np.maximum.accumulate(equity)
    falls = peaks - equity
    positive = peaks > 0
    ratios = np.where(positive, falls / np.where(positive, peaks, 1.0), 0.0)

    def dip(trough: int) -> Dip:
        pct = float(ratios[trough] * 100.0) if positive[trough] else None
        if falls[trough] <= 0:
            return Dip(0.0, pct, None, None)
        peak = trough - int(np.argmax(equity[trough::-1] >= peaks[trough]))  # last time at that peak
        return Dip(float(falls[trough]), pct, times[peak], times[trough])

    by_pct = dip(int(np.argmax(ratios))) if positive.any() else None
    return Drawdown(dip(int(np.argmax(falls))), by_pct)


def longest_streaks(ordered: Sequence[ClosedTrade], breakeven_tolerance: float = 0.0) -> tuple[int, int]:
    """Longest runs of consecutive wins and of consecutive losses; a breakeven ends both."""
    longest_wins = longest_losses = wins = losses = 0
    for trade in ordered:
        is_win = trade.realized_pnl > breakeven_tolerance
        is_loss = trade.realized_pnl < -breakeven_tolerance
        wins = wins + 1 if is_win else 0
        losses = losses + 1 if is_loss else 0
        longest_wins, longest_losses = max(longest_wins, wins), max(longest_losses, losses)
    return longest_wins, longest_losses


def win_rate_interval_pct(wins: int, count: int, z: float = 1.96) -> tuple[float, float] | None:
    """Wilson score interval of a win rate in percent (95% for z = 1.96); None without trades.

    Small samples give wide intervals: 3 wins out of 3 is 44-100%, not a sure thing.
    """
    if count <= 0:
        return None
    rate, z_squared = wins / count, z * z
    denominator = 1 + z_squared / count
    centre = (rate + z_squared / (2 * count)) / denominator
    margin = z * math.sqrt(rate * (1 - rate) / count + z_squared / (4 * count * count)) / denominator
    return max(0.0, centre - margin) * 100.0, min(1.0, centre + margin) * 100.0


def profit_factor_text(group: GroupStats) -> str:
    """Profit factor for people: a number, or why there is none."""
    if group.profit_factor is not None:
        return f"{group.profit_factor:.2f}"
    if group.gross_profit > 0:
        return "∞ (no losing trades)"
    return "n/a (no trades)" if group.count == 0 else "n/a (no wins or losses)"


def _known_r(trades: Iterable[ClosedTrade]) -> list[float]:
    return [r for r in (t.r for t in trades) if r is not None]


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None
