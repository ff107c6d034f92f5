"""The pure parts of the AI stage, table-tested: JSON extraction, verdict validation, adjustment
rules, prices, budgets with reservations."""

import asyncio
import json

import pytest

from core.llm.adjust import check_adjustments
from core.llm.budget import BudgetGuard, BudgetRefusal, Reservation
from core.llm.extract import extract_json
from core.llm.ports import TokenUsage
from core.llm.prices import PriceError, PriceTable, parse_prices
from core.llm.verdicts import Adjustments, ScreenVerdict, parse_screening, parse_validation_answer
from core.models import Direction, TradePlan
from core.ports import FixedClock
from core.tunables import TunableValues, catalog

OBJ = {"verdict": "STRONG", "confidence": 80, "reasons": ["a {brace} in text", "b"]}
TEXT = json.dumps(OBJ)


@pytest.mark.parametrize("raw", [
    TEXT,
    f"```json\n{TEXT}\n```",
    f"```\n{TEXT}\n```",
    f"<think>Let me weigh {{this}} and that.</think>\n{TEXT}",
    f"<think>unclosed reasoning... then {TEXT}",
    f"Here you go: {TEXT} Anything else?",
    f"Reasoning: {{bad}} first.\n```json\n{TEXT}\n```",
    f"{{not json}} then {TEXT}",
])
def test_the_object_is_found_whatever_surrounds_it(raw):
    assert extract_json(raw) == OBJ


@pytest.mark.parametrize("raw", ["", "no json here", '{"verdict": "STRONG", "confidence": 8', "[1, 2]",
                                 "<think>{\"verdict\": \"STRONG\"}</think>"])
def test_no_object_is_none(raw):
    assert extract_json(raw) is None


@pytest.mark.parametrize("payload, problem", [
    ({"verdict": "BUY", "confidence": 80, "reasons": ["x"]}, "verdict"),
    ({"verdict": "STRONG", "confidence": 180, "reasons": ["x"]}, "confidence"),
    ({"verdict": "STRONG", "confidence": 80, "reasons": []}, "reasons"),
    ({"verdict": "STRONG", "confidence": 80, "reasons": ["x"], "extra": 1}, "extra"),
    ({"verdict": "STRONG", "reasons": ["x"]}, "confidence"),
])
def test_schema_violations_are_abstentions_naming_the_field(payload, problem):
    parsed = parse_screening(json.dumps(payload))
    assert parsed.value is None and problem in parsed.problem


def test_a_valid_screening_and_validation_parse():
    screening = parse_screening(TEXT).value
    assert screening.verdict is ScreenVerdict.STRONG and screening.confidence == 80
    validation = parse_validation_answer(json.dumps({
        "decision": "WAIT", "reasoning": "r", "invalidation_price": 99.5, "risks": [], "entry": None,
        "stop": 98.0, "target": None})).value
    assert validation.decision.value == "WAIT" and validation.proposed == Adjustments(stop=98.0)


def _plan(direction: Direction) -> TradePlan:
    sign = direction.sign
    return TradePlan("BTCUSD", direction, entry=100.0, stop=100.0 - sign * 2.0,
                     targets=(100.0 + sign * 2.0, 100.0 + sign * 4.0, 100.0 + sign * 6.0), risk_reward=2.0,
                     confidence=70, setup_type="breakout", timeframe="1h", atr=1.0)


def _validation(**adjust):
    raw = {"decision": "EXECUTE", "reasoning": "r", "invalidation_price": None, "risks": [], "entry": None,
           "stop": None, "target": None, **adjust}
    return parse_validation_answer(json.dumps(raw)).value


