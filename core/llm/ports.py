"""The AI stages' ports and the plain facts that cross them.

``Screener`` and ``Validator`` are the two roles a chat model plays (a fast cheap model that
screens every setup, a deep one that validates only the strong ones). Both send a ``Prompt`` and
return the model's raw ``ModelReply``; parsing, budgets, the cache and the ledger are core's
(``core.llm.review``). ``core.llm.openai_chat`` implements both on the official ``openai`` client;
the composition root picks it. Failures are raised as ``LlmFailure`` with a ``FailureKind``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Stage(StrEnum):
    SCREENER = "screener"
    VALIDATOR = "validator"


class Outcome(StrEnum):
    """How one stage call ended (a ledger row's ``outcome``)."""

    OK = "ok"  # a valid verdict
    CACHED = "cached"  # answered from the (model, prompt) cache: no HTTP call, $0
    ABSTAINED = "abstained"  # the model answered, but not with a valid verdict
    REFUSED = "refused"  # the model refused
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    REJECTED = "rejected"  # the API refused the request (bad request, auth, quota)
    BUDGET = "budget"  # skipped before the call: the budget would be exceeded

    @property
    def paid(self) -> bool:
        """Whether a call with this outcome may have cost money."""
        return self in (Outcome.OK, Outcome.ABSTAINED, Outcome.REFUSED)


class FailureKind(StrEnum):
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    REJECTED = "rejected"

    @property
    def outcome(self) -> Outcome:
        return Outcome(self.value)

    @property
    def retryable(self) -> bool:
        return self is not FailureKind.REJECTED


class LlmFailure(Exception):
    """A call that produced no answer; ``detail`` is one readable line without secrets."""

    def __init__(self, kind: FailureKind, detail: str, *, retry_after_s: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.retry_after_s = retry_after_s
        self.status = status


@dataclass(frozen=True, slots=True)
class Prompt:
    """What a stage sends: stable instructions (``system``) first, the market data (``user``) last."""

    stage: Stage
    system: str
    user: str
    schema_name: str
    schema: dict[str, Any] = field(hash=False, compare=False)
    max_output_tokens: int = 400

    def key(self, model: str) -> str:
        """The cache key of this prompt sent to ``model`` (everything that shapes the answer)."""
        body = json.dumps([model, self.system, self.user, self.schema_name, self.schema, self.max_output_tokens],
                          sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()

    @property
    def text(self) -> str:
        return f"[system]\n{self.system}\n\n[user]\n{self.user}"


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input_tokens: int = 0  # all input, cached included
    cached_tokens: int = 0  # the cached part of the input
    output_tokens: int = 0  # all output, reasoning included
    reasoning_tokens: int = 0  # the hidden reasoning part of the output


@dataclass(frozen=True, slots=True)
class ModelReply:
    text: str
    model: str  # as the server named it
    usage: TokenUsage | None = None
    refusal: str | None = None
    finish_reason: str = "stop"


class ChatStage(Protocol):
    """One chat model behind one stage."""

    model: str

    async def complete(self, prompt: Prompt, *, timeout_s: float) -> ModelReply:
        """The model's reply, or ``LlmFailure``; one HTTP attempt, never longer than ``timeout_s``."""
        ...


class Screener(ChatStage, Protocol):
    """The fast, cheap first opinion on every screened setup."""


class Validator(ChatStage, Protocol):
    """The deep second opinion, asked only when the screener calls a setup strong."""
