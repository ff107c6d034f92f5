"""The terminal console: the real dispatcher fed by typed lines, the bot's replies printed.

``ConsoleSession`` is an aiogram session that answers Bot API methods in-process (messages are
kept so buttons can be pressed and edits shown); ``run_console`` reads lines and turns them into
``Update``s. Every handler runs exactly as it does in Telegram.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, Update

from handlers.html import html_to_plain

log = logging.getLogger("moneybot.console")
BOT_USER = {"id": 1000, "is_bot": True, "first_name": "MoneyBot", "username": "moneybot_console"}


class ConsoleSession(BaseSession):
    """Answers Bot API calls locally and prints what a user would see."""

    def __init__(self, out: TextIO, files_dir: Path) -> None:
        super().__init__()
        self.out = out
        self.files_dir = files_dir
        self.messages: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    async def close(self) -> None:
        return None

    async def stream_content(self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
                             chunk_size: int = 65536, raise_for_status: bool = True):  # pragma: no cover
        raise NotImplementedError("the console has no file server")
        yield b""

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
                           ) -> TelegramType:
        result = await self._answer(bot, method)
        response = self.check_response(bot=bot, method=method, status_code=200,
                                       content=self.json_dumps({"ok": True, "result": result}))
        return response.result

    async def _answer(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return {**BOT_USER, "id": bot.id}
        if isinstance(method, SendMessage):
            msg = self._store(method.chat_id, text=method.text, markup=method.reply_markup)
            self._print(msg)
            return msg
        if isinstance(method, SendPhoto | SendDocument):
            return await self._send_file(bot, method)
        if isinstance(method, EditMessageText | EditMessageCaption | EditMessageReplyMarkup):
            return self._edit(method)
        if isinstance(method, AnswerCallbackQuery):
            if method.text:
                self._write(f"  ({'alert' if method.show_alert else 'notice'}) {method.text}")
            return True
        if isinstance(method, DeleteMessage):
            self.messages.pop(method.message_id, None)
            return True
        return True  # setMyCommands, sendChatAction, deleteWebhook, ...: nothing to show

    def _store(self, chat_id: int | str, *, text: str | None = None, caption: str | None = None,
               markup: Any = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        message_id = next(self._ids)
        msg: dict[str, Any] = {"message_id": message_id, "date": int(time.time()),
                               "chat": {"id": int(chat_id), "type": "private"}, "from": BOT_USER}
        if text is not None:
            msg["text"] = text
        if caption is not None:
            msg["caption"] = caption
        if markup is not None and hasattr(markup, "inline_keyboard"):
            msg["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        msg.update(extra or {})
        self.messages[message_id] = msg
        return msg

    async def _send_file(self, bot: Bot, method: SendPhoto | SendDocument) -> dict[str, Any]:
        media = method.photo if isinstance(method, SendPhoto) else method.document
        kind = "photo" if isinstance(method, SendPhoto) else "document"
        data = b""
        if isinstance(media, InputFile):
            data = b"".join([chunk async for chunk in media.read(bot)])
        self.files_dir.mkdir(parents=True, exist_ok=True)
        name = getattr(media, "filename", None) or f"{kind}.png"
        path = self.files_dir / f"{int(time.time() * 1000)}-{next(self._ids)}-{Path(name).name}"
        path.write_bytes(data)
        file_ref = {"file_id": str(path), "file_unique_id": path.name}
        extra = ({"photo": [{**file_ref, "width": 1, "height": 1}]} if kind == "photo"
                 else {"document": {**file_ref, "file_name": path.name}})
        msg = self._store(method.chat_id, caption=method.caption, markup=method.reply_markup, extra=extra)
        self._write(f"[{kind}] {path}")
        self._print(msg)
        return msg

    def _edit(self, method: EditMessageText | EditMessageCaption | EditMessageReplyMarkup) -> Any:
        msg = self.messages.get(method.message_id or -1)
        if msg is None:
            return True
        if isinstance(method, EditMessageText):
            msg["text"] = method.text
        elif isinstance(method, EditMessageCaption):
            msg["caption"] = method.caption
        markup = method.reply_markup
        if markup is not None and hasattr(markup, "inline_keyboard"):
            msg["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        else:
            msg.pop("reply_markup", None)  # Bot API: an edit without markup removes the keyboard
        msg["edit_date"] = int(time.time())
        self._write(f"(message #{msg['message_id']} updated)")
        self._print(msg)
        return msg

    def _print(self, msg: dict[str, Any]) -> None:
        body = msg.get("text") if "text" in msg else msg.get("caption")
        if body:
            self._write(html_to_plain(body))
        buttons = self.buttons(msg)
        if buttons:
            self._write("  " + "  ".join(f"[{i}] {label}" for i, (label, _) in enumerate(buttons, 1)))
        self._write("")

    def _write(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    @staticmethod
    def buttons(msg: dict[str, Any]) -> list[tuple[str, str]]:
        rows = msg.get("reply_markup", {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row if b.get("callback_data")]

    def latest_with_buttons(self) -> dict[str, Any] | None:
        for message_id in sorted(self.messages, reverse=True):
            if self.buttons(self.messages[message_id]):
                return self.messages[message_id]
        return None


class ConsoleUser:
    """Turns typed lines into Updates from one user in one private chat."""

    def __init__(self, user_id: int, first_name: str = "Console") -> None:
        self.user = {"id": user_id, "is_bot": False, "first_name": first_name}
        self.chat = {"id": user_id, "type": "private", "first_name": first_name}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1_000_000)

    def text_update(self, text: str) -> Update:
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": self.chat,
                   "from": self.user, "text": text}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return Update.model_validate({"update_id": next(self._update_ids), "message": message})

    def press_update(self, message: dict[str, Any], data: str) -> Update:
        query = {"id": str(next(self._update_ids)), "from": self.user, "chat_instance": str(self.chat["id"]),
                 "message": message, "data": data}
        return Update.model_validate({"update_id": next(self._update_ids), "callback_query": query})


def pick_button(session: ConsoleSession, choice: str) -> tuple[dict[str, Any], str] | str:
    """``!N`` or ``!LABEL``: the latest message with buttons and the chosen callback data."""
    message = session.latest_with_buttons()
    if message is None:
        return "No message with buttons to press."
    buttons = session.buttons(message)
    if choice.isdigit() and 1 <= int(choice) <= len(buttons):
        return message, buttons[int(choice) - 1][1]
    for label, data in buttons:
        if label.strip().lower() == choice.strip().lower() or label.lower().startswith(choice.lower()):
            return message, data
    options = ", ".join(f"!{i} {label}" for i, (label, _) in enumerate(buttons, 1))
    return f"No button {choice!r}; choose one of: {options}"


async def run_console(dp: Dispatcher, bot: Bot, session: ConsoleSession, *, user_id: int,
                      stdin: TextIO | None = None, linger_s: float = 0.0, banner: str = "") -> int:
    """Read lines until end of input; each line is handled to completion before the next."""
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    user = ConsoleUser(user_id)
    if banner:
        session._write(banner)
    while True:
        if interactive:
            session.out.write("you> ")
            session.out.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        line = line.strip()
        if not line:
            continue
        if line in ("!quit", "!exit"):
            break
        if line.startswith("!"):
            picked = pick_button(session, line[1:])
            if isinstance(picked, str):
                session._write(picked)
                continue
            update = user.press_update(*picked)
        else:
            update = user.text_update(line)
        await dp.feed_update(bot, update)
    if linger_s > 0:
        await asyncio.sleep(linger_s)
    return 0
