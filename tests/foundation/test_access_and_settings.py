"""Handlers through the real dispatcher: roles, refusals, /allow, /revoke, /set, /settings."""

from aiogram.methods import AnswerCallbackQuery, SendMessage, SetMyCommands

from bot.foundation import open_foundation
from bot.telegram import SplitLongMessages, set_command_menus  # noqa: F401
from db.settings import list_setting_changes
from tests.conftest import ADMIN_ID, STRANGER_ID


async def test_unknown_user_is_refused_with_their_id(chat):
    [reply] = await chat.send("/start", user_id=STRANGER_ID)
    assert isinstance(reply, SendMessage)
    assert f"<code>{STRANGER_ID}</code>" in reply.text and "/allow" in reply.text


async def test_unknown_user_pressing_a_button_gets_an_alert(chat):
    [answer] = await chat.press({"message_id": 1, "date": 0, "chat": {"id": STRANGER_ID, "type": "private"}},
                                "anything", user_id=STRANGER_ID)
    assert isinstance(answer, AnswerCallbackQuery) and answer.show_alert
    assert str(STRANGER_ID) in answer.text


async def test_allow_lets_a_user_in_and_revoke_takes_them_out(chat):
    await chat.send(f"/allow {STRANGER_ID} viewer")
    [welcome] = await chat.send("/start", user_id=STRANGER_ID)
    assert "you are <b>viewer</b>" in welcome.text
    assert "/allow" not in welcome.text  # a viewer is not shown admin commands
    [users] = await chat.send("/users")
    assert f"<code>{STRANGER_ID}</code> - viewer" in users.text
    await chat.send(f"/revoke {STRANGER_ID}")
    [refused] = await chat.send("/help", user_id=STRANGER_ID)
    assert "Your Telegram id is" in refused.text


async def test_viewer_cannot_use_admin_commands(chat):
    await chat.send(f"/allow {STRANGER_ID} viewer")
    [reply] = await chat.send("/set bot.reply_chart false", user_id=STRANGER_ID)
    assert "needs the <b>admin</b> role" in reply.text


async def test_bad_allow_usage_is_explained(chat):
    [reply] = await chat.send("/allow 12 emperor")
    assert "Usage: /allow" in reply.text and "viewer, trader, admin" in reply.text


async def test_set_validates_persists_and_audits(chat, runtime, settings, clock):
    [ok] = await chat.send("/set bot.reply_chart off")
    assert "true → <b>false</b>" in ok.text
    [unknown] = await chat.send("/set bot.nope 3")
    assert "Not changed: unknown setting" in unknown.text and "Groups:" in unknown.text
    [bad] = await chat.send("/set bot.reply_chart maybe")
    assert "must be true or false" in bad.text
    listing = "".join(m.text for m in await chat.send("/settings"))  # long: split into several messages
    assert "<code>bot.reply_chart</code> = <b>false</b>" in listing
    [one_group] = await chat.send("/settings bot")
    assert "bot.reply_chart" in one_group.text and "sr." not in one_group.text
    async with runtime.sessions() as session:
        [change] = await list_setting_changes(session)
    assert (change.name, change.old_value, change.new_value, change.changed_by) == (
        "bot.reply_chart", "true", "false", ADMIN_ID)
    # a restart keeps the value
    again = await open_foundation(settings, clock=clock)
    try:
        assert again.tunables["bot.reply_chart"] is False
    finally:
        await again.close()


async def test_user_text_is_escaped(chat):
    [reply] = await chat.send("/bogus<b>")
    assert "/bogus&lt;b&gt;" in reply.text


async def test_long_replies_are_split_without_breaking_html(chat):
    text = "<b>Report</b>\n" + "\n".join(f"<i>row {i}</i> {'x' * 60}" for i in range(200))
    mark = chat.session.mark()
    await chat.bot.send_message(ADMIN_ID, text)
    parts = [c.text for c in chat.session.since(mark)]
    assert len(parts) >= 3 and all(len(p) <= 4096 for p in parts)
    assert all(p.count("<i>") == p.count("</i>") for p in parts)
    assert "".join(parts).count("row 199") == 1


async def test_command_menus_per_role(chat, runtime):
    await chat.send(f"/allow {STRANGER_ID} trader")
    mark = chat.session.mark()
    await set_command_menus(chat.bot, runtime.users, chat.dp["enabled_commands"])
    menus = [c for c in chat.session.since(mark) if isinstance(c, SetMyCommands)]
    default = {c.command for c in menus[0].commands}
    assert "help" in default and "set" not in default
    admin_menu = [m for m in menus if getattr(m.scope, "chat_id", None) == ADMIN_ID][0]
    assert "set" in {c.command for c in admin_menu.commands}


async def test_free_text_for_a_feature_that_is_off_says_how_to_turn_it_on(chat):
    [reply] = await chat.send("use AI on EURUSD")
    assert reply.text.startswith("AI analysis is off: set OPENAI_API_KEY")
