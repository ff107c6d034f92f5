"""Resolving a trade from the price path with the live exit rules (``core.exits``) and the fill model.

The shadow book and the backtester both walk positions with ``TradeWalker``; live positions get the
same ``core.exits.evaluate`` from the position monitor tick by tick. A bar (a 1 s candle where they
exist, else the candle given) is walked as a path in the close-side price (the bid of a long, the ask
of a short, from ``FillModel.quote_at``):

- the open first (a gap through the stop or a target fills at the open);
- then the adverse extreme, then the favourable one, then the close: a long goes open -> low ->
  high -> close, a short open -> high -> low -> close. So **a bar that touches both the stop and a
  target is a loss: the stop is taken first** (the conservative rule);
- on each leg the levels it crosses are visited at their exact price: the stop (initial, breakeven
  or trailing) on an adverse leg, the next target on a favourable one; the trailing stop follows the
  leg's end.

Each exit fills at ``FillModel.slipped_exit`` of the price it was decided at. P/L per unit of the
original size is sum(share x side x (exit - entry)) minus the fees of the entry and of each exit; R is
that over the plan's risk per unit (|plan entry - stop|), so a stop-out costs a little more than 1R.
A trade still open at its horizon is closed at the last price and marked EXPIRED (its R counts).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from core.exits import CloseAll, ClosePartial, ExitParams, ExitStage, ManagedPosition, evaluate
from core.fills import FillModel
from core.learning.outcomes import classify
from core.learning.records import ExitFill, Resolution
from core.models import CandleArrays, Direction, TradePlan, close_end_ms, interval_ms

__all__ = ["Bar", "ExitFill", "Resolution", "TradeWalker", "entry_fill", "finest_bars"]
Bar = tuple[int, float, float, float, float]  # (end ts_ms, open, high, low, close)


def finest_bars(fine: CandleArrays | None, coarse: CandleArrays | None, after_ms: int, until_ms: int) -> list[Bar]:
    """Bars ending after ``after_ms`` and by ``until_ms``: the fine ones (1 s) wherever they cover a coarse
    bar completely, the coarse bar (1 m, 5 m ...) where they do not (a gap, or history older than the
    1 s window)."""
    out: list[Bar] = []
    if coarse is None or len(coarse) == 0:
        return _bars(fine, after_ms, until_ms) if fine is not None else []
    coarse_ms, fine_ms = interval_ms(coarse.interval), interval_ms(fine.interval) if fine is not None else 0
    fine_bars = _bars(fine, after_ms, until_ms) if fine is not None else []
    fine_ends = [b[0] for b in fine_bars]
    for bar in _bars(coarse, after_ms, until_ms):
        start = bar[0] - coarse_ms
        lo, hi = bisect_right(fine_ends, start), bisect_right(fine_ends, bar[0])
        if fine_ms and hi - lo == coarse_ms // fine_ms:
            out.extend(fine_bars[lo:hi])
        else:
            out.append(bar)
    if fine_bars and (not out or fine_bars[-1][0] > out[-1][0]):  # seconds after the last closed coarse bar
        out.extend(b for b in fine_bars if b[0] > (out[-1][0] if out else after_ms))
    return out


def _bars(candles: CandleArrays, after_ms: int, until_ms: int) -> list[Bar]:
    ends = close_end_ms(candles.open_time_ms, candles.interval)
    keep = np.flatnonzero((ends > after_ms) & (ends <= until_ms))
    return [(int(ends[i]), float(candles.open[i]), float(candles.high[i]), float(candles.low[i]),
             float(candles.close[i])) for i in keep]


def entry_fill(plan: TradePlan, fills: FillModel) -> float:
    """A market entry at the plan's price through the fill model."""
    bid, ask = fills.quote_at(plan.symbol, plan.entry)
    return fills.market_entry(plan.direction, bid, ask)


