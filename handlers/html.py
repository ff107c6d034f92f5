"""HTML helpers for Telegram's HTML subset: escaping, safe splitting, plain-text rendering."""

from __future__ import annotations

import html
import re

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024

_TAG = re.compile(r"<(/?)([a-zA-Z-]+)([^>]*)>")


def esc(value: object) -> str:
    """User or data text made safe to place in an HTML message."""
    return html.escape(str(value), quote=False)


def split_html(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` characters without breaking HTML.

    Splits prefer paragraph, then line, then word boundaries; tags open at a split point are
    closed at the end of one chunk and reopened at the start of the next. Never splits inside a
    tag or an ``&entity;``.
    """
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, full opening tag)
    rest = text
    while rest:
        prefix = "".join(tag for _, tag in open_tags)
        budget = limit - len(prefix) - _closing_len(open_tags) - 64  # room for tags opened inside
        if len(prefix) + len(rest) + _closing_len(open_tags) <= limit:
            piece = rest
            rest = ""
        else:
            cut = _cut_point(rest, max(budget, 1))
            piece, rest = rest[:cut], rest[cut:].lstrip("\n")
        body = prefix + piece
        open_tags = _open_after(piece, open_tags)
        chunks.append(body + "".join(f"</{name}>" for name, _ in reversed(open_tags)))
    return [c for c in chunks if _visible(c).strip()]


def _closing_len(tags: list[tuple[str, str]]) -> int:
    return sum(len(name) + 3 for name, _ in tags)


def _cut_point(text: str, budget: int) -> int:
    window = text[:budget]
    for sep in ("\n\n", "\n", " "):
        at = window.rfind(sep)
        if at > budget // 2:
            return _safe(text, at + len(sep))
    return _safe(text, budget)


def _safe(text: str, at: int) -> int:
    """Move a cut point back so it does not fall inside a tag or an entity."""
    lt, gt = text.rfind("<", 0, at), text.rfind(">", 0, at)
    if lt > gt:
        at = lt
    amp, semi = text.rfind("&", 0, at), text.rfind(";", 0, at)
    if amp > semi and at - amp < 10:
        at = amp
    return max(at, 1)


def _open_after(piece: str, open_tags: list[tuple[str, str]]) -> list[tuple[str, str]]:
    stack = list(open_tags)
    for match in _TAG.finditer(piece):
        closing, name = match.group(1) == "/", match.group(2).lower()
        if closing:
            for i in range(len(stack) - 1, -1, -1):
                if stack[i][0] == name:
                    del stack[i]
                    break
        else:
            stack.append((name, match.group(0)))
    return stack


def _visible(fragment: str) -> str:
    return _TAG.sub("", fragment)


def html_to_plain(text: str) -> str:
    """Render Telegram HTML as readable plain text (for the terminal console)."""
    text = re.sub(r'<a\s+href="([^"]*)"\s*>(.*?)</a>', lambda m: f"{m.group(2)} ({m.group(1)})"
                  if m.group(1) != m.group(2) else m.group(2), text, flags=re.S)
    text = re.sub(r"<br\s*/?>", "\n", text)
    text = _TAG.sub("", text)
    return html.unescape(text)
