"""Parameters of the market simulator (defaults are the calibrated values, docs/simulator.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from core.feeds.sim_book import BookShape
from core.feeds.sim_flow import AggressorModel, ArrivalModel, ClusterModel, TradeSizeModel
from core.feeds.sim_history import HistoryShape
from core.feeds.sim_regimes import Regime, RegimeModel


@dataclass(frozen=True, slots=True)
class SimParams:
    """Everything that shapes the simulated market; the ``sim.*`` tunables map onto a few fields."""

    step_ms: int = 100  # must divide 1000
    book_every_steps: int = 1  # 0: no book snapshots (faster statistics runs)
    history_days: int = 1280
    fine_5m_days: int = 30
    fine_1m_days: int = 2
    volatility_scale: float = 1.0
    activity_scale: float = 1.0
    fixed_regime: Regime | None = None  # hold every live symbol in this regime (tests, demos)
    initial_vol_factor: float | None = None  # None: the slow volatility factor the history ends with
    slow_vol_half_life_h: float = 6.0
    slow_vol_sd: float = 0.3
    regimes: RegimeModel = field(default_factory=RegimeModel)
    sizes: TradeSizeModel = field(default_factory=TradeSizeModel)
    clusters: ClusterModel = field(default_factory=ClusterModel)
    arrivals: ArrivalModel = field(default_factory=ArrivalModel)
    aggressors: AggressorModel = field(default_factory=AggressorModel)
    book: BookShape = field(default_factory=BookShape)

    @classmethod
    def from_values(cls, values: Mapping[str, Any] | Any, **overrides: Any) -> SimParams:
        """Params from tunable values (``TunableValues`` or a dict of ``sim.*`` names; missing
        names keep their defaults)."""
        base = cls(**overrides)

        def value(name: str, default: Any) -> Any:
            try:
                return values[name]
            except (KeyError, ValueError):  # TunableError is a ValueError
                return default

        return replace(base, volatility_scale=float(value("sim.volatility_scale", base.volatility_scale)),
                       activity_scale=float(value("sim.activity_scale", base.activity_scale)),
                       history_days=int(value("sim.history_days", base.history_days)),
                       sizes=replace(base.sizes, tail_alpha=float(value("sim.whale_tail_alpha",
                                                                        base.sizes.tail_alpha))))

    def history_shape(self) -> HistoryShape:
        return HistoryShape(self.history_days, self.fine_5m_days, self.fine_1m_days, self.slow_vol_sd,
                            self.volatility_scale, self.activity_scale)
