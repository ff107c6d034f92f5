"""The AI screening stage as a use case: screen every setup cheaply, validate only the strong ones.

``AiReviewer.review(analysis, ...)`` builds the token-lean summary, asks the screener, and (only
for STRONG at or above ``ai.validator_threshold``) the validator, whose suggested levels are
checked against the plan's rules. It stores the review for the learning issue and publishes
``SignalScreened``. It never raises for an AI problem: every failure is a one-line note.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, replace

from core.analysis.synthesis import Analysis
from core.events import SignalScreened
from core.llm.adjust import check_adjustments
from core.llm.ledger_writer import LedgerWriter
from core.llm.ports import Screener, Validator
from core.llm.prompts import screener_prompt, validator_prompt
from core.llm.records import ReviewRecord
from core.llm.runner import CallContext, Publish, StageResult, StageRunner
from core.llm.summary import SummaryContext, market_summary
from core.llm.verdicts import Screening, ScreenVerdict, Validation, parse_screening, parse_validation_answer
from core.ports import Clock
from core.tunables import Tunable, TunableValues

TUNABLES: tuple[Tunable, ...] = (
    Tunable("ai.validator_threshold", int, 70, "screener confidence (STRONG only) that calls the validator",
            0, 100),
    Tunable("ai.screener_timeout_s", float, 20.0, "the screener's whole call, retries included", 1.0, 600.0,
            unit="s"),
    Tunable("ai.validator_timeout_s", float, 90.0, "the validator's whole call, retries included", 1.0, 900.0,
            unit="s"),
    Tunable("ai.screener_retries", int, 1, "retries after a rate limit, 5xx or lost connection", 0, 5),
    Tunable("ai.validator_retries", int, 1, "retries after a rate limit, 5xx or lost connection", 0, 5),
    Tunable("ai.screener_max_tokens", int, 300, "most output tokens the screener may use", 50, 8_000),
    Tunable("ai.validator_max_tokens", int, 3_000, "most output tokens the validator may use (reasoning "
            "included)", 100, 64_000),
    Tunable("ai.auto_screen", str, "", "symbols whose issued signals the AI screens by itself "
            "(comma-separated, 'all', or empty for none)"),
)


@dataclass(frozen=True, slots=True)
class AiReview:
    review_id: str
    symbol: str
    signal_id: str | None
    ts_ms: int
    screener: StageResult | None = None
    validator: StageResult | None = None
    validator_skipped: str = ""  # why the validator did not run
    screened_out: bool = False  # the screener's verdict saved a validator call
    note: str = ""  # why nothing ran (no plan to check)

    @property
    def screening(self) -> Screening | None:
        verdict = self.screener.verdict if self.screener else None
        return verdict if isinstance(verdict, Screening) else None

    @property
    def validation(self) -> Validation | None:
        verdict = self.validator.verdict if self.validator else None
        return verdict if isinstance(verdict, Validation) else None

    @property
    def cost_usd(self) -> float:
        return sum(s.cost_usd for s in (self.screener, self.validator) if s is not None)

    @property
    def latency_ms(self) -> float:
        return sum(s.latency_ms for s in (self.screener, self.validator) if s is not None)


def auto_screens(tunables: TunableValues, symbol: str) -> bool:
    """Whether ``ai.auto_screen`` lists ``symbol`` (or says 'all')."""
    listed = {s.strip().upper() for s in str(tunables["ai.auto_screen"]).split(",") if s.strip()}
    return "ALL" in listed or symbol.upper() in listed


class AiReviewer:
    def __init__(self, *, screener: Screener, validator: Validator, runner: StageRunner, writer: LedgerWriter, tunables: TunableValues, clock: Clock, publish: Publish | None = None) -> None:
        self.screener = screener
        self._writer = writer
        self.validator = validator
        self._runner = runner
        self._tunables = tunables
        self._clock = clock
        self._publish = publish or (lambda _event: None)

    async def review(self, analysis: Analysis, context: SummaryContext, *, signal_id: str | None = None,
                     chat_id: int | None = None, message_id: int | None = None) -> AiReview:
        review_id = secrets.token_hex(4)
        start = AiReview(review_id, analysis.symbol, signal_id, self._clock.now_ms())
        if analysis.plan is None:
            return replace(start, note="no trade plan to check: " + (analysis.rejection or "no direction"))
        review = await self._screen_then_validate(start, analysis, context)
        self._store(review)
        self._publish(SignalScreened(
            ts_ms=self._clock.now_ms(), review_id=review_id, symbol=analysis.symbol, signal_id=signal_id,
            screener_verdict=review.screening.verdict.value if review.screening else None,
            validator_decision=review.validation.decision.value if review.validation else None,
            cost_usd=review.cost_usd, latency_ms=review.latency_ms, review=review, chat_id=chat_id,
            message_id=message_id))
        return review

    async def _screen_then_validate(self, review: AiReview, analysis: Analysis, context: SummaryContext) -> AiReview:
        t = self._tunables
        summary = market_summary(analysis, context)
        screener = await self._runner.run(
            self.screener, screener_prompt(summary, max_output_tokens=t["ai.screener_max_tokens"]), parse_screening,
            self._context(review, "screener"))
        review = replace(review, screener=screener)
        screening = review.screening
        threshold = t["ai.validator_threshold"]
        if screening is None:
            return replace(review, validator_skipped="no screener verdict")
        if screening.verdict is not ScreenVerdict.STRONG:
            return replace(review, validator_skipped=f"screener said {screening.verdict.value}", screened_out=True)
        if screening.confidence < threshold:
            return replace(review, validator_skipped=f"screener confidence {screening.confidence:.0f} is under "
                                                     f"{threshold}", screened_out=True)
        validator = await self._runner.run(
            self.validator, validator_prompt(summary, screening, max_output_tokens=t["ai.validator_max_tokens"]),
            parse_validation_answer, self._context(review, "validator"))
        if isinstance(validator.verdict, Validation):
            checked = check_adjustments(validator.verdict, analysis.plan, min_risk_reward=t["signal.min_risk_reward"],
                                        digits=context.price_digits)
            validator = replace(validator, verdict=checked)
        return replace(review, validator=validator)

    def _context(self, review: AiReview, stage: str) -> CallContext:
        return CallContext(review.review_id, review.symbol, review.signal_id,
                           timeout_s=self._tunables[f"ai.{stage}_timeout_s"],
                           retries=self._tunables[f"ai.{stage}_retries"])

    async def settle(self) -> None:
        """Wait until every ledger row and review of the calls so far is written."""
        await self._writer.flush()

    def _store(self, review: AiReview) -> None:
        screening, validation = review.screening, review.validation
        details = {"screening": asdict(screening) if screening else None,
                   "validation": asdict(validation) if validation else None,
                   "notes": [s.note for s in (review.screener, review.validator) if s is not None and s.note]}
        record = ReviewRecord(
            review_id=review.review_id, ts_ms=review.ts_ms, symbol=review.symbol, signal_id=review.signal_id,
            screener_verdict=screening.verdict.value if screening else None,
            screener_confidence=screening.confidence if screening else None,
            validator_decision=validation.decision.value if validation else None,
            validator_skipped=review.validator_skipped, screened_out=review.screened_out,
            cost_usd=review.cost_usd, latency_ms=round(review.latency_ms, 1),
            summary_json=json.dumps(details, default=str))
        self._writer.add_review(record)
