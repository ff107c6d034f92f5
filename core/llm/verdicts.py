"""The two verdicts: their JSON schemas (sent to servers that support them), their pydantic
validation (always), and the frozen facts the rest of MoneyBot sees.

Anything that fails validation is an abstention with a reason, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from core.llm.extract import extract_json

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=240)]


class ScreenVerdict(StrEnum):
    STRONG = "STRONG"
    WEAK = "WEAK"
    NEUTRAL = "NEUTRAL"


class ValidatorDecision(StrEnum):
    EXECUTE = "EXECUTE"
    WAIT = "WAIT"
    REJECT = "REJECT"


class _ScreenerAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Literal["STRONG", "WEAK", "NEUTRAL"]
    confidence: float = Field(ge=0, le=100)
    reasons: list[ShortText] = Field(min_length=1, max_length=3)


class _ValidatorAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["EXECUTE", "WAIT", "REJECT"]
    reasoning: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=900)]
    invalidation_price: float | None
    risks: list[ShortText] = Field(max_length=4)
    entry: float | None
    stop: float | None
    target: float | None


def _strict(properties: dict) -> dict:
    """An object schema in OpenAI's strict form: every property required, nothing else allowed."""
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


_NUMBER_OR_NULL = {"type": ["number", "null"]}
SCREENER_SCHEMA = _strict({
    "verdict": {"type": "string", "enum": ["STRONG", "WEAK", "NEUTRAL"]},
    "confidence": {"type": "number", "description": "0-100"},
    "reasons": {"type": "array", "items": {"type": "string"}, "description": "2-3 short reasons"},
})
VALIDATOR_SCHEMA = _strict({
    "decision": {"type": "string", "enum": ["EXECUTE", "WAIT", "REJECT"]},
    "reasoning": {"type": "string"},
    "invalidation_price": _NUMBER_OR_NULL,
    "risks": {"type": "array", "items": {"type": "string"}},
    "entry": _NUMBER_OR_NULL,
    "stop": _NUMBER_OR_NULL,
    "target": _NUMBER_OR_NULL,
})


@dataclass(frozen=True, slots=True)
class Screening:
    verdict: ScreenVerdict
    confidence: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Adjustments:
    entry: float | None = None
    stop: float | None = None
    target: float | None = None

    @property
    def any(self) -> bool:
        return self.entry is not None or self.stop is not None or self.target is not None


@dataclass(frozen=True, slots=True)
class Validation:
    decision: ValidatorDecision
    reasoning: str
    invalidation_price: float | None
    risks: tuple[str, ...]
    proposed: Adjustments  # what the model suggested
    accepted: Adjustments  # what survived the plan's rules
    notes: tuple[str, ...] = ()  # why a suggestion was dropped


@dataclass(frozen=True, slots=True)
class Parsed:
    """A verdict, or why there is none (``problem``)."""

    value: object | None
    problem: str = ""


def parse_screening(text: str) -> Parsed:
    answer = _validate(text, _ScreenerAnswer)
    if isinstance(answer, str):
        return Parsed(None, answer)
    return Parsed(Screening(ScreenVerdict(answer.verdict), round(answer.confidence, 1), tuple(answer.reasons)))


def parse_validation_answer(text: str) -> Parsed:
    """The validator's raw answer (adjustments not yet checked; see ``core.llm.adjust``)."""
    answer = _validate(text, _ValidatorAnswer)
    if isinstance(answer, str):
        return Parsed(None, answer)
    proposed = Adjustments(answer.entry, answer.stop, answer.target)
    return Parsed(Validation(ValidatorDecision(answer.decision), answer.reasoning, answer.invalidation_price,
                             tuple(answer.risks), proposed, Adjustments()))


def _validate(text: str, model: type[BaseModel]):
    raw = extract_json(text)
    if raw is None:
        return "the answer held no JSON object"
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "answer"
        return f"the answer broke the schema ({where}: {first.get('msg', 'invalid')})"
