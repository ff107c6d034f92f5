"""EXECUTE / WAIT / REJECT on signal cards, /positions, /close, /pause, /resume, /status."""

from __future__ import annotations

from enum import StrEnum

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.market.state import MarketState
from core.market.symbols import SymbolMap
from core.models import DataSource, Role, User
from core.portfolio import Portfolio
from core.ports import BrokerError
from core.trading import TradingService
from db.cards import get_card
from handlers.decisions import decision_alert, status_block
from handlers.html import esc
from handlers.routing import RouterSpec
from handlers.trade_text import data_badge, render_close, render_positions

router = RouterSpec(__name__)
COMMANDS = {"positions", "close", "pause", "resume", "status"}
TRADER = {"role": Role.TRADER}
ADMIN = {"role": Role.ADMIN}


class SignalAction(StrEnum):
    EXECUTE = "x"
    WAIT = "w"
    REJECT = "r"


class SignalCb(CallbackData, prefix="sig"):
    action: SignalAction
    signal_id: str


class PosAction(StrEnum):
    ASK = "a"
    CONFIRM = "c"
    KEEP = "k"
    REFRESH = "r"


class PositionCb(CallbackData, prefix="pos"):
    action: PosAction
    ticket: int


def signal_buttons(signal_id: str, executable: bool = True) -> list[list[tuple[str, str]]]:
    """EXECUTE / WAIT / REJECT as (label, callback data); a watch-only card has no EXECUTE."""
    labels = {SignalAction.EXECUTE: "EXECUTE", SignalAction.WAIT: "WAIT", SignalAction.REJECT: "REJECT"}
    if not executable:
        labels.pop(SignalAction.EXECUTE)
    return [[(label, SignalCb(action=action, signal_id=signal_id).pack()) for action, label in labels.items()]]


def signal_keyboard(signal_id: str, executable: bool = True) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)
                                                  for label, data in row]
                                                 for row in signal_buttons(signal_id, executable)])


@router.callback_query(SignalCb.filter(), flags=TRADER)
async def on_signal_button(query: CallbackQuery, callback_data: SignalCb, trading: TradingService,
                           sessions: async_sessionmaker, symbol_map: SymbolMap, market: MarketState) -> None:
    chat_id = query.message.chat.id if query.message else 0
    act = {SignalAction.EXECUTE: trading.execute, SignalAction.WAIT: trading.wait,
           SignalAction.REJECT: trading.reject}[callback_data.action]
    result = await act(callback_data.signal_id, user_id=query.from_user.id, chat_id=chat_id)
    await query.answer(decision_alert(result), show_alert=not result.ok)
    if result.changed_card and result.approval is not None and query.message:
        card = await get_card(sessions, result.approval.id) or (query.message.html_text or "")
        await query.message.edit_text(card + status_block(result, symbol_map, market.source), reply_markup=None)


async def positions_view(portfolio: Portfolio, user: User, symbol_map: SymbolMap, source: DataSource
                         ) -> tuple[str, InlineKeyboardMarkup | None]:
    positions = await portfolio.broker.positions()
    account = await portfolio.broker.account()
    text = render_positions(positions, account, portfolio.broker.name, symbol_map, source)
    if not positions:
        return text, None
    rows = [[InlineKeyboardButton(text=f"Close #{p.ticket}", callback_data=PositionCb(
        action=PosAction.ASK, ticket=p.ticket).pack())] for p in positions] if user.role.allows(Role.TRADER) else []
    rows.append([InlineKeyboardButton(text="Refresh", callback_data=PositionCb(action=PosAction.REFRESH,
                                                                               ticket=0).pack())])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


@router.message(Command("positions"))
async def cmd_positions(message: Message, portfolio: Portfolio, user: User, symbol_map: SymbolMap,
                        market: MarketState) -> None:
    text, keyboard = await positions_view(portfolio, user, symbol_map, market.source)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(PositionCb.filter(F.action == PosAction.REFRESH))
async def on_positions_refresh(query: CallbackQuery, portfolio: Portfolio, user: User, symbol_map: SymbolMap,
                               market: MarketState) -> None:
    text, keyboard = await positions_view(portfolio, user, symbol_map, market.source)
    await query.answer("Refreshed")
    if query.message:
        await query.message.edit_text(text, reply_markup=keyboard)


