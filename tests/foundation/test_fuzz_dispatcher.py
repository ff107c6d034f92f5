"""Arbitrary text and callback data through the real dispatcher: never an unhandled error."""

import logging

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ADMIN_ID, STRANGER_ID

texts = st.one_of(
    st.text(max_size=300),
    st.from_regex(r"/[a-z_]{1,12}( [^\n]{0,40})?", fullmatch=True),
    st.sampled_from(["/set", "/set a", "/set risk.x 1e999", "/allow -1 admin", "/revoke x", "/settings zzz",
                     "Analyse", "analyse <b>", "/start@moneybot", "/help extra args"]),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, as_admin=st.booleans())
async def test_any_text_gets_a_reply_or_silence(chat, caplog, text, as_admin):
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        calls = await chat.send(text or " ", user_id=ADMIN_ID if as_admin else STRANGER_ID)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], text
    assert len(calls) <= 3


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.text(max_size=64), as_admin=st.booleans())
async def test_any_callback_data_is_handled(chat, caplog, data, as_admin):
    caplog.clear()
    message = {"message_id": 5, "date": 0, "chat": {"id": ADMIN_ID, "type": "private"}, "text": "card"}
    with caplog.at_level(logging.ERROR):
        await chat.press(message, data, user_id=ADMIN_ID if as_admin else STRANGER_ID)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], data
