"""Where tests find the shared real-data recordings (never copied into the project)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BINANCE_DATA = SHARED / "data" / "binance"
TGEMU = SHARED / "tgemu"
