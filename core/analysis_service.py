"""Use case: analyse one symbol now, from the live market state (the /analyse, /flow, /sr path)."""

from __future__ import annotations

from dataclasses import dataclass

from core.analysis.engine import analyse
from core.analysis.inputs import AnalysisInput, PlanSizing, TradeColumns
from core.analysis.levels import ZoneMemo
from core.analysis.synthesis import Analysis, AnalysisParams
from core.market.state import MarketState
from core.market.symbols import SymbolMap
from core.models import HTF_INTERVALS
from core.ports import Clock
from core.tunables import TunableValues

TRADE_WINDOW_MS = 15 * 60_000  # recent tape the order-flow analysis sees


class NotReady(Exception):
    """The market data for a symbol is not there yet; the message says what is missing."""


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    symbol: str
    sizing: PlanSizing | None = None


class AnalysisService:
    def __init__(self, market: MarketState, symbol_map: SymbolMap, tunables: TunableValues, clock: Clock) -> None:
        self._market = market
        self._symbols = symbol_map
        self._tunables = tunables
        self._clock = clock
        self.memo = ZoneMemo()  # shared by every analysis: run them one at a time
        self._params: tuple[dict, AnalysisParams] | None = None

    def params(self) -> AnalysisParams:
        """Params from the current runtime settings (rebuilt only when a setting changed)."""
        snapshot = self._tunables.snapshot()
        if self._params is None or self._params[0] != snapshot:
            self._params = (snapshot, AnalysisParams.from_tunables(self._tunables))
        return self._params[1]

    def build_input(self, symbol: str, *, sizing: PlanSizing | None = None,
                    at_ms: int | None = None) -> AnalysisInput:
        """The analysis input now; ``at_ms`` (a candle close) moves its time up to that moment, so the
        candle that just closed counts even when the last trade came a moment before it."""
        ready, missing = self._market.is_ready(symbol)
        if not ready:
            raise NotReady(f"{symbol}: {missing}")
        market = self._market
        now_ms = self._clock.now_ms()
        info = market.price_info(symbol)
        assert info is not None  # is_ready checked it
        tape = market.trades_since(symbol, info.ts_ms - TRADE_WINDOW_MS)
        trades = (TradeColumns(tape.ts_ms, tape.price, tape.qty, tape.side, tape.notional)
                  if len(tape.ts_ms) else None)
        htf = {interval: market.htf(symbol, interval) for interval in HTF_INTERVALS}
        return AnalysisInput(
            symbol=symbol, ts_ms=max(info.ts_ms, at_ms or 0), price=info.price, source=market.source,
            htf={k: v for k, v in htf.items() if len(v)}, seconds=market.seconds(symbol),
            minutes=market.minutes(symbol), trades=trades, book=market.book(symbol), spread=info.spread,
            has_order_flow=self._symbols.has_order_flow(symbol),
            data_age_s=max(0.0, (now_ms - info.ts_ms) / 1000.0), sizing=sizing)

    def snapshot(self, symbol: str, *, sizing: PlanSizing | None = None, at_ms: int | None = None) -> AnalysisInput:
        """The market of ``symbol`` now, copied for an analysis off the loop (``NotReady`` if missing);
        ``sizing`` sizes its plan for the account."""
        return self.build_input(symbol, sizing=sizing, at_ms=at_ms)

    def analyse_input(self, inp: AnalysisInput) -> Analysis:
        """The analysis of a snapshot with the current settings (pure; run one at a time: shared memo)."""
        return analyse(inp, self.params(), self.memo)

    def analyse(self, symbol: str, *, sizing: PlanSizing | None = None) -> Analysis:
        """The full analysis of ``symbol`` now, or NotReady saying what is missing."""
        return self.analyse_input(self.build_input(symbol, sizing=sizing))
