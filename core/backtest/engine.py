"""The backtester: live analysis, gates, exits and fill model replayed over candles.

At every close of the setup timeframe (``signal.setup_timeframe``, 1h by default), as the live bot's
continuous evaluation does:
1. ``SeriesAnalyser.at`` analyses the symbol at the close of the last base candle (equal to
   ``analyse``; higher timeframes only from candles closed by then, no order flow from klines);
2. an accepted plan goes through every live gate (``core.risk.check_all``: confidence, daily loss,
   open positions, spread, drift, correlation, size) with the backtest account's equity, open
   positions and day; a refusal is counted per gate;
3. an allowed plan is entered at the **next** base candle's open through the fill model (spread,
   slippage, fee), sized by the gates, and managed bar by bar by ``TradeWalker`` with the live exit
   rules (``core.exits``) until it closes; trades still open when the data ends expire there.
Money is in the account currency: quote-currency amounts times ``BacktestConfig.quote_to_account``
(1 for USDT pairs on a USD account, taking USDT at 1 USD; a fixed rate for the run otherwise).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from core.analysis.synthesis import Analysis
from core.backtest.records import BacktestConfig, BacktestResult, BacktestTrade, Evaluation, Warmup
from core.backtest.series import SeriesAnalyser
from core.execution import ContractSpec
from core.learning.resolver import TradeWalker
from core.learning.tags import signal_tags
from core.models import CandleArrays, Direction, Position, TradePlan, close_end_ms
from core.risk import TradeCheck, check_all, trading_day_start_ms


@dataclass(slots=True)
class _Open:
    number: int
    plan: TradePlan
    signal_ts_ms: int
    open_ts_ms: int
    entry: float
    volume: float
    risk_amount: float
    walker: TradeWalker
    tags: tuple[tuple[str, str], ...]


@dataclass(slots=True)
class _Account:
    balance: float
    day_start_ms: int = -1
    day_start_equity: float = 0.0
    day_start_open_pnl: float = 0.0
    realized_today: float = 0.0


class Backtest:
    """One run over ``base`` candles (e.g. 5m) with its higher timeframes ``htf`` (see the module docstring)."""

    def __init__(self, base: CandleArrays, htf: dict[str, CandleArrays], config: BacktestConfig) -> None:
        self.base, self.config = base, config
        self.analyser = SeriesAnalyser(config.symbol, htf, config.analysis)
        self.spec = config.spec or ContractSpec(config.symbol)
        fills = config.fills
        self._long_side, _ = fills.quote_arrays(config.symbol, np.stack([base.open, base.high, base.low, base.close]))
        _, self._short_side = fills.quote_arrays(config.symbol, np.stack([base.open, base.high, base.low, base.close]))
        self._open: list[_Open] = []
        self._pending: list[_Open] = []
        self._trades: list[BacktestTrade] = []
        self._evaluations: list[Evaluation] = []
        self._refusals: dict[str, int] = {}
        self._account = _Account(config.starting_equity)
        self._number = 0

    def run(self) -> BacktestResult:
        base, config = self.base, self.config
        ends = close_end_ms(base.open_time_ms, base.interval)
        decisions = self._decision_times()
        by_bar: dict[int, list[int]] = {}
        for ts in decisions:
            by_bar.setdefault(int(np.searchsorted(ends, ts, side="right")) - 1, []).append(ts)
        first = min(by_bar, default=len(base))
        first = max(first, 0)
        opens, end_list, close = base.open_time_ms.tolist(), ends.tolist(), base.close.tolist()
        long_side = [row.tolist() for row in self._long_side]
        short_side = [row.tolist() for row in self._short_side]
        for i in range(first, len(base)):
            ts = end_list[i]
            if self._pending:
                self._enter(i, opens[i])
            if self._open:
                self._walk(i, ts, long_side, short_side)
            for decision_ts in by_bar.get(i, ()):
                self._decide(decision_ts, close[i])
        if len(base):
            self._expire_all(end_list[-1], long_side, short_side, len(base) - 1)
        return BacktestResult(config, tuple(self._evaluations), tuple(self._trades), dict(self._refusals),
                              self._warmup(decisions), max(0, len(base) - first),
                              decisions[0] if decisions else 0, decisions[-1] if decisions else 0)

    # ------------------------------------------------------------------ decisions

    def _decision_times(self) -> list[int]:
        interval = self.config.analysis.signal.setup_timeframe
        setup = self.analyser.htf.get(interval)
        if setup is None or not len(self.base):
            return []
        times = close_end_ms(setup.open_time_ms, interval)
        last = int(close_end_ms(self.base.open_time_ms[-1:], self.base.interval)[0])
        keep = times <= last
        if self.config.from_ts_ms is not None:
            keep &= times >= self.config.from_ts_ms
        if self.config.to_ts_ms is not None:
            keep &= times < self.config.to_ts_ms
        return times[keep].tolist()

    def _decide(self, ts_ms: int, price: float) -> None:
        bid, ask = self.config.fills.quote_at(self.config.symbol, price)
        analysis = self.analyser.at(ts_ms, price, ask - bid)
        plan = analysis.plan
        if plan is None:
            self._evaluations.append(_evaluation(analysis, "no plan"))
            return
        report = check_all(self._trade_check(plan, ts_ms, bid, ask), self.config.limits)
        if not report.allowed or report.sizing is None:
            for denial in report.denials:
                self._refusals[denial.gate or "other"] = self._refusals.get(denial.gate or "other", 0) + 1
            self._evaluations.append(_evaluation(analysis, f"refused: {report.summary()}"))
            return
        self._number += 1
        sizing = report.sizing
        self._pending.append(_Open(self._number, plan, ts_ms, 0, 0.0, sizing.volume, sizing.risk_account,
                                   None, signal_tags(analysis, plan, self.analyser.window(plan.timeframe, ts_ms))))
        self._evaluations.append(_evaluation(analysis, "trade"))

    def _trade_check(self, plan: TradePlan, ts_ms: int, bid: float, ask: float) -> TradeCheck:
        account, limits = self._account, self.config.limits
        open_pnl = self._open_pnl(bid, ask)
        equity = account.balance + open_pnl
        day = trading_day_start_ms(ts_ms, limits.day_rollover_hour_utc)
        if day != account.day_start_ms:
            account.day_start_ms, account.day_start_equity = day, equity
            account.day_start_open_pnl, account.realized_today = open_pnl, 0.0
        positions = [Position(ticket=o.number, symbol=o.plan.symbol, direction=o.plan.direction,
                              volume=o.volume, open_price=o.entry, open_ts_ms=o.open_ts_ms)
                     for o in (*self._open, *self._pending)]
        return TradeCheck(symbol=plan.symbol, direction=plan.direction, confidence=plan.confidence, entry=plan.entry,
                          stop=plan.stop, card_price=plan.entry, bid=bid, ask=ask, equity=equity, spec=self.spec,
                          start_equity=account.day_start_equity, realized_pnl_today=account.realized_today,
                          open_pnl_today=open_pnl - account.day_start_open_pnl, atr=plan.atr,
                          open_positions=positions, quote_to_account=self.config.quote_to_account)

    # ------------------------------------------------------------------ positions

    def _enter(self, i: int, open_ts_ms: int) -> None:
        fills, symbol = self.config.fills, self.config.symbol
        bid, ask = fills.quote_at(symbol, float(self.base.open[i]))
        for pending in self._pending:
            entry = fills.market_entry(pending.plan.direction, bid, ask)
            pending.entry, pending.open_ts_ms = entry, open_ts_ms
            pending.walker = TradeWalker(pending.plan, entry_price=entry, opened_ts_ms=open_ts_ms, fills=fills,
                                         params=self.config.exits, volume=pending.volume,
                                         breakeven_r=self.config.learning.breakeven_r)
            self._open.append(pending)
        self._pending = []

    def _walk(self, i: int, ts_ms: int, long_side: list[list[float]], short_side: list[list[float]]) -> None:
        still = []
        for position in self._open:
            side = long_side if position.plan.direction is Direction.LONG else short_side
            if position.walker.step_close_side(ts_ms, side[0][i], side[1][i], side[2][i], side[3][i]):
                self._close(position)
            else:
                still.append(position)
        self._open = still

    def _expire_all(self, ts_ms: int, long_side: list[list[float]], short_side: list[list[float]], i: int) -> None:
        for position in self._open:
            side = long_side if position.plan.direction is Direction.LONG else short_side
            position.walker.expire(ts_ms, side[3][i])
            self._close(position)
        self._open = []

    def _close(self, position: _Open) -> None:
        resolution = position.walker.resolution()
        size = position.volume * self.spec.contract_size
        rate = self.config.quote_to_account
        pnl = resolution.pnl_per_unit * size * rate
        fee = self.config.fills.fee
        fees = (fee(position.entry) + sum(e.share * fee(e.price) for e in resolution.exits)) * size * rate
        self._account.balance += pnl
        self._account.realized_today += pnl
        plan = position.plan
        self._trades.append(BacktestTrade(
            number=position.number, symbol=plan.symbol, direction=plan.direction, setup_type=plan.setup_type,
            signal_ts_ms=position.signal_ts_ms, open_ts_ms=position.open_ts_ms, entry_price=position.entry,
            stop=plan.stop, targets=tuple(plan.targets), volume=position.volume, risk_amount=position.risk_amount,
            close_ts_ms=resolution.close_ts_ms, exit_price=resolution.exit_price, pnl=pnl, fees=fees,
            r=pnl / position.risk_amount if position.risk_amount > 0 else resolution.r,
            outcome=resolution.outcome, exit_reason=resolution.reason, tags=position.tags))

    def _open_pnl(self, bid: float, ask: float) -> float:
        total = 0.0
        for position in self._open:
            state = position.walker.state
            price = bid if state.direction is Direction.LONG else ask
            total += state.direction.sign * (price - position.entry) * state.volume * self.spec.contract_size \
                * self.config.quote_to_account
        return total

    def _warmup(self, decisions: list[int]) -> tuple[Warmup, ...]:
        if not decisions:
            return ()
        params = self.config.analysis
        needed = max(params.indicators.calc_candles, params.levels.lookback_candles)
        out = []
        for interval, candles in self.analyser.htf.items():
            ends = close_end_ms(candles.open_time_ms, interval)
            available = bisect_right(ends.tolist(), decisions[-1])
            complete = int(ends[needed - 1]) if len(candles) >= needed else None
            out.append(Warmup(interval, needed, available, complete))
        return tuple(out)


def _evaluation(analysis: Analysis, action: str) -> Evaluation:
    plan = analysis.plan
    return Evaluation(
        ts_ms=analysis.ts_ms, price=analysis.price,
        direction=analysis.direction.value if analysis.direction is not None else "none",
        setup_type=analysis.setup_type, confidence=analysis.confidence, total_score=analysis.total_score,
        entry=plan.entry if plan else None, stop=plan.stop if plan else None,
        targets=tuple(plan.targets) if plan else (), rejection=analysis.rejection or "", action=action)


def run_backtest(base: CandleArrays, htf: dict[str, CandleArrays], config: BacktestConfig) -> BacktestResult:
    """Run one backtest (see the module docstring); deterministic for the same inputs."""
    return Backtest(base, htf, config).run()


def nan_to_none(value: float) -> float | None:
    return None if math.isnan(value) else value
