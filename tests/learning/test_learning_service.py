"""The learning service over the real database: the report, the daily summary, proposals applied through
the audited settings path and reverted, auto-optimize."""

from __future__ import annotations

import numpy as np
import pytest

from core.learning.outcomes import Outcome, classify
from core.learning.resolver import ExitFill, Resolution
from core.learning.service import LearningService
from core.learning.shadow import BOOK, ShadowTrade
from core.models import Direction, TradePlan
from core.ports import FixedClock
from core.tunables import TunableValues, catalog
from db.engine import make_engine, make_sessions
from db.learning import SqlLearningStore, add_shadow_trades
from db.migrate import upgrade
from db.settings import SqlSettingsWriter, list_setting_changes

T0 = 1_700_000_000_000
HOUR_MS = 3_600_000
ADMIN = 111


def shadow_trades(seed: int, n: int, *, edge: bool) -> list[ShadowTrade]:
    """Resolved shadow trades whose components share one factor; with ``edge`` confidence >= 75 wins."""
    rng = np.random.default_rng(seed)
    factor = rng.uniform(-1, 1, n)
    scores = np.clip(factor[:, None] + rng.normal(0, 0.15, (n, 5)), -1, 1)
    weights = np.array([20.0, 20.0, 15.0, 25.0, 20.0])
    total = scores @ weights / weights.sum()
    r = np.where(100 * np.abs(total) >= 75, 0.5, -0.25) * edge + rng.normal(0, 1.0, n)
    out = []
    for i in range(n):
        ts = T0 + i * 3 * HOUR_MS
        direction = Direction.LONG if total[i] > 0 else Direction.SHORT
        plan = TradePlan(symbol="BTCUSD", direction=direction, entry=100.0, stop=98.0 if total[i] > 0 else 102.0,
                         targets=(103.0, 104.0, 105.0) if total[i] > 0 else (97.0, 96.0, 95.0), risk_reward=2.0,
                         confidence=round(100 * abs(total[i]), 1), setup_type=("breakout", "range")[i % 2],
                         timeframe="1h", atr=1.0)
        resolution = Resolution(classify(float(r[i])), 100.0, 100.0 + 2 * float(r[i]), ts + HOUR_MS, float(r[i]),
                                2 * float(r[i]), 2 * float(r[i]), "stop loss" if r[i] < 0 else "target 1",
                                (ExitFill(ts + HOUR_MS, 100.0 + 2 * float(r[i]), 1.0, "stop loss"),), 1.0, -1.0)
        out.append(ShadowTrade(id=f"ev{seed}-{i}", book=BOOK, plan=plan, accepted=True, rejection="", trigger="close",
                               source="LIVE", signal_ts_ms=ts, entry_fill=100.0, expires_ts_ms=ts + 72 * HOUR_MS,
                               scores=tuple(float(x) for x in scores[i]), available=(True,) * 5,
                               confirmation="neutral", tags=(("setup_type", plan.setup_type),),
                               decision=("execute", "reject")[i % 2], resolution=resolution))
    return out


@pytest.fixture
async def world(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/s.db")
    await upgrade(engine)
    sessions = make_sessions(engine)
    tunables = TunableValues(catalog())
    tunables.set("optimizer.trials", "25")
    service = LearningService(SqlLearningStore(sessions), values=tunables.snapshot)
    writer = SqlSettingsWriter(sessions, tunables, FixedClock(T0))
    yield sessions, tunables, service, writer
    await engine.dispose()


async def _store(sessions, trades) -> None:
    async with sessions() as session, session.begin():
        await add_shadow_trades(session, trades)


async def test_report_and_daily_summary(world) -> None:
    sessions, tunables, service, _ = world
    trades = shadow_trades(1, 240, edge=True)
    await _store(sessions, trades)
    now = trades[-1].resolution.close_ts_ms + 1
    report = await service.report(now, days=365)
    assert report.metrics.count == 240 and report.slices.find("setup_type", "breakout").metrics.count == 120
    assert report.execute_vs_reject.execute_count == 120 and report.knowledge
    assert dict(report.weights)["signal.weight_sr"] == tunables["signal.weight_sr"]
    summary = await service.daily_summary(now)
    assert summary.resolved == 8  # one every three hours
    assert summary.metrics.count == 8 and not summary.metrics.meaningful


async def test_a_proposal_is_applied_through_the_audited_settings_and_reverted(world) -> None:
    sessions, tunables, service, writer = world
    await _store(sessions, shadow_trades(1, 1600, edge=True))
    stored = await service.propose(T0 + 10**10)
    assert stored.status == "pending" and stored.proposal.recommended, stored.proposal.reasons
    before = tunables["risk.min_confidence"]
    applied = await service.apply(stored.id, writer, by_user_id=ADMIN, now_ms=T0 + 10**10)
    assert tunables["risk.min_confidence"] == stored.proposal.settings()["risk.min_confidence"] != before
    async with sessions() as session:
        audit = await list_setting_changes(session, limit=50)
    assert {c.name for c in audit} == {a.name for a in applied} and all(c.changed_by == ADMIN for c in audit)
    with pytest.raises(LookupError, match="is applied, not pending"):
        await service.apply(stored.id, writer, by_user_id=ADMIN, now_ms=T0)
    await service.revert(stored.id, writer, by_user_id=ADMIN, now_ms=T0 + 10**10 + 1)
    assert tunables["risk.min_confidence"] == before
    assert (await service.report(T0 + 10**10, days=365)).pending == ()


async def test_auto_optimize_applies_by_itself(world) -> None:
    sessions, tunables, service, writer = world
    await _store(sessions, shadow_trades(1, 1600, edge=True))
    tunables.set("optimizer.auto_optimize", "true")
    stored = await service.propose(T0 + 10**10, settings=writer, by_user_id=0)
    assert stored.status == "applied" and tunables["risk.min_confidence"] >= 70


async def test_noise_leaves_the_settings_alone(world) -> None:
    sessions, tunables, service, writer = world
    await _store(sessions, shadow_trades(2, 1600, edge=False))
    tunables.set("optimizer.auto_optimize", "true")
    before = tunables.snapshot()
    stored = await service.propose(T0 + 10**10, settings=writer)
    assert not stored.proposal.recommended and tunables.snapshot() == before
    assert stored.status in ("pending", "ignored")
    assert Outcome.WIN  # results were classified on the way in


async def test_the_daily_summary_has_words_for_the_push(world) -> None:
    from handlers.learning_text import summary_text

    sessions, _, service, _ = world
    trades = shadow_trades(1, 240, edge=True)
    await _store(sessions, trades)
    text = summary_text(await service.daily_summary(trades[-1].resolution.close_ts_ms + 1))
    assert text.startswith("<b>Learning, last 24 h</b>: 8 shadow trades resolved") and "Win rate" in text
