"""What the AI leaves behind: one ledger row per stage call, the prompts, one row per review,
and the ``AiLedger`` port that stores them (``db/ai.py`` over SQL).

The ledger doubles as the (model, prompt) -> response cache: a prompt key whose last call was
answered with a valid verdict is answered again from that row, at no cost and with no HTTP call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.llm.ports import Outcome, Prompt, Stage, TokenUsage


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One stage call: what it cost, how long it took, how it ended, and the exact response."""

    ts_ms: int
    review_id: str
    symbol: str
    stage: Stage
    model: str
    outcome: Outcome
    usage: TokenUsage
    latency_ms: float
    cost_usd: float | None  # None: the model has no price (never called then, see the budget)
    attempts: int  # HTTP attempts inside this one call (retries are not separate calls)
    prompt_key: str
    signal_id: str | None = None
    response_text: str = ""
    detail: str = ""  # one line: why it failed, abstained or was skipped
    id: int | None = None


@dataclass(frozen=True, slots=True)
class StoredPrompt:
    key: str
    model: str
    stage: Stage
    system: str
    user: str

    @property
    def text(self) -> str:
        return f"[system]\n{self.system}\n\n[user]\n{self.user}"


@dataclass(frozen=True, slots=True)
class ReviewRecord:
    """The verdicts a signal got, kept for the learning issue (how each verdict later performed)."""

    review_id: str
    ts_ms: int
    symbol: str
    signal_id: str | None
    screener_verdict: str | None  # STRONG | WEAK | NEUTRAL, None without a valid answer
    screener_confidence: float | None
    validator_decision: str | None  # EXECUTE | WAIT | REJECT, None when not run or no valid answer
    validator_skipped: str  # why the validator did not run ("" when it ran)
    screened_out: bool  # the screener's verdict made a validator call unnecessary (a saved call)
    cost_usd: float
    latency_ms: float
    summary_json: str = "{}"  # the verdicts' details (reasons, adjustments, notes)


class AiLedger(Protocol):
    """Durable AI records. Each call commits on its own (a crash never loses a paid call)."""

    async def add_records(self, calls: list[tuple[CallRecord, Prompt]], reviews: list[ReviewRecord]) -> None:
        """Call rows (each with its exact prompt, kept once per prompt key) and reviews, in one transaction."""
        ...

    async def cached_response(self, key: str) -> str | None:
        """The response of the newest valid call for ``key``, if any."""
        ...

    async def spent_usd(self, since_ts_ms: int) -> float: ...

    async def list_calls(self, since_ts_ms: int) -> list[CallRecord]: ...

    async def calls_for_review(self, review_id: str) -> list[CallRecord]: ...

    async def get_prompt(self, key: str) -> StoredPrompt | None: ...

    async def list_reviews(self, since_ts_ms: int) -> list[ReviewRecord]: ...

    async def reviews_for_signal(self, signal_id: str) -> list[ReviewRecord]: ...

    async def get_review(self, review_id: str) -> ReviewRecord | None: ...
