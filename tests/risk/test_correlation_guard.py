"""Correlation exposure guard: blocks the correlated add, allows the hedge."""

from __future__ import annotations

import numpy as np
import pytest

from core.execution import ContractSpec
from core.models import Direction, Position
from core.risk import (
    Allowed,
    Denied,
    RiskLimits,
    TradeCheck,
    check_all,
    check_correlation,
    correlation_matrix,
)
from tests.paths import BINANCE_DATA

N = 120
X = np.array([1.0, -1.0] * (N // 2))  # two orthogonal, zero-mean return patterns of equal size
Y = np.array([1.0, 1.0, -1.0, -1.0] * (N // 4))


def closes(returns: np.ndarray, start: float) -> np.ndarray:
    return start * np.exp(np.concatenate([[0.0], np.cumsum(returns)]))


EURUSD = closes(0.001 * X, 1.10)
GBPUSD = closes(0.001 * (0.8 * X + 0.6 * Y), 1.27)  # correlation 0.8 with EURUSD, by construction
USDCHF = closes(-0.001 * X, 0.90)  # correlation -1
AUDJPY = closes(0.001 * Y, 97.0)  # correlation 0
FX = {"EURUSD": EURUSD, "GBPUSD": GBPUSD, "USDCHF": USDCHF, "AUDJPY": AUDJPY}


def position(symbol: str, direction: Direction, ticket: int = 1) -> Position:
    return Position(ticket=ticket, symbol=symbol, direction=direction, volume=1.0, open_price=1.0,
                    open_ts_ms=0)


def test_matrix_recovers_the_constructed_correlations() -> None:
    matrix = correlation_matrix(FX, window=100)
    assert matrix.samples == 100
    assert matrix.get("EURUSD", "GBPUSD") == pytest.approx(0.8, abs=1e-9)
    assert matrix.get("GBPUSD", "EURUSD") == pytest.approx(0.8, abs=1e-9)
    assert matrix.get("EURUSD", "USDCHF") == pytest.approx(-1.0, abs=1e-9)
    assert matrix.get("EURUSD", "AUDJPY") == pytest.approx(0.0, abs=1e-9)
    assert matrix.get("EURUSD", "EURUSD") == 1.0
    assert matrix.get("EURUSD", "XAUUSD") is None


def test_long_gbpusd_while_long_eurusd_at_0_8_is_blocked() -> None:
    matrix = correlation_matrix(FX, window=100)
    result = check_correlation("GBPUSD", Direction.LONG, [position("EURUSD", Direction.LONG)], matrix, 0.7)
    assert result == Denied("long GBPUSD adds correlated exposure 0.80 above the limit 0.7 "
                            "(long EURUSD ρ=0.80)",
                            "correlation")


@pytest.mark.parametrize(("symbol", "direction", "open_positions", "allowed"), [
    ("GBPUSD", Direction.SHORT, [("EURUSD", Direction.LONG)], True),  # the hedge
    ("USDCHF", Direction.SHORT, [("EURUSD", Direction.LONG)], False),  # short a -1 partner = same bet
    ("USDCHF", Direction.LONG, [("EURUSD", Direction.LONG)], True),
    ("AUDJPY", Direction.LONG, [("EURUSD", Direction.LONG)], True),  # uncorrelated
    ("EURUSD", Direction.LONG, [("EURUSD", Direction.LONG)], False),  # same symbol counts as 1
    # a hedge already open offsets the correlated one: 0.8 - 0.8 = 0
    ("GBPUSD", Direction.LONG, [("EURUSD", Direction.LONG), ("EURUSD", Direction.SHORT)], True),
    ("GBPUSD", Direction.LONG, [], True),
])
def test_correlation_guard_table(symbol: str, direction: Direction, open_positions: list,
                                 allowed: bool) -> None:
    matrix = correlation_matrix(FX, window=100)
    held = [position(s, d, i) for i, (s, d) in enumerate(open_positions)]
    assert check_correlation(symbol, direction, held, matrix, 0.7).allowed is allowed


def test_unknown_correlations_pass_with_a_note() -> None:
    matrix = correlation_matrix({"EURUSD": EURUSD, "SHORTY": EURUSD[-10:]}, window=100)
    assert matrix.symbols == ("EURUSD",)
    result = check_correlation("EURUSD", Direction.LONG, [position("SHORTY", Direction.LONG)], matrix, 0.7)
    assert result == Allowed("correlation", "correlation unknown for SHORTY")


def test_flat_series_count_as_uncorrelated() -> None:
    matrix = correlation_matrix({"EURUSD": EURUSD, "FLAT": np.full(N + 1, 5.0)}, window=100)
    assert matrix.get("EURUSD", "FLAT") == 0.0


def load_closes(name: str) -> np.ndarray:
    return np.loadtxt(BINANCE_DATA / "klines" / name, delimiter=",", skiprows=1, usecols=4)


def test_real_btc_and_eth_hours_block_the_second_long_and_allow_the_hedge() -> None:
    btc = load_closes("spot_BTCUSDT_1h_20260314-20260413.csv")
    eth = load_closes("spot_ETHUSDT_1h_20260314-20260413.csv")
    spec = ContractSpec("ETHUSD", digits=2, contract_size=1.0, volume_min=0.01, volume_max=100.0,
                        volume_step=0.01)
    price = float(eth[-1])
    base = dict(symbol="ETHUSD", confidence=80.0, card_price=price, bid=price - 0.05, ask=price + 0.05,
                equity=10_000.0, spec=spec, start_equity=10_000.0,
                open_positions=[position("BTCUSD", Direction.LONG)],
                closes={"BTCUSD": btc, "ETHUSD": eth}, quote_to_account=1.0)

    add = check_all(TradeCheck(direction=Direction.LONG, entry=price, stop=price * 0.98, **base),
                    RiskLimits())
    hedge = check_all(TradeCheck(direction=Direction.SHORT, entry=price, stop=price * 1.02, **base),
                      RiskLimits())

    expected = np.corrcoef(np.diff(np.log(btc[-101:])), np.diff(np.log(eth[-101:])))[0, 1]
    assert expected > 0.7
    assert [d.gate for d in add.denials] == ["correlation"]
    assert f"{expected:.2f}" in add.denials[0].reason
    assert hedge.allowed and hedge.sizing is not None
    assert hedge.sizing.volume == pytest.approx(np.floor(100.0 / (price * 0.02) / 0.01) * 0.01)
