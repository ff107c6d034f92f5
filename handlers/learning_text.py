"""Words for learning facts: metrics with their intervals, slices, the two plain answers, backtest reports.

HTML for Telegram; ``html_to_plain`` turns it into terminal text for the CLI.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.backtest.report import BacktestReport, Comparison
from core.learning.knowledge import Observation
from core.learning.metrics import Rate, StrategyMetrics
from core.learning.optimizer import Proposal
from core.learning.service import LearningSummary
from core.learning.slices import Slice, SliceReport
from core.learning.verdicts import AiValue, Answer, DecisionComparison
from handlers.html import esc


def day(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%d")


def pct_rate(rate: Rate) -> str:
    if rate.value is None:
        return "n/a"
    return f"{rate.value * 100:.0f}% ({rate.low * 100:.0f}–{rate.high * 100:.0f}%)"


def r_value(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:+.{digits}f}R"


def ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def metrics_lines(m: StrategyMetrics) -> list[str]:
    e = m.expectancy_r
    meaning = "" if m.meaningful else f" — <i>not yet meaningful (n={m.count} &lt; {m.min_sample_size})</i>"
    lines = [f"<b>{m.count} trades</b>: {m.wins} won, {m.losses} lost, {m.breakevens} breakeven, "
             f"{m.expired} expired{meaning}",
             f"Win rate {pct_rate(m.win_rate)}",
             f"Expectancy {r_value(e.value if e else None)}"
             + (f" (95% interval {r_value(e.low)} to {r_value(e.high)})" if e else ""),
             f"Profit factor {ratio(m.profit_factor)} · avg win {r_value(m.average_win_r)} · "
             f"avg loss {r_value(m.average_loss_r)} · total {r_value(m.total_r, 1)}",
             f"Sharpe {ratio(m.sharpe_trade)}/trade, {ratio(m.sharpe_annual)}/yr · "
             f"Sortino {ratio(m.sortino_trade)}/trade, {ratio(m.sortino_annual)}/yr",
             f"Max drawdown {m.max_drawdown_r:.1f}R"]
    return lines


def slice_line(s: Slice) -> str:
    m = s.metrics
    e = m.expectancy_r
    head = f"{esc(s.dimension)}={esc(s.value)}: n={m.count}, win {pct_rate(m.win_rate)}, " \
           f"exp {r_value(e.value if e else None)} ({r_value(e.low if e else None)}..{r_value(e.high if e else None)})"
    if not m.meaningful:
        return head + " — not yet meaningful"
    return head + (f" — <b>significant</b> (adj. p {s.adjusted_p:.3f})" if s.significant
                   else f" — not significant (adj. p {s.adjusted_p:.2f})")


def slices_lines(report: SliceReport, *, limit: int = 30) -> list[str]:
    lines = [f"<b>Slices</b> ({report.compared} compared; {report.discoveries} significant at a "
             f"{report.fdr * 100:.0f}% false-discovery rate, Benjamini–Hochberg)"]
    ranked = sorted(report.slices, key=lambda s: (not s.significant, not s.metrics.meaningful, -s.metrics.count))
    lines += [slice_line(s) for s in ranked[:limit]]
    if len(ranked) > limit:
        lines.append(f"… {len(ranked) - limit} more slices")
    return lines


def decision_answer(c: DecisionComparison) -> str:
    if c.answer is Answer.NOT_ENOUGH:
        return (f"Did EXECUTE beat REJECT? Not enough evidence yet: {c.execute_count} executed and "
                f"{c.reject_count} rejected signals resolved (need {c.min_sample_size} each).")
    sentence = {Answer.YES: "Yes", Answer.NO: "No, the rejected signals did better",
                Answer.UNCLEAR: "Unclear: the difference could be luck"}[c.answer]
    return (f"Did EXECUTE beat REJECT? {sentence}: executed {r_value(c.execute_mean_r)} vs rejected "
            f"{r_value(c.reject_mean_r)} per signal, difference {r_value(c.difference_r)} "
            f"(95% interval {r_value(c.low)} to {r_value(c.high)}; n={c.execute_count}/{c.reject_count}).")


def ai_answer(v: AiValue) -> str:
    money = f"saved ${v.saved_usd:,.2f} ({r_value(v.saved_r, 1)} at ${v.money_per_r:,.2f}/R) against ${v.cost_usd:,.2f} " \
            f"spent on {v.calls} calls"
    if v.answer is Answer.NOT_ENOUGH:
        return f"Did the AI pay for itself? Not enough evidence yet: {v.screened} screened signals resolved " \
               f"(need {v.min_sample_size}); so far it {money}."
    sentence = {Answer.YES: "Yes", Answer.NO: "No", Answer.UNCLEAR: "Unclear"}[v.answer]
    return f"Did the AI pay for itself? {sentence}: following its advice {money} (net ${v.net_usd:+,.2f})."


def backtest_text(report: BacktestReport, *, slices: bool = True) -> str:
    head = (f"<b>Backtest {esc(report.symbol)}</b> {day(report.first_ts_ms)} → {day(report.last_ts_ms)}: "
            f"{report.candles:,} candles, {report.decisions:,} decisions, {report.plans} plans, "
            f"{report.traded} trades")
    money = report.money
    drawdown = money.drawdown
    lines = [head, *metrics_lines(report.metrics),
             f"Equity {report.starting_equity:,.2f} → {report.final_equity:,.2f} "
             f"(fees {report.fees:,.2f}); largest drawdown {drawdown.amount:,.2f}"
             + (f" ({drawdown.pct:.1f}%)" if drawdown.pct is not None else "")]
    if report.refusals:
        lines.append("Refused by the gates: " + ", ".join(f"{esc(g)} {n}" for g, n in report.refusals.items()))
    if report.setups:
        lines.append("Plans by setup: " + ", ".join(f"{esc(s)} {n}" for s, n in report.setups.items()))
    short = [w for w in report.warmup if w.complete_ts_ms is None]
    if short:
        lines.append("Warm-up incomplete (windows not full, results depend on where the data starts): "
                     + ", ".join(f"{w.interval} {w.available}/{w.needed}" for w in short))
    if slices:
        lines += ["", *slices_lines(report.slices)]
    return "\n".join(lines)


def comparison_text(c: Comparison) -> str:
    changes = ", ".join(f"{esc(k)}={esc(v)}" for k, v in c.changes)
    verdict = "could be luck" if c.low is None or c.low <= 0 <= (c.high or 0) else "unlikely to be luck"
    return "\n".join([
        f"<b>Compare</b> {changes} against the baseline:",
        f"A: {c.a.traded} trades, expectancy {r_value(c.a.metrics.expectancy_r.value if c.a.metrics.expectancy_r else None)}",
        f"B: {c.b.traded} trades, expectancy {r_value(c.b.metrics.expectancy_r.value if c.b.metrics.expectancy_r else None)}",
        f"B − A {r_value(c.difference_r)} per trade (95% interval {r_value(c.low)} to {r_value(c.high)}, "
        f"p {ratio(c.p_value)}): {verdict}."])


def proposal_text(p: Proposal) -> str:
    head = "<b>Optimizer proposal</b>" + (" — recommended" if p.recommended else " — not recommended")
    changes = "\n".join(f"• {esc(c.name)}: {esc(c.current)} → {esc(c.proposed)}" for c in p.changes) or "• no change"
    unit = "R/trade" if p.objective == "expectancy" else "Sharpe/trade"
    oos = (f"Out of sample ({p.folds} anchored folds, {p.trials} trials each): {p.objective} "
           f"{_num(p.current_oos)} → {_num(p.proposed_oos)} {unit} over {p.trades_current} → {p.trades_proposed} "
           f"trades; gain {_num(p.improvement)}"
           + (f" (95% interval {_num(p.low)} to {_num(p.high)})" if p.low is not None else ""))
    dsr = f"Deflated Sharpe {_num(p.deflated_sharpe)} in sample, {_num(p.oos_deflated_sharpe)} out of sample " \
          f"(after {p.trials} trials; 0.95 is the usual bar)"
    lines = [head, changes, oos, dsr]
    if p.shadow is not None:
        s = p.shadow
        lines.append(f"Live shadow results: {s.trades_current} → {s.trades_proposed} trades, "
                     f"{_num(s.current)} → {_num(s.proposed)}"
                     + ("" if s.meaningful else " (not yet meaningful)") + (" — contradicts" if s.contradicts else ""))
    lines.append("Why: " + "; ".join(esc(r) for r in p.reasons))
    return "\n".join(lines)


def knowledge_lines(observations: list[Observation], *, limit: int = 8) -> list[str]:
    ranked = sorted(observations, key=lambda o: (o.status.value != "confirmed", o.status.value != "hypothesis",
                                                 -o.sample))
    return [f"[{esc(o.area.replace('_', ' '))}] {o.status.value}: {esc(o.statement)}" for o in ranked[:limit]]


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}"


def summary_text(summary: LearningSummary) -> str:
    """The daily learning summary (issue 12's daily job pushes it)."""
    lines = [f"<b>Learning, last 24 h</b>: {summary.resolved} shadow trades resolved"]
    if summary.resolved:
        lines += metrics_lines(summary.metrics)[1:3]
    lines += [f"Newly confirmed: {esc(o.statement)}" for o in summary.newly_confirmed]
    lines += [f"No longer holds: {esc(o.statement)}" for o in summary.newly_rejected]
    if summary.pending_proposals:
        lines.append(f"{summary.pending_proposals} optimizer proposal(s) wait for an admin: /learn")
    return "\n".join(lines)
