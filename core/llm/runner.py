"""One stage call, end to end: cache, budget, the HTTP attempts, parsing, the ledger row.

Order of checks: a valid cached answer for this (model, prompt) is used at $0 with no HTTP call;
otherwise the worst-case cost is reserved against the budgets (refused: no call); then attempts
run until the stage's deadline: a rate limit waits for retry-after only if that fits before the
deadline, 5xx and connection errors back off, a timeout ends the call. All attempts of a call
share one reservation and one ledger row, so a retried call is never counted twice. Every
outcome, failures included, goes to the ledger with the exact prompt and response (written just
after the verdict is returned, by ``LedgerWriter``; the cost counts against the budget at once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from core.events import AiBudgetReached, Event
from core.llm.budget import BudgetGuard, BudgetRefusal
from core.llm.ledger_writer import LedgerWriter
from core.llm.ports import ChatStage, FailureKind, LlmFailure, ModelReply, Outcome, Prompt, Stage, TokenUsage
from core.llm.prices import PriceTable, estimate_tokens
from core.llm.records import AiLedger, CallRecord
from core.llm.verdicts import Parsed
from core.ports import Clock

log = logging.getLogger("moneybot.ai")
Publish = Callable[[Event], None]
BACKOFF_S = 0.5
RECENT_ANSWERS = 512  # answers kept in memory (their rows may still be on the way to the ledger)


@dataclass(frozen=True, slots=True)
class StageResult:
    stage: Stage
    model: str
    outcome: Outcome
    verdict: object | None  # Screening | Validation
    note: str  # one line when there is no verdict (or why it was cached)
    cost_usd: float
    latency_ms: float

    @property
    def answered(self) -> bool:
        return self.verdict is not None


@dataclass(frozen=True, slots=True)
class CallContext:
    review_id: str
    symbol: str
    signal_id: str | None
    timeout_s: float
    retries: int


class StageRunner:
    def __init__(self, *, ledger: AiLedger, budget: BudgetGuard, prices: PriceTable, clock: Clock,
                 writer: LedgerWriter, publish: Publish | None = None) -> None:
        self._ledger = ledger
        self._writer = writer
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._budget = budget
        self._prices = prices
        self._clock = clock
        self._publish = publish or (lambda _event: None)

    async def run(self, port: ChatStage, prompt: Prompt, parse: Callable[[str], Parsed],
                  context: CallContext) -> StageResult:
        started = time.perf_counter()
        key = prompt.key(port.model)
        cached = await self._cached(key, parse)
        if cached is not None:
            text, parsed = cached
            return self._finish(port.model, prompt, context, key, started, Outcome.CACHED, parsed, 0,
                                      None, text, "answered from the cache ($0)")
        estimate = self._prices.worst_case_usd(port.model, estimate_tokens(prompt.system + prompt.user),
                                               prompt.max_output_tokens)
        if estimate is None:
            note = f"no price for model {port.model}: add it to LLM_PRICES (0/0/0 for a free local model)"
            return self._finish(port.model, prompt, context, key, started, Outcome.BUDGET, Parsed(None), 0,
                                      None, "", note)
        reservation = await self._budget.reserve(estimate)
        if isinstance(reservation, BudgetRefusal):
            self._alert(reservation, prompt.stage)
            return self._finish(port.model, prompt, context, key, started, Outcome.BUDGET, Parsed(None), 0,
                                      None, "", reservation.reason)
        try:
            return await self._call(port, prompt, parse, context, key, started)
        finally:
            self._budget.release(reservation)

    async def _call(self, port: ChatStage, prompt: Prompt, parse: Callable[[str], Parsed], context: CallContext,
                    key: str, started: float) -> StageResult:
        try:
            reply, attempts = await self._attempts(port, prompt, context)
        except _Failed as failed:
            e = failed.error
            return self._finish(port.model, prompt, context, key, started, e.kind.outcome, Parsed(None),
                                      failed.attempts, None, "", _failure_note(e))
        if reply.refusal:
            return self._finish(port.model, prompt, context, key, started, Outcome.REFUSED, Parsed(None),
                                      attempts, reply.usage, reply.refusal, f"refused: {reply.refusal}")
        parsed = parse(reply.text)
        if parsed.value is None and reply.finish_reason == "length":
            parsed = Parsed(None, f"the answer was cut at {prompt.max_output_tokens} output tokens")
        outcome = Outcome.OK if parsed.value is not None else Outcome.ABSTAINED
        return self._finish(port.model, prompt, context, key, started, outcome, parsed, attempts, reply.usage,
                                  reply.text, parsed.problem)

    async def _attempts(self, port: ChatStage, prompt: Prompt, context: CallContext) -> tuple[ModelReply, int]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + context.timeout_s
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise LlmFailure(FailureKind.TIMEOUT, f"no answer within {context.timeout_s:g}s")
                try:
                    async with asyncio.timeout(remaining):
                        return await port.complete(prompt, timeout_s=remaining), attempt
                except TimeoutError:
                    raise LlmFailure(FailureKind.TIMEOUT, f"no answer within {context.timeout_s:g}s") from None
            except LlmFailure as e:
                wait_s = self._retry_wait(e, attempt, context, deadline - loop.time())
                if wait_s is None:
                    raise _Failed(e, attempt) from None
                log.info("%s %s attempt %d failed (%s); retrying in %.2fs", prompt.stage, port.model, attempt,
                         e.detail, wait_s)
                await asyncio.sleep(wait_s)

    @staticmethod
    def _retry_wait(e: LlmFailure, attempt: int, context: CallContext, remaining_s: float) -> float | None:
        if not e.kind.retryable or e.kind is FailureKind.TIMEOUT or attempt > context.retries:
            return None
        wait_s = e.retry_after_s if e.retry_after_s is not None else BACKOFF_S * 2 ** (attempt - 1)
        if wait_s >= remaining_s:
            if e.retry_after_s is not None:
                e.detail += f"; retry-after {e.retry_after_s:g}s is past the {context.timeout_s:g}s stage timeout"
            return None
        return wait_s

    async def _cached(self, key: str, parse: Callable[[str], Parsed]) -> tuple[str, Parsed] | None:
        try:
            text = self._recent.get(key) or await self._ledger.cached_response(key)
        except Exception as e:  # noqa: BLE001 - a cache miss, not a failure
            log.warning("AI cache lookup failed: %s", e)
            return None
        if text is None:
            return None
        parsed = parse(text)
        return (text, parsed) if parsed.value is not None else None

    def _finish(self, model: str, prompt: Prompt, context: CallContext, key: str, started: float,
                      outcome: Outcome, parsed: Parsed, attempts: int, usage: TokenUsage | None, response: str,
                      note: str) -> StageResult:
        """Count the cost, remember a valid answer, queue the ledger row, and return the result."""
        latency_ms = (time.perf_counter() - started) * 1000
        cost = 0.0 if outcome is Outcome.CACHED else self._prices.cost_usd(model, usage)
        record = CallRecord(ts_ms=self._clock.now_ms(), review_id=context.review_id, symbol=context.symbol,
                            stage=prompt.stage, model=model, outcome=outcome, usage=usage or TokenUsage(),
                            latency_ms=round(latency_ms, 1), cost_usd=cost, attempts=attempts, prompt_key=key,
                            signal_id=context.signal_id, response_text=response, detail=note)
        self._budget.record(record.ts_ms, cost or 0.0)
        if outcome is Outcome.OK:
            self._remember(key, response)

        self._writer.add_call(record, prompt)
        return StageResult(prompt.stage, model, outcome, parsed.value, note, cost or 0.0, latency_ms)

    def _remember(self, key: str, response: str) -> None:
        self._recent[key] = response
        self._recent.move_to_end(key)
        while len(self._recent) > RECENT_ANSWERS:
            self._recent.popitem(last=False)

    def _alert(self, refusal: BudgetRefusal, stage: Stage) -> None:
        if refusal.first and refusal.period:
            self._publish(AiBudgetReached(ts_ms=self._clock.now_ms(), period=refusal.period,
                                          period_key=refusal.period_key, spent_usd=refusal.spent_usd,
                                          budget_usd=refusal.budget_usd, stage=stage.value))


class _Failed(Exception):
    def __init__(self, error: LlmFailure, attempts: int) -> None:
        super().__init__(error.detail)
        self.error = error
        self.attempts = attempts


def _failure_note(e: LlmFailure) -> str:
    what = {FailureKind.TIMEOUT: "timed out", FailureKind.CONNECTION: "could not connect",
            FailureKind.RATE_LIMITED: "rate limited", FailureKind.SERVER_ERROR: "server error",
            FailureKind.REJECTED: "request refused"}[e.kind]
    return f"{what}: {e.detail}"
