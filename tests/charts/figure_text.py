"""Small readers for chart outputs: PNG header size, every text drawn in a figure."""

from __future__ import annotations

import struct

from matplotlib.figure import Figure
from matplotlib.text import Text

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which always comes first."""
    assert png[:8] == PNG_MAGIC
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def texts(figure: Figure) -> list[str]:
    """Every non-empty text of the figure after a draw (titles, labels, tick labels, tags)."""
    figure.canvas.draw()
    return [t.get_text() for t in figure.findobj(Text) if t.get_text() and t.get_visible()]


def parse_usd(text: str) -> float:
    """``$1.25M`` -> 1_250_000.0 (inverse of the chart's compact money labels)."""
    number = text.strip().lstrip("$")
    scale = {"k": 1e3, "M": 1e6, "B": 1e9}.get(number[-1], 1.0)
    return float(number.rstrip("kMB")) * scale
