"""Getting one JSON object out of a model's text, whatever the server did with it.

Servers with JSON-schema support return the object alone; many local ones wrap it in a Markdown
fence, put reasoning before it (``<think>...</think>``, "Reasoning: ..."), or add a sentence after
it. ``extract_json`` strips thinking blocks, then tries: the whole text, each fenced block, and the
first balanced ``{...}`` object (string-aware, so braces inside strings do not count).
"""

from __future__ import annotations

import json
import re
from typing import Any

_THINKING = re.compile(r"<(think|thinking|reasoning|reflection)>.*?</\1>", re.IGNORECASE | re.DOTALL)
_UNCLOSED_THINKING = re.compile(r"^\s*<(think|thinking|reasoning)>.*?(?=\{)", re.IGNORECASE | re.DOTALL)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def strip_thinking(text: str) -> str:
    """The text without reasoning blocks (closed ones, and an unclosed one before the first brace)."""
    text = _THINKING.sub("", text)
    return _UNCLOSED_THINKING.sub("", text)


def extract_json(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text``, or None when there is none."""
    if not text:
        return None
    cleaned = strip_thinking(text).strip()
    for candidate in (cleaned, *_FENCE.findall(cleaned)):
        found = _load_object(candidate.strip())
        if found is not None:
            return found
    start = cleaned.find("{")
    while start != -1:
        end = _balanced_end(cleaned, start)
        if end is None:
            return None
        found = _load_object(cleaned[start:end])
        if found is not None:
            return found
        start = cleaned.find("{", start + 1)
    return None


def _load_object(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _balanced_end(text: str, start: int) -> int | None:
    """The index after the ``}`` closing the object opened at ``start`` (strings respected)."""
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None