@router.callback_query(PositionCb.filter(F.action == PosAction.ASK), flags=TRADER)
async def on_close_ask(query: CallbackQuery, callback_data: PositionCb) -> None:
    ticket = callback_data.ticket
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=f"Yes, close #{ticket}",
                             callback_data=PositionCb(action=PosAction.CONFIRM, ticket=ticket).pack()),
        InlineKeyboardButton(text="No", callback_data=PositionCb(action=PosAction.KEEP, ticket=ticket).pack())]])
    await query.answer()
    if query.message:
        await query.message.answer(f"Close position #{ticket} at market?", reply_markup=keyboard)


@router.callback_query(PositionCb.filter(F.action == PosAction.KEEP), flags=TRADER)
async def on_close_keep(query: CallbackQuery, callback_data: PositionCb) -> None:
    await query.answer("Kept open.")
    if query.message:
        await query.message.edit_text(f"Position #{callback_data.ticket} kept open.", reply_markup=None)


async def close_text(portfolio: Portfolio, ticket: int, user_id: int, symbol_map: SymbolMap,
                     source: DataSource) -> str:
    try:
        fill = await portfolio.close(ticket, by=user_id)
    except BrokerError as e:
        return f"Position #{ticket} was not closed: {esc(e.message)}"
    return render_close(ticket, fill, symbol_map, source)


@router.callback_query(PositionCb.filter(F.action == PosAction.CONFIRM), flags=TRADER)
async def on_close_confirm(query: CallbackQuery, callback_data: PositionCb, portfolio: Portfolio,
                           symbol_map: SymbolMap, market: MarketState) -> None:
    text = await close_text(portfolio, callback_data.ticket, query.from_user.id, symbol_map, market.source)
    await query.answer("Done" if text.startswith("Closed") else "Not closed")
    if query.message:
        await query.message.edit_text(text, reply_markup=None)


@router.message(Command("close"), flags=TRADER)
async def cmd_close(message: Message, command: CommandObject, portfolio: Portfolio, user: User,
                    symbol_map: SymbolMap, market: MarketState) -> None:
    arg = (command.args or "").strip().lstrip("#")
    if not arg.isdigit():
        await message.answer("Usage: /close TICKET (see /positions for tickets).")
        return
    await message.answer(await close_text(portfolio, int(arg), user.telegram_id, symbol_map, market.source))


@router.message(Command("pause"), flags=ADMIN)
async def cmd_pause(message: Message, trading: TradingService, user: User) -> None:
    await trading.guard.set_paused(True, user.telegram_id)
    await message.answer("⏸ Trading is <b>paused</b>: EXECUTE will refuse new trades until /resume. "
                         "Open positions are still managed.")


@router.message(Command("resume"), flags=ADMIN)
async def cmd_resume(message: Message, trading: TradingService, user: User) -> None:
    await trading.guard.set_paused(False, user.telegram_id)
    await message.answer("▶️ Trading <b>resumed</b>.")


@router.message(Command("status"))
async def cmd_status(message: Message, trading: TradingService, market: MarketState, data_source_label: str
                     ) -> None:
    broker = trading.broker
    account = await broker.account()
    positions = await broker.positions()
    open_pnl = sum(p.unrealized_pnl for p in positions)
    view = await trading.guard.breaker(trading.clock.now_ms(), account.equity, open_pnl)
    state = "HALTED" if view.halted else "PAUSED" if trading.guard.paused else "ACTIVE"
    lines = [f"<b>Trading: {state}</b>{data_badge(market.source)}",
             f"Broker: {esc(broker.name)} · balance {account.balance:,.2f} · equity {account.equity:,.2f} "
             f"{esc(account.currency)}",
             f"Open positions: {len(positions)} (P/L {open_pnl:+,.2f})",
             f"Today: realised {view.realized_today:+,.2f}, loss {view.loss_pct:.2f}% of "
             f"{view.start_equity:,.2f} (limit {trading.tunables['risk.daily_loss_limit_pct']:g}%)",
             f"Market data: {esc(data_source_label or market.source.value)}"]
    if view.halted_reason:
        lines.append(f"⛔ {esc(view.halted_reason)}")
    await message.answer("\n".join(lines))


async def intent_positions(message: Message, symbol: str | None, data: dict) -> None:
    text, keyboard = await positions_view(data["portfolio"], data["user"], data["symbol_map"], data["market"].source)
    await message.answer(text, reply_markup=keyboard)


INTENT_HANDLERS = {"positions": intent_positions}
