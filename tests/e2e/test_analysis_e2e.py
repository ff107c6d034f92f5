"""`moneybot run` over HTTP against the Telegram emulator on the simulated market: /analyse, /flow,
/sr and /depth each answer with their text and a real PNG; a bad symbol gets one clear line."""

import re
import time

import pytest

from tests.e2e.conftest import ADMIN

pytestmark = pytest.mark.e2e
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _ask(emu, text: str, count: int, timeout: float = 60) -> list[dict]:
    mark = emu.send_text(chat_id=ADMIN, user_id=ADMIN, text=text)
    return emu.wait_for_bot_messages(ADMIN, since=mark, timeout=timeout, count=count)


def _wait_for_a_price(emu, symbol: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        [reply] = _ask(emu, f"/price {symbol}", 1)
        if reply["text"].startswith(f"<b>{symbol}</b> "):
            return reply["text"]
        assert time.monotonic() < deadline, f"no {symbol} price within {timeout_s}s: {reply['text']}"
        time.sleep(0.5)


def _png(emu, message: dict) -> bytes:
    photo = message["photo"]
    file_id = (photo[-1] if isinstance(photo, list) else photo)["file_id"]
    return emu.download_file(file_id)


def test_analysis_commands_answer_with_text_and_charts(tgemu, moneybot):
    bot = moneybot()
    price_text = _wait_for_a_price(tgemu, "BTCUSD")
    assert "[SIMULATED]" in price_text

    card, chart = _ask(tgemu, "/analyse BTCUSD", 2)
    text = card["text"]
    assert text.startswith("<b>BTCUSD</b> ") and "<b>[SIMULATED]</b>" in text
    for part in ("<b>Zones</b> (nearest)", "RSI: 1h", "Order flow:", "<b>Why:</b> Signals net"):
        assert part in text
    assert re.search(r"^Price [\d,]+\.\d\d · \d\d:\d\d:\d\d UTC$", text, re.MULTILINE)
    assert _png(tgemu, chart)[:8] == PNG_MAGIC

    flow, depth = _ask(tgemu, "/flow BTCUSD", 2)
    assert flow["text"].startswith("<b>BTCUSD order flow</b>")
    assert "Book imbalance (top 10)" in flow["text"] and "30s pressure: buy $" in flow["text"]
    assert _png(tgemu, depth)[:8] == PNG_MAGIC

    zones, sr_chart = _ask(tgemu, "/sr EURUSD", 2)
    assert zones["text"].startswith("<b>EURUSD support / resistance</b>")
    price = float(re.search(r"▸ price <b>([\d.]+)</b>", zones["text"]).group(1))
    widths = [float(high) - float(low) for low, high in re.findall(r"^[SR] ([\d.]+)–([\d.]+) ", zones["text"],
                                                                     re.MULTILINE)]
    # a zone is a fraction of a day's range (~0.2 %), not 1.5 % of price covering the whole chart
    assert widths and max(widths) < 0.0075 * price
    assert _png(tgemu, sr_chart)[:8] == PNG_MAGIC

    [only_chart] = _ask(tgemu, "/depth BTCUSD", 1)
    assert _png(tgemu, only_chart)[:8] == PNG_MAGIC and "text" not in only_chart

    [bad] = _ask(tgemu, "/analyse NOPE", 1)
    assert bad["text"].startswith("Unknown symbol NOPE. Valid symbols: BTCUSD") and "\n" not in bad["text"]

    assert not tgemu.failed_calls(), tgemu.failed_calls()
    assert len(tgemu.calls("sendPhoto")) == 4
    assert bot.proc.poll() is None