@pytest.mark.parametrize("direction, adjust, accepted, note", [
    (Direction.LONG, {"stop": 101.0}, Adjustments(), "stop 101.00 dropped: on the wrong side of entry 100.00"),
    (Direction.SHORT, {"stop": 99.0}, Adjustments(), "stop 99.00 dropped: on the wrong side of entry 100.00"),
    (Direction.LONG, {"stop": 99.0}, Adjustments(stop=99.0), None),  # tighter stop, R:R 4 to T2
    (Direction.LONG, {"target": 99.0}, Adjustments(), "target 99.00 dropped: on the wrong side"),
    (Direction.LONG, {"stop": 95.0}, Adjustments(), "R:R 0.80 is under the minimum 1.5"),  # 4 / 5
    (Direction.SHORT, {"stop": 101.0, "target": 97.0}, Adjustments(stop=101.0, target=97.0), None),
    (Direction.LONG, {"stop": 101.0, "target": 110.0}, Adjustments(target=110.0), "stop 101.00 dropped"),
])
def test_adjustments_follow_the_plan_rules(direction, adjust, accepted, note):
    checked = check_adjustments(_validation(**adjust), _plan(direction), min_risk_reward=1.5, digits=2)
    assert checked.accepted == accepted
    if note is None:
        assert checked.notes == ()
    else:
        assert any(note in n for n in checked.notes), checked.notes


def test_prices_follow_the_reference_formula():
    table = PriceTable()
    # reference/openai.md §6 worked example: gpt-4o-mini, prompt 100 (64 cached), completion 20
    assert table.cost_usd("gpt-4o-mini", TokenUsage(100, 64, 20, 8)) == pytest.approx(22.2e-6)
    assert table.cost_usd("gpt-4.1-mini-2025-04-14", TokenUsage(1_000_000, 0, 0)) == pytest.approx(0.40)
    assert table.cost_usd("llama3.1:8b", TokenUsage(10, 0, 10)) is None
    local = PriceTable.with_overrides("llama3.1:8b=0/0/0; gpt-5=2/0.2/12")
    assert local.cost_usd("llama3.1:8b", TokenUsage(10, 0, 10)) == 0.0
    assert local.cost_usd("gpt-5", TokenUsage(0, 0, 1_000_000)) == pytest.approx(12.0)
    with pytest.raises(PriceError, match="model=input/cached/output"):
        parse_prices("gpt-5=1/2")


class MemoryLedger:
    """The ledger port's spend query, in memory (the SQL one is exercised by the HTTP tests)."""

    def __init__(self, spent: float = 0.0, fail: bool = False) -> None:
        self.spent, self.fail = spent, fail

    async def spent_usd(self, since_ts_ms: int) -> float:
        await asyncio.sleep(0)  # let a concurrent reserve interleave here if it could
        if self.fail:
            raise OSError("database is locked")
        return self.spent


def _guard(ledger, daily=1.0, monthly=10.0) -> BudgetGuard:
    tunables = TunableValues(catalog())
    tunables.set("ai.daily_budget_usd", daily)
    tunables.set("ai.monthly_budget_usd", monthly)
    return BudgetGuard(ledger, tunables, FixedClock(1_763_000_000_000))


async def test_concurrent_reservations_cannot_both_squeeze_under_the_budget():
    guard = _guard(MemoryLedger(spent=0.5))
    first, second = await asyncio.gather(guard.reserve(0.3), guard.reserve(0.3))
    assert isinstance(first, Reservation) and isinstance(second, BudgetRefusal)
    guard.release(first)
    assert isinstance(await guard.reserve(0.3), Reservation)


async def test_budget_refusals_alert_once_per_period_and_fail_closed():
    guard = _guard(MemoryLedger(spent=9.9), daily=100.0, monthly=10.0)
    refusals = [await guard.reserve(0.2) for _ in range(3)]
    assert [(r.period, r.first) for r in refusals] == [("month", True), ("month", False), ("month", False)]
    assert refusals[0].period_key == "2025-11"
    broken = await _guard(MemoryLedger(fail=True)).reserve(0.01)
    assert isinstance(broken, BudgetRefusal) and "could not be read" in broken.reason
