"""/ai SYMBOL (the regular card at once, then the AI's verdicts edited into it), /ai why ID and
/costs [days]; the free-text forms ("Use GPT analysis for BTCUSD", "GPT check this setup")."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from charts.costs import render_daily_spend
from core.analysis_service import NotReady
from core.events import Trigger
from core.llm.budget import period_starts
from core.llm.costs import cost_report, period_start_ms
from core.llm.review import AiReviewer
from core.llm.stage import summary_context
from core.models import Role, User
from core.ports import Clock
from core.signals import SignalService
from core.tunables import TunableValues
from db.ai import card_symbol
from handlers.ai_render import AI_OFF, render_ai_section, render_costs, render_why_file, render_why_head
from handlers.analysis import card_for, send_signal, send_sr_chart
from handlers.html import esc
from handlers.routing import RouterSpec
from handlers.symbol_arg import resolve_symbol

router = RouterSpec(__name__)
COMMANDS = {"ai", "costs"}
TRADER = {"role": Role.TRADER}
ADMIN = {"role": Role.ADMIN}
MAX_COST_DAYS = 366


def _context(symbol: str, data: dict[str, Any]):
    return summary_context(symbol, symbol_map=data["symbol_map"], price_sync=data.get("price_sync"),
                           tunables=data["tunables"], clock=data["clock"])


async def run_ai(message: Message, symbol: str, data: dict[str, Any]) -> None:
    """The regular card first ("AI checking…"), then the same message edited with the verdicts
    (the signal pipeline's screening stage does the check; this update waits for it to finish)."""
    reviewer: AiReviewer | None = data.get("ai")
    if reviewer is None:
        await message.answer(AI_OFF)
        return
    signals: SignalService = data["signals"]
    try:
        evaluation = await signals.evaluate(symbol, trigger=Trigger.DEMAND)
    except NotReady as e:
        await message.answer(f"Not ready: {esc(e)}. Try again shortly, or see /health.")
        return
    analysis = evaluation.analysis
    assert analysis is not None
    if evaluation.plan is None:  # nothing to check: no call, no cost
        review = await reviewer.review(analysis, _context(symbol, data))
        await message.answer(card_for(analysis, data["symbol_map"]) + render_ai_section(
            review, None, data["symbol_map"].spec(symbol).price_digits))
        return
    issued = await send_signal(message, evaluation, data, screen=True)
    if data["tunables"]["bot.reply_chart"]:
        await send_sr_chart(message, analysis, data["market"], data["chart_lock"])
    await signals.screened(issued.approval.id)
    await reviewer.settle()  # the update ends with its ledger rows on disk


@router.message(Command("ai"), flags=TRADER)
async def cmd_ai(message: Message, command: CommandObject, user: User, **data: Any) -> None:
    args = (command.args or "").split()
    if args and args[0].lower() == "why":
        await show_why(message, args[1] if len(args) > 1 else "", user, data)
        return
    symbol = await resolve_symbol(message, command.args, data["symbol_map"], "ai")
    if symbol:
        await run_ai(message, symbol, data)


async def show_why(message: Message, review_id: str, user: User, data: dict[str, Any]) -> None:
    if not user.role.allows(Role.ADMIN):
        await message.answer("That needs the <b>admin</b> role: prompts and responses are shown to admins only.")
        return
    ledger = data["ai_ledger"]
    calls = await ledger.calls_for_review(review_id.strip().lower()) if review_id else []
    if not calls:
        await message.answer(f"No AI review {esc(review_id or '?')}. Usage: /ai why ID (the id under a card's AI "
                             "section).")
        return
    prompts = {call.prompt_key: await ledger.get_prompt(call.prompt_key) for call in calls}
    first = calls[0]
    await message.answer(render_why_head(first.review_id, first.symbol, first.signal_id, calls))
    text = render_why_file(calls, prompts).encode()
    await message.answer_document(BufferedInputFile(text, f"ai-why-{first.review_id}.txt"))


@router.message(Command("costs"), flags=ADMIN)
async def cmd_costs(message: Message, command: CommandObject, clock: Clock, tunables: TunableValues,
                    ai_ledger, chart_lock: asyncio.Lock | None = None) -> None:
    raw = (command.args or "").strip()
    if raw and (not raw.isdigit() or not 1 <= int(raw) <= MAX_COST_DAYS):
        await message.answer(f"Usage: /costs [days], days from 1 to {MAX_COST_DAYS} (default 7).")
        return
    days, now = int(raw or 7), clock.now()
    since = period_start_ms(now, days)
    report = cost_report(await ai_ledger.list_calls(since), await ai_ledger.list_reviews(since), now=now, days=days)
    day_start, month_start = period_starts(now)
    await message.answer(render_costs(
        report, today_usd=await ai_ledger.spent_usd(day_start), month_usd=await ai_ledger.spent_usd(month_start),
        daily_budget_usd=tunables["ai.daily_budget_usd"], monthly_budget_usd=tunables["ai.monthly_budget_usd"]))
    bars = [(line.name, line.cost_usd) for line in report.by_day]
    async with chart_lock or asyncio.Lock():  # matplotlib: one render at a time
        png = await asyncio.to_thread(render_daily_spend, bars, daily_budget_usd=tunables["ai.daily_budget_usd"])
    await message.answer_photo(BufferedInputFile(png, "ai-costs.png"))


async def ai_intent(message: Message, symbol: str | None, data: dict[str, Any]) -> None:
    """ "Use GPT analysis for BTCUSD"; without a symbol ("GPT check this setup"), the card replied
    to, else the newest card in this chat."""
    if symbol is None:
        session: AsyncSession = data["session"]
        reply = message.reply_to_message
        symbol = await card_symbol(session, message.chat.id, reply.message_id if reply else None)
        if symbol is None:
            await message.answer("Which setup? Send /ai SYMBOL (e.g. /ai BTCUSD), or reply to a card with "
                                 "<i>GPT check this setup</i>.")
            return
    user: User | None = data.get("user")
    if user is None or not user.role.allows(Role.TRADER):
        await message.answer("AI checks need the <b>trader</b> role (each one costs money).")
        return
    resolved = await resolve_symbol(message, symbol, data["symbol_map"], "ai")
    if resolved:
        await run_ai(message, resolved, data)


INTENT_HANDLERS = {"ai": ai_intent}
