"""The Screener/Validator adapter on the official ``openai`` client (Chat Completions).

Works with OpenAI and with OpenAI-compatible local servers (Ollama, vLLM, llama.cpp, LM Studio):
- Structured output: the JSON schema goes in ``response_format``; a server that rejects it (400
  naming response_format/json_schema) is asked again at once without it, and this adapter stops
  sending it to that server. The prompt asks for JSON in words either way, and core extracts it
  tolerantly, so servers that ignore the schema work too.
- One HTTP attempt per ``complete`` (the client's own retries are off): core decides retries
  within the stage's deadline, so a retry is never a second ledger row.
- OpenAI-only parameters (``max_completion_tokens``, ``prompt_cache_key``) go only to OpenAI;
  other servers get ``max_tokens``. ``temperature`` is never sent (GPT-5 models accept only 1).
Errors become ``LlmFailure`` with one readable line; the API key never appears in them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import openai
from openai import AsyncOpenAI

from core.llm.ports import FailureKind, LlmFailure, ModelReply, Prompt, TokenUsage

log = logging.getLogger("moneybot.ai.openai")
OPENAI_HOST = "api.openai.com"


def make_client(api_key: str, base_url: str = "") -> AsyncOpenAI:
    """One pooled client per process; retries are core's, timeouts are per call."""
    return AsyncOpenAI(api_key=api_key, base_url=base_url or None, max_retries=0, timeout=60.0)


class ServerTraits:
    """What one server was found to support; shared by the stages that use the same server."""

    def __init__(self) -> None:
        self.json_schema = True


class OpenAiChat:
    """One model on one client; implements both ``Screener`` and ``Validator``."""

    def __init__(self, client: AsyncOpenAI, model: str, traits: ServerTraits | None = None) -> None:
        self._client = client
        self.model = model
        self._official = OPENAI_HOST in str(client.base_url)
        self._traits = traits or ServerTraits()

    async def complete(self, prompt: Prompt, *, timeout_s: float) -> ModelReply:
        try:
            return await self._create(prompt, timeout_s, with_schema=self._traits.json_schema)
        except openai.BadRequestError as e:
            if self._traits.json_schema and _about_schema(e):
                log.info("the server rejects JSON schema output; asking for JSON in the prompt only")
                self._traits.json_schema = False
                try:
                    return await self._create(prompt, timeout_s, with_schema=False)
                except openai.OpenAIError as again:
                    raise _failure(again) from None
            raise _failure(e) from None
        except openai.OpenAIError as e:
            raise _failure(e) from None

    async def _create(self, prompt: Prompt, timeout_s: float, *, with_schema: bool) -> ModelReply:
        kwargs: dict[str, Any] = {
            "model": self.model, "timeout": timeout_s,
            "messages": [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}]}
        if self._official:
            kwargs["max_completion_tokens"] = prompt.max_output_tokens
            kwargs["prompt_cache_key"] = f"moneybot-{prompt.stage.value}"
        else:
            kwargs["max_tokens"] = prompt.max_output_tokens
        if with_schema:
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": prompt.schema_name, "strict": True, "schema": prompt.schema}}
        response = await self._client.chat.completions.create(**kwargs)
        if not response.choices:
            raise LlmFailure(FailureKind.SERVER_ERROR, "the server answered without a choice")
        choice = response.choices[0]
        message = choice.message
        return ModelReply(text=message.content or "", model=response.model or self.model,
                          usage=normalise_usage(response.usage), refusal=getattr(message, "refusal", None),
                          finish_reason=choice.finish_reason or "stop")


def normalise_usage(usage: Any) -> TokenUsage | None:
    """Token counts from Chat Completions or Responses usage; missing parts count as 0."""
    if usage is None:
        return None
    inp = getattr(usage, "prompt_tokens", None) or getattr(usage, "input_tokens", None) or 0
    out = getattr(usage, "completion_tokens", None) or getattr(usage, "output_tokens", None) or 0
    in_details = getattr(usage, "prompt_tokens_details", None) or getattr(usage, "input_tokens_details", None)
    out_details = (getattr(usage, "completion_tokens_details", None)
                   or getattr(usage, "output_tokens_details", None))
    cached = (getattr(in_details, "cached_tokens", None) or 0) if in_details else 0
    reasoning = (getattr(out_details, "reasoning_tokens", None) or 0) if out_details else 0
    return TokenUsage(int(inp), int(cached), int(out), int(reasoning))


def _about_schema(e: openai.BadRequestError) -> bool:
    text = f"{e.message} {e.body}".lower()
    return any(word in text for word in ("response_format", "json_schema", "structured output"))


def _failure(e: openai.OpenAIError) -> LlmFailure:
    if isinstance(e, openai.APITimeoutError):
        return LlmFailure(FailureKind.TIMEOUT, "the request timed out")
    if isinstance(e, openai.APIConnectionError):
        return LlmFailure(FailureKind.CONNECTION, "could not reach the AI server")
    if isinstance(e, openai.RateLimitError):
        if getattr(e, "code", None) == "insufficient_quota":
            return LlmFailure(FailureKind.REJECTED, "the account is out of quota", status=429)
        return LlmFailure(FailureKind.RATE_LIMITED, "HTTP 429", status=429,
                          retry_after_s=retry_after_s(e.response.headers))
    if isinstance(e, openai.APIStatusError):
        kind = FailureKind.SERVER_ERROR if e.status_code >= 500 else FailureKind.REJECTED
        if e.status_code in (408, 409):
            kind = FailureKind.SERVER_ERROR
        return LlmFailure(kind, f"HTTP {e.status_code}: {_short(_message(e))}", status=e.status_code,
                          retry_after_s=retry_after_s(e.response.headers))
    return LlmFailure(FailureKind.REJECTED, f"{type(e).__name__}: {_short(str(e))}")


def _message(e: openai.APIStatusError) -> str:
    """The server's own error message (the client prefixes its own wording)."""
    body = e.body
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        if isinstance(inner.get("message"), str):
            return inner["message"]
    return e.message


def retry_after_s(headers: Any) -> float | None:
    """``retry-after-ms`` or ``retry-after`` (seconds) as seconds, when present and sane."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name) if headers is not None else None
        if raw is None:
            continue
        try:
            value = float(raw) / divisor
        except ValueError:
            continue
        if 0 <= value < 3600:
            return value
    return None


_KEY = re.compile(r"\b(sk|key)-[A-Za-z0-9_\-*]{4,}")


def _short(text: str) -> str:
    """One line of an error message, with anything that looks like an API key blanked out."""
    return _KEY.sub("[key]", " ".join(str(text).split()))[:160]
