"""The error handler: the user gets a short clear message, the log gets the detail."""

from __future__ import annotations

import logging
import secrets

from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from sqlalchemy.exc import SQLAlchemyError

from handlers.routing import RouterSpec

router = RouterSpec(__name__)
COMMANDS: set[str] = set()
log = logging.getLogger("moneybot.errors")


def _message_for(exc: BaseException, ref: str) -> str:
    if isinstance(exc, SQLAlchemyError):
        return f"The database is not answering right now, so nothing was saved. Please try again. (ref {ref})"
    if isinstance(exc, TimeoutError):
        return f"That took too long and was stopped. Please try again. (ref {ref})"
    return f"Something went wrong on my side; the details are logged. (ref {ref})"


@router.errors()
async def on_error(event: ErrorEvent) -> bool:
    ref = secrets.token_hex(3)
    update = event.update
    who = update.message.from_user.id if update.message and update.message.from_user else (
        update.callback_query.from_user.id if update.callback_query else None)
    what = (update.message.text if update.message else
            update.callback_query.data if update.callback_query else update.event_type)
    log.error("update %s from user %s (%r) failed [ref %s]", update.update_id, who, (what or "")[:80], ref,
              exc_info=event.exception)
    text = _message_for(event.exception, ref)
    try:
        if update.callback_query:
            await update.callback_query.answer(text[:200], show_alert=True)
        elif update.message:
            await update.message.answer(text)
    except TelegramAPIError:
        log.warning("could not tell user %s about error ref %s", who, ref)
    return True
