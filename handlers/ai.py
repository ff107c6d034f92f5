"""/ai SYMBOL (the regular card at once, then the AI's verdicts edited into it), /ai why ID and
/costs [days]; the free-text forms ("Use GPT analysis for BTCUSD", "GPT check this setup")."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from charts.costs import render_daily_spend
from core.analysis.synthesis import Analysis
from core.analysis_service import NotReady
from core.approvals import ApprovalState
from core.llm.budget import period_starts
from core.llm.costs import cost_report, period_start_ms
from core.llm.review import AiReview, AiReviewer, auto_screens
from core.llm.summary import SummaryContext
from core.models import Role, User
from core.ports import Clock
from core.trading import TradingService
from core.tunables import TunableValues
from db.ai import card_symbol
from handlers.ai_render import (
    AI_CHECKING,
    AI_OFF,
    render_ai_section,
    render_costs,
    render_why_file,
    render_why_head,
)
from handlers.analysis import card_for, send_sr_chart
from handlers.html import esc
from handlers.symbol_arg import resolve_symbol
from handlers.trading import signal_keyboard

router = Router(name=__name__)
COMMANDS = {"ai", "costs"}
TRADER = {"role": Role.TRADER}
ADMIN = {"role": Role.ADMIN}
MAX_COST_DAYS = 366


def summary_context(symbol: str, data: dict[str, Any]) -> SummaryContext:
    """Precision, broker basis and the plan rules the AI is told about (no account or user facts)."""
    basis_bps = None
    price_sync = data.get("price_sync")
    if price_sync is not None and not price_sync.is_identity:
        basis = price_sync.basis(symbol, data["clock"].now_ms())
        basis_bps = basis.median_difference_bps if basis is not None and basis.stable else None
    tunables: TunableValues = data["tunables"]
    return SummaryContext(data["symbol_map"].spec(symbol).price_digits, basis_bps, tunables["signal.min_risk_reward"])


async def run_ai(message: Message, symbol: str, data: dict[str, Any]) -> AiReview | None:
    """The regular card first ("AI checking…"), then the same message edited with the verdicts."""
    reviewer: AiReviewer | None = data.get("ai")
    if reviewer is None:
        await message.answer(AI_OFF)
        return None
    try:
        analysis: Analysis = data["analysis_service"].analyse(symbol)
    except NotReady as e:
        await message.answer(f"Not ready: {esc(e)}. Try again shortly, or see /health.")
        return None
    card = card_for(analysis, data["symbol_map"])
    trading: TradingService | None = data.get("trading")
    if analysis.plan is None or trading is None:
        review = await reviewer.review(analysis, summary_context(symbol, data))
        await message.answer(card + render_ai_section(review, analysis.plan, _digits(symbol, data)))
        return review
    ttl_min = data["tunables"]["approvals.ttl_s"] / 60
    card += f"\n\n<i>Valid for {ttl_min:g} min. EXECUTE re-checks every safety gate first.</i>"
    approval = await trading.open_approval(
        analysis.plan, card_html=card, card_price=analysis.price, source=analysis.source.value,
        chat_id=message.chat.id, user_id=message.from_user.id if message.from_user else 0)
    sent = await message.answer(card + AI_CHECKING, reply_markup=signal_keyboard(approval.id))
    task = start_screen(analysis, approval.id, message, sent.message_id, data)
    await trading.attach_message(approval.id, sent.message_id)
    if data["tunables"]["bot.reply_chart"]:
        await send_sr_chart(message, analysis, data["market"], data["chart_lock"])
    return await finish_screen(task, analysis, approval.id, message, sent.message_id, card, data)


def will_screen(symbol: str, data: dict[str, Any]) -> bool:
    """Whether an issued card of ``symbol`` is screened automatically (``ai.auto_screen``)."""
    return data.get("ai") is not None and auto_screens(data["tunables"], symbol)


def start_screen(analysis: Analysis, approval_id: str, message: Message, message_id: int,
                 data: dict[str, Any]) -> asyncio.Task[AiReview]:
    """The AI review of a card that was just sent, running while the handler goes on (chart...)."""
    reviewer: AiReviewer = data["ai"]
    return asyncio.create_task(reviewer.review(analysis, summary_context(analysis.symbol, data),
                                               signal_id=approval_id, chat_id=message.chat.id,
                                               message_id=message_id), name=f"ai-review-{approval_id}")


async def finish_screen(task: asyncio.Task[AiReview], analysis: Analysis, approval_id: str, message: Message,
                        message_id: int, card: str, data: dict[str, Any]) -> AiReview:
    review = await task
    section = render_ai_section(review, analysis.plan, _digits(analysis.symbol, data))
    await show_review(message, data["trading"], approval_id, message_id, card, review, section)
    await data["ai"].settle()  # the update ends with its ledger rows on disk
    return review


async def show_review(message: Message, trading: TradingService, approval_id: str, message_id: int, card: str,
                      review: AiReview, section: str) -> None:
    """Edit the card in place while it is still open (buttons kept, whatever the AI said);
    once the trader has decided, the verdict comes as a reply instead of overwriting the decision."""
    approval = await trading.store.get_approval(approval_id)
    if approval is not None and approval.state is ApprovalState.PENDING:
        await message.bot.edit_message_text(card + section, chat_id=message.chat.id, message_id=message_id,
                                            reply_markup=signal_keyboard(approval_id))
        await trading.store.set_card_html(approval_id, card + section)
    else:
        await message.answer(f"AI verdict for card {esc(approval_id)} (already decided):" + section,
                             reply_to_message_id=message_id)


def _digits(symbol: str, data: dict[str, Any]) -> int:
    return data["symbol_map"].spec(symbol).price_digits


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
