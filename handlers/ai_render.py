"""Rendering the AI's facts as Telegram HTML: the card's AI section, /costs, and /ai why."""

from __future__ import annotations

from collections.abc import Sequence

from charts.costs import format_usd
from core.llm.costs import CostReport
from core.llm.ports import Outcome
from core.llm.records import CallRecord, StoredPrompt
from core.llm.review import AiReview
from core.llm.runner import StageResult
from core.llm.verdicts import Screening, ValidatorDecision
from core.models import TradePlan
from handlers.html import esc

AI_CHECKING = "\n\n🤖 <i>AI checking…</i>"
AI_OFF = ("AI analysis is off: set OPENAI_API_KEY (and OPENAI_BASE_URL for a local OpenAI-compatible server "
          "such as Ollama) and restart. /analyse works without it.")
REASONING_CHARS = 320
STAGE_WORD = {"screener": "Screener", "validator": "Validator"}


def money(usd: float) -> str:
    """AI money: small amounts keep their significant digits ($0.00042)."""
    if usd == 0:
        return "$0"
    return f"${usd:.2f}" if usd >= 1 else f"${usd:.4f}" if usd >= 0.001 else f"${usd:.6f}"


def seconds(ms: float) -> str:
    return f"{ms / 1000:.1f} s"


def render_ai_section(review: AiReview, plan: TradePlan | None, digits: int) -> str:
    """The AI section appended to a card: both verdicts, the reasoning in a few lines, cost and latency."""
    if review.note:
        return f"\n\n🤖 <b>AI</b>: {esc(review.note)}"
    lines = ["\n\n🤖 <b>AI</b> · " + " · ".join(_verdict_words(review))]
    screening = review.screening
    if screening is not None:
        lines += [f"• {esc(reason)}" for reason in screening.reasons[:3]]
    lines += _validation_lines(review, plan, digits)
    lines += [f"⚠️ {esc(line)}" for line in _failure_notes(review)]
    lines.append(f"<i>{money(review.cost_usd)} · {seconds(review.latency_ms)} · /ai why {review.review_id}</i>")
    return "\n".join(lines)


def _verdict_words(review: AiReview) -> list[str]:
    words = [f"screener {esc(review.screener.model)}: {_screen_word(review.screening)}"] if review.screener else []
    if review.validation is not None:
        decision = review.validation.decision
        words.append(f"validator {esc(review.validator.model)}: <b>{decision.value}</b>")
    elif review.validator is not None:
        words.append(f"validator {esc(review.validator.model)}: no verdict")
    elif review.validator_skipped:
        words.append(f"validator not asked ({esc(review.validator_skipped)})")
    return words


def _screen_word(screening: Screening | None) -> str:
    return "no verdict" if screening is None else f"<b>{screening.verdict.value}</b> {screening.confidence:.0f}"


def _validation_lines(review: AiReview, plan: TradePlan | None, digits: int) -> list[str]:
    validation = review.validation
    if validation is None:
        return []
    reasoning = validation.reasoning
    if len(reasoning) > REASONING_CHARS:
        reasoning = reasoning[:REASONING_CHARS].rsplit(" ", 1)[0] + "…"
    lines = [f"<i>Validator:</i> {esc(reasoning)}"]
    if validation.decision is ValidatorDecision.REJECT:
        lines.append("The AI disagrees with this setup; the decision stays yours.")
    facts = []
    if validation.invalidation_price is not None:
        facts.append(f"wrong at {validation.invalidation_price:,.{digits}f}")
    if validation.risks:
        facts.append("risks: " + "; ".join(validation.risks[:3]))
    if facts:
        lines.append(esc(" · ".join(facts)))
    accepted = validation.accepted
    if accepted.any:
        parts = [f"{name} {value:,.{digits}f}" for name, value in (("entry", accepted.entry), ("stop", accepted.stop),
                                                                   ("target", accepted.target)) if value is not None]
        lines.append("Suggested: " + " · ".join(parts) + " (not applied)")
    lines += [f"Dropped: {esc(note)}" for note in validation.notes]
    return lines


def _failure_notes(review: AiReview) -> list[str]:
    notes = []
    for stage in (review.screener, review.validator):
        if stage is not None and stage.verdict is None:
            problem = stage_problem(stage).rstrip(". ")
            notes.append(f"{STAGE_WORD[stage.stage.value]} {problem}; the regular card stands.")
    return notes


def stage_problem(stage: StageResult) -> str:
    if stage.outcome is Outcome.ABSTAINED:
        return f"abstained: {stage.note}"
    if stage.outcome is Outcome.BUDGET:
        return f"skipped: {stage.note}"
    return stage.note or stage.outcome.value


# ---------------------------------------------------------------------------- /costs


def render_costs(report: CostReport, *, today_usd: float, month_usd: float, daily_budget_usd: float,
                 monthly_budget_usd: float) -> str:
    lines = [f"<b>AI costs</b> · last {report.days} days (UTC, from {report.start_day})",
             f"Total <b>{money(report.total_usd)}</b> · {report.calls} calls · {report.analyses} analyses · "
             f"{money(report.per_analysis_usd)} per analysis"]
    lines.append("\n<b>By day</b>")
    lines += [f"{line.name} {money(line.cost_usd)} ({line.calls} calls)" for line in report.by_day if line.calls]
    if not report.calls:
        lines.append("no AI calls")
    for title, group in (("By stage", report.by_stage), ("By model", report.by_model)):
        if group:
            lines.append(f"\n<b>{title}</b>")
            lines += [f"{esc(line.name)} {money(line.cost_usd)} ({line.calls} calls)" for line in group]
    lines.append(f"\nValidator calls saved by the screener: <b>{report.validator_calls_saved}</b>")
    lines.append(f"Cache hits ($0): {report.cache_hits}")
    if report.failures:
        lines.append("Without a verdict: " + ", ".join(f"{name.replace('_', ' ')} {count}"
                                                        for name, count in report.failures))
    if report.unpriced_calls:
        lines.append(f"{report.unpriced_calls} calls of models without a price (add them to LLM_PRICES)")
    lines.append(f"\nBudget: today {money(today_usd)} of {format_usd(daily_budget_usd)} · this month "
                 f"{money(month_usd)} of {format_usd(monthly_budget_usd)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- /ai why


def render_why_head(review_id: str, symbol: str, signal_id: str | None, calls: Sequence[CallRecord]) -> str:
    lines = [f"<b>AI review {esc(review_id)}</b> · {esc(symbol)}" + (f" · card {esc(signal_id)}" if signal_id else "")]
    for call in calls:
        u = call.usage
        lines.append(f"{call.stage.value} {esc(call.model)}: {call.outcome.value} · {u.input_tokens} in "
                     f"({u.cached_tokens} cached) / {u.output_tokens} out ({u.reasoning_tokens} reasoning) · "
                     f"{money(call.cost_usd or 0.0)} · {seconds(call.latency_ms)} · {call.attempts} attempts")
    lines.append("The exact prompts and responses are in the attached file.")
    return "\n".join(lines)


def render_why_file(calls: Sequence[CallRecord], prompts: dict[str, StoredPrompt | None]) -> str:
    parts = []
    for call in calls:
        prompt = prompts.get(call.prompt_key)
        parts.append(f"===== {call.stage.value} · {call.model} · {call.outcome.value} =====")
        parts.append(prompt.text if prompt else "(prompt not stored)")
        parts.append("----- response -----")
        parts.append(call.response_text or f"(no response: {call.detail})")
        if call.detail and call.response_text:
            parts.append(f"----- note -----\n{call.detail}")
        parts.append("")
    return "\n".join(parts)
