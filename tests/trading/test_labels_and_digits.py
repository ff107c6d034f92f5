"""Every trading reply on simulated data says so, and prints each price with its symbol's digits:
/positions, /close, /journal, /stats (with its equity chart) and /status, for a crypto, a gold, an FX
and a JPY symbol."""

from __future__ import annotations

import re

from aiogram.methods import SendMessage, SendPhoto

from tests.trading.conftest import button, latest_card

SYMBOLS = {"BTCUSD": 2, "XAUUSD": 2, "EURUSD": 5, "USDJPY": 3}  # the symbol map's price digits
BADGE = "<b>[SIMULATED]</b>"
PRICE_AFTER = re.compile(r"(?:@|→|SL|TP|at) (\d[\d,]*(?:\.\d+)?)")


def decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def assert_digits(line: str, symbol: str) -> None:
    prices = PRICE_AFTER.findall(line)
    assert prices, line
    assert all(decimals(p) == SYMBOLS[symbol] for p in prices), (symbol, line)


async def open_all(chat, runtime) -> dict[str, int]:
    await chat.send(f"/set risk.max_open_positions {len(SYMBOLS)}")
    tickets = {}
    for symbol in SYMBOLS:
        await chat.send(f"/analyse {symbol}")
        card = latest_card(chat)
        await chat.press(card, button(chat, card, "EXECUTE"))
        [position] = [p for p in await runtime.services.broker.positions() if p.symbol == symbol]
        tickets[symbol] = position.ticket
    return tickets


def sent(calls) -> list[str]:
    return [c.text for c in calls if isinstance(c, SendMessage)]


async def test_positions_close_journal_stats_and_status_label_and_digits(trade_chat, runtime):
    tickets = await open_all(trade_chat, runtime)

    [positions] = sent(await trade_chat.send("/positions"))
    head, *rows = positions.splitlines()
    assert BADGE in head
    for symbol, ticket in tickets.items():
        [row] = [r for r in rows if r.startswith(f"#{ticket} ")]
        assert_digits(row, symbol)
        assert len(PRICE_AFTER.findall(row)) == 4  # open, current, SL, TP

    [status] = sent(await trade_chat.send("/status"))
    assert BADGE in status.splitlines()[0] and "Open positions: 4" in status

    for symbol, ticket in tickets.items():
        [closed] = sent(await trade_chat.send(f"/close {ticket}"))
        assert closed.startswith(f"Closed #{ticket} {symbol}") and BADGE in closed
        assert_digits(closed, symbol)

    journal = sent(await trade_chat.send("/journal 60"))[0].splitlines()
    assert BADGE in journal[0]
    entries = journal[1:]
    assert entries and all(BADGE in line for line in entries), [e for e in entries if BADGE not in e]
    for symbol, ticket in tickets.items():
        [close] = [e for e in entries if f" {symbol} #{ticket} <i>close</i>" in e]
        assert_digits(close.split("closed by", 1)[1], symbol)

    calls = await trade_chat.send("/stats 7")
    [stats] = sent(calls)
    assert BADGE in stats.splitlines()[0] and "all: 4 trades" in stats
    [photo] = [c for c in calls if isinstance(c, SendPhoto)]
    assert photo.photo.data.startswith(b"\x89PNG")
