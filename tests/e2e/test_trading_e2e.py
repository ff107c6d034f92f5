"""The approval flow over HTTP against the Telegram emulator: `moneybot run` with the simulator
and the paper broker. analyse -> EXECUTE -> fill shown -> /positions; double press; viewer press;
REJECT; WAIT; expiry."""

import time

import pytest

from tests.conftest import LOOSE_SETTINGS
from tests.e2e.conftest import ADMIN

pytestmark = pytest.mark.e2e
VIEWER = 515151


def _ask(emu, text: str, user_id: int = ADMIN, count: int = 1, timeout: float = 30) -> list[dict]:
    mark = emu.send_text(chat_id=user_id, user_id=user_id, text=text)
    return emu.wait_for_bot_messages(user_id, since=mark, timeout=timeout, count=count)


def _ready(emu) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "s old" in _ask(emu, "/price BTCUSD")[0]["text"]:
            return
        time.sleep(0.5)
    raise AssertionError("the simulated feed never produced a BTCUSD price")


def _card(emu, executable: bool | None = True) -> dict:
    """A BTCUSD card; ``executable`` None: either (with a position open, a card in the same direction
    is watch only because of the correlation guard, one in the other direction is a hedge)."""
    card, _photo = _ask(emu, "/analyse BTCUSD", count=2)
    labels = [label for label, _ in _buttons(card)]
    if executable is None:
        executable = "EXECUTE" in labels
    assert labels == (["EXECUTE", "WAIT", "REJECT"] if executable else ["WAIT", "REJECT"]), card
    assert executable or ("Watch only" in card["text"] and "correlat" in card["text"]), card["text"]
    return card


def _buttons(message: dict) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data")) for row in rows for b in row]


def _press(emu, message: dict, label: str, user_id: int = ADMIN, check: bool = True) -> dict:
    data = dict(_buttons(message))[label]
    seq = emu.last_call_seq()
    emu.press_button(message["chat"]["id"], user_id, message, data, check=check)  # e.g. a viewer in a group
    call = emu.wait_for_call("answerCallbackQuery", since=seq, timeout=30)
    return call["params"]


def test_execute_double_press_viewer_reject_wait_and_expiry(tgemu, moneybot):
    moneybot()
    _ready(tgemu)
    for setting in LOOSE_SETTINGS:
        assert "→" in _ask(tgemu, f"/set {setting}")[0]["text"]

    card = _card(tgemu)
    _ask(tgemu, f"/allow {VIEWER} viewer")
    refused = _press(tgemu, card, "EXECUTE", user_id=VIEWER)
    assert "trader role" in refused["text"] and refused.get("show_alert") in (True, "true")

    answer = _press(tgemu, card, "EXECUTE")
    assert answer["text"].startswith("Placed: ticket")
    edited = tgemu.wait_for_edit(ADMIN, card, timeout=30)
    assert "EXECUTED: ticket" in edited["text"] and not _buttons(edited)
    again = _press(tgemu, card, "EXECUTE", check=False)  # the old button, replayed
    assert "Already executed" in again["text"]
    positions = _ask(tgemu, "/positions")[0]["text"]
    assert positions.count("<b>BTCUSD</b>") == 1

    rejected = _card(tgemu, None)
    _press(tgemu, rejected, "REJECT")
    assert "REJECTED by" in tgemu.wait_for_edit(ADMIN, rejected, timeout=30)["text"]

    waiting = _card(tgemu, None)
    _press(tgemu, waiting, "WAIT")
    assert "WAIT: I will re-check" in tgemu.wait_for_edit(ADMIN, waiting, timeout=30)["text"]

    assert "→" in _ask(tgemu, "/set approvals.ttl_s 10")[0]["text"]
    expiring = _card(tgemu, None)
    edited = tgemu.wait_for_message(ADMIN, lambda m: m["message_id"] == expiring["message_id"]
                                    and "EXPIRED" in (m.get("text") or ""), timeout=40)
    assert not _buttons(edited)
    late = _press(tgemu, expiring, "REJECT", check=False)
    assert "expired" in late["text"]
    assert _ask(tgemu, "/positions")[0]["text"].count("<b>BTCUSD</b>") == 1
    assert not [c for c in tgemu.failed_calls() if c["method"] != "getUpdates"], tgemu.failed_calls()
