"""Fixtures for the approval flow: a chat whose cards always carry a plan."""

import pytest

from tests.conftest import LOOSE_SETTINGS, warm_market


@pytest.fixture
async def trade_chat(chat, runtime, clock):
    warm_market(runtime, clock)
    for setting in LOOSE_SETTINGS:  # any direction becomes a plan, so every card has buttons
        await chat.send(f"/set {setting}")
    return chat


def latest_card(chat) -> dict:
    return next(m for m in reversed(list(chat.session.messages.values())) if chat.session.buttons(m))


def button(chat, message: dict, label: str) -> str:
    return next(data for text, data in chat.session.buttons(message) if text == label)