class TradeWalker:
    """One position walked bar by bar (see the module docstring). ``volume`` is the size opened; exits
    report shares of it. ``opened_ts_ms`` starts the time stop."""

    __slots__ = ("_state", "_fills", "_params", "_sign", "_risk", "_entry", "_volume", "_exits", "_closed_share",
                 "_best", "_worst", "_breakeven_r", "_expired", "_last_ts")

    def __init__(self, plan: TradePlan, *, entry_price: float, opened_ts_ms: int, fills: FillModel,
                 params: ExitParams, volume: float = 1.0, breakeven_r: float = 0.05) -> None:
        self._state = ManagedPosition(ticket=0, symbol=plan.symbol, direction=plan.direction, entry=entry_price,
                                      stop=plan.stop, targets=tuple(plan.targets), atr=plan.atr, volume=volume,
                                      opened_ts_ms=opened_ts_ms)
        self._fills, self._params = fills, params
        self._sign = plan.direction.sign
        self._risk = plan.risk_per_unit
        self._entry, self._volume = entry_price, volume
        self._exits: list[ExitFill] = []
        self._closed_share = 0.0
        self._best = self._worst = entry_price
        self._breakeven_r = breakeven_r
        self._expired = False
        self._last_ts = opened_ts_ms

    @property
    def closed(self) -> bool:
        return self._state.stage is ExitStage.CLOSED

    @property
    def state(self) -> ManagedPosition:
        return self._state

    def step(self, ts_ms: int, open_: float, high: float, low: float, close: float) -> bool:
        """Walk one bar given in trade (mid) prices; True once the trade is closed."""
        quote = self._fills.quote_at
        side = 0 if self._sign > 0 else 1
        return self.step_close_side(ts_ms, quote(self._state.symbol, open_)[side],
                                    quote(self._state.symbol, high)[side], quote(self._state.symbol, low)[side],
                                    quote(self._state.symbol, close)[side])

    def step_close_side(self, ts_ms: int, open_: float, high: float, low: float, close: float) -> bool:
        """Walk one bar given in close-side prices (bids for a long, asks for a short)."""
        state = self._state
        if state.stage is ExitStage.CLOSED:
            return True
        self._last_ts = ts_ms
        sign = self._sign
        adverse, favourable = (low, high) if sign > 0 else (high, low)
        if sign * (favourable - self._best) > 0:
            self._best = favourable
        if sign * (adverse - self._worst) < 0:
            self._worst = adverse
        if self._quiet(state, ts_ms, adverse, favourable):
            return False
        self._at(open_, ts_ms)
        for start, end in ((open_, adverse), (adverse, favourable), (favourable, close)):
            if self._state.stage is ExitStage.CLOSED:
                break
            self._leg(start, end, ts_ms)
        return self._state.stage is ExitStage.CLOSED

    @property
    def last_ts_ms(self) -> int:
        """End of the last bar walked (the open time at first)."""
        return self._last_ts

    def snapshot(self) -> dict[str, Any]:
        """The walker's state as plain data (JSON-safe), for ``restore`` after a restart."""
        return {"position": self._state.to_dict(), "exits": [[e.ts_ms, e.price, e.share, e.reason] for e in self._exits],
                "best": self._best, "worst": self._worst, "expired": self._expired, "last_ts_ms": self._last_ts}

    @classmethod
    def restore(cls, plan: TradePlan, data: Mapping[str, Any], *, fills: FillModel, params: ExitParams,
                volume: float = 1.0, breakeven_r: float = 0.05) -> TradeWalker:
        state = ManagedPosition.from_dict(data["position"])
        walker = cls(plan, entry_price=state.entry, opened_ts_ms=state.opened_ts_ms, fills=fills, params=params,
                     volume=volume, breakeven_r=breakeven_r)
        walker._state = state
        walker._exits = [ExitFill(int(ts), float(price), float(share), str(reason))
                         for ts, price, share, reason in data["exits"]]
        walker._closed_share = sum(e.share for e in walker._exits)
        walker._best, walker._worst = float(data["best"]), float(data["worst"])
        walker._expired, walker._last_ts = bool(data["expired"]), int(data["last_ts_ms"])
        return walker

    def expire(self, ts_ms: int, close_side_price: float) -> None:
        """Close what is left at ``close_side_price``: the horizon ended first."""
        if self._state.stage is ExitStage.CLOSED:
            return
        self._record(ts_ms, close_side_price, 1.0 - self._closed_share, "expired")
        self._state = replace(self._state, stage=ExitStage.CLOSED, volume=0.0)
        self._expired = True

    def resolution(self) -> Resolution:
        """The result so far (call once ``closed``)."""
        sign, entry, fee = self._sign, self._entry, self._fills.fee
        pnl = -fee(entry)
        exit_value = 0.0
        for e in self._exits:
            pnl += e.share * (sign * (e.price - entry) - fee(e.price))
            exit_value += e.share * e.price
        share = sum(e.share for e in self._exits)
        risk = self._risk if self._risk > 0 else float("nan")
        r = pnl / risk
        last = self._exits[-1] if self._exits else None
        return Resolution(
            outcome=classify(r, expired=self._expired, breakeven_r=self._breakeven_r), entry_price=entry,
            exit_price=exit_value / share if share > 0 else entry, close_ts_ms=last.ts_ms if last else self._last_ts,
            r=r, pnl_per_unit=pnl, pnl_pct=pnl / entry * 100.0, reason=last.reason if last else "", exits=tuple(self._exits),
            max_favourable_r=sign * (self._best - entry) / risk, max_adverse_r=min(0.0, sign * (self._worst - entry) / risk))

    # ------------------------------------------------------------------ internals

    def _quiet(self, state: ManagedPosition, ts_ms: int, adverse: float, favourable: float) -> bool:
        """Nothing can change in this bar: no stop, no target, no new best, no time stop."""
        sign = self._sign
        if sign * (adverse - state.stop) <= 0:
            return False
        if state.targets_hit < len(state.targets) and sign * (favourable - state.targets[state.targets_hit]) >= 0:
            return False
        if state.stage is ExitStage.RUNNER:
            return sign * (favourable - state.best_price) <= 0
        minutes = self._params.time_stop_minutes
        return not (minutes > 0 and ts_ms - state.opened_ts_ms >= minutes * 60_000)

    def _leg(self, start: float, end: float, ts_ms: int) -> None:
        sign = self._sign
        if sign * (end - start) < 0:  # adverse: only the stop can be crossed
            stop = self._state.stop
            if sign * (end - stop) <= 0:
                self._at(stop if sign * (start - stop) > 0 else start, ts_ms)
        else:
            state = self._state
            while state.stage is not ExitStage.CLOSED and state.targets_hit < len(state.targets):
                target = state.targets[state.targets_hit]
                if sign * (end - target) < 0:
                    break
                self._at(target if sign * (start - target) < 0 else start, ts_ms)
                if self._state is state:
                    break
                state = self._state
        if self._state.stage is not ExitStage.CLOSED:
            self._at(end, ts_ms)

    def _at(self, price: float, ts_ms: int) -> None:
        decision = evaluate(self._state, price, price, ts_ms, self._params)
        for action in decision.actions:
            if isinstance(action, ClosePartial):
                self._record(ts_ms, price, action.volume / self._volume, action.reason)
            elif isinstance(action, CloseAll):
                self._record(ts_ms, price, 1.0 - self._closed_share, action.reason)
        self._state = decision.state

    def _record(self, ts_ms: int, price: float, share: float, reason: str) -> None:
        direction = Direction.LONG if self._sign > 0 else Direction.SHORT
        self._exits.append(ExitFill(ts_ms, self._fills.slipped_exit(direction, price), share, reason))
        self._closed_share += share
