"""/analyse, /flow, /sr, /depth: the signal card, order flow and zones, each with its chart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiogram.filters import Command, CommandObject
from aiogram.types import (
    BufferedInputFile,
    Message,
)

from charts.depth import render_depth_chart
from charts.sr import render_sr_chart
from core.analysis.synthesis import Analysis
from core.analysis_service import AnalysisService, NotReady
from core.events import SignalEvaluated, Trigger
from core.market.state import MarketState
from core.market.symbols import SymbolMap
from core.signals import IssuedSignal, SignalService
from core.tunables import TunableValues
from db.cards import save_card
from handlers.ai_render import AI_CHECKING
from handlers.cards import render_card, render_flow, render_zones
from handlers.html import esc
from handlers.routing import RouterSpec
from handlers.symbol_arg import resolve_symbol
from handlers.trading import signal_keyboard

router = RouterSpec(__name__)
COMMANDS = {"analyse", "flow", "sr", "depth"}
CHART_TIMEFRAME = "1h"


def card_for(analysis: Analysis, symbol_map: SymbolMap) -> str:
    """The signal card with the symbol's own precision and order-flow note (also for pushed cards)."""
    spec = symbol_map.spec(analysis.symbol)
    return render_card(analysis, spec.price_digits, analysis.symbol[:3], symbol_map.order_flow_note(analysis.symbol))


def _chart_title(analysis: Analysis, what: str) -> str:
    when = datetime.fromtimestamp(analysis.ts_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{analysis.symbol} {what} · {when}"


async def _render(chart_lock: asyncio.Lock, fn, *args, **kwargs) -> bytes:
    async with chart_lock:  # matplotlib is not promised to be thread-safe: one render at a time
        return await asyncio.to_thread(fn, *args, **kwargs)


async def _run(message: Message, service: AnalysisService, symbol: str) -> Analysis | None:
    try:
        return service.analyse(symbol)
    except NotReady as e:
        await message.answer(f"Not ready: {esc(e)}. Try again shortly, or see /health.")
        return None


async def send_sr_chart(message: Message, analysis: Analysis, market: MarketState, chart_lock: asyncio.Lock,
                        with_plan: bool = True) -> None:
    candles = market.htf(analysis.symbol, CHART_TIMEFRAME)
    if len(candles) == 0:
        return
    png = await _render(chart_lock, render_sr_chart, candles, analysis.drawn_zones, price=analysis.price,
                        plan=analysis.plan if with_plan else None, title=_chart_title(analysis, CHART_TIMEFRAME),
                        source_label=analysis.source.value)
    await message.answer_photo(BufferedInputFile(png, f"{analysis.symbol}-sr.png"))


async def send_depth_chart(message: Message, analysis: Analysis, market: MarketState,
                           chart_lock: asyncio.Lock) -> bool:
    book = market.book(analysis.symbol)
    if book is None or not book.bids or not book.asks:
        return False
    voids = [(v.low, v.high) for v in analysis.order_flow.voids] if analysis.order_flow else []
    png = await _render(chart_lock, render_depth_chart, book, voids=voids, title=_chart_title(analysis, "depth"),
                        source_label=analysis.source.value)
    await message.answer_photo(BufferedInputFile(png, f"{analysis.symbol}-depth.png"))
    return True


def signal_card(evaluation: SignalEvaluated, symbol_map: SymbolMap, ttl_s: int, *, prefix: str = "") -> str:
    """The card of an evaluated plan: the analysis, then whether EXECUTE can pass and for how long."""
    assert evaluation.analysis is not None
    card = prefix + card_for(evaluation.analysis, symbol_map)
    if evaluation.plan is None:
        return card
    if evaluation.executable:
        return card + (f"\n\n<i>Valid for {ttl_s / 60:g} min. EXECUTE re-checks every safety gate first.</i>")
    return card + ("\n\n👁 <b>Watch only</b>: " + esc("; ".join(evaluation.blockers))
                   + ". <i>WAIT re-checks it; nothing can be executed from this card.</i>")


async def send_signal(message: Message, evaluation: SignalEvaluated, data: dict[str, Any], *,
                      screen: bool = False) -> IssuedSignal:
    """Issue the card of an evaluated plan in this chat (EXECUTE only when the gates would pass).

    With ``screen`` (/ai) or ``ai.auto_screen`` the AI screening stage checks it: the card says
    "AI checking…" and the verdicts are edited into it when they arrive."""
    signals: SignalService = data["signals"]
    user_id = message.from_user.id if message.from_user else 0
    issued = await signals.issue(evaluation, chat_id=message.chat.id, user_id=user_id, screen=screen)
    card = signal_card(evaluation, data["symbol_map"], data["tunables"]["approvals.ttl_s"])
    await save_card(data["sessions"], issued.approval.id, card)
    sent = await message.answer(card + (AI_CHECKING if issued.screening else ""),
                                reply_markup=signal_keyboard(issued.approval.id, issued.executable))
    await data["trading"].attach_message(issued.approval.id, sent.message_id)
    return issued


async def show_analysis(message: Message, symbol: str, data: dict[str, Any]) -> None:
    signals: SignalService = data["signals"]
    try:
        evaluation = await signals.evaluate(symbol, trigger=Trigger.DEMAND)
    except NotReady as e:
        await message.answer(f"Not ready: {esc(e)}. Try again shortly, or see /health.")
        return
    analysis = evaluation.analysis
    assert analysis is not None
    issued = None
    if evaluation.plan is None:
        await message.answer(card_for(analysis, data["symbol_map"]))
    else:
        issued = await send_signal(message, evaluation, data)
    tunables: TunableValues = data["tunables"]
    if tunables["bot.reply_chart"]:
        await send_sr_chart(message, analysis, data["market"], data["chart_lock"])
    if issued is not None and issued.screening:
        await signals.screened(issued.approval.id)  # the update ends when the card is final


async def show_flow(message: Message, symbol: str, data: dict[str, Any]) -> None:
    analysis = await _run(message, data["analysis_service"], symbol)
    if analysis is None:
        return
    symbol_map: SymbolMap = data["symbol_map"]
    await message.answer(render_flow(analysis, symbol_map.spec(symbol).price_digits,
                                     symbol_map.order_flow_note(symbol)))
    if analysis.order_flow is not None:
        await send_depth_chart(message, analysis, data["market"], data["chart_lock"])


async def show_zones(message: Message, symbol: str, data: dict[str, Any]) -> None:
    analysis = await _run(message, data["analysis_service"], symbol)
    if analysis is None:
        return
    await message.answer(render_zones(analysis, data["symbol_map"].spec(symbol).price_digits))
    await send_sr_chart(message, analysis, data["market"], data["chart_lock"], with_plan=False)


async def show_depth(message: Message, symbol: str, data: dict[str, Any]) -> None:
    analysis = await _run(message, data["analysis_service"], symbol)
    if analysis is None:
        return
    if not await send_depth_chart(message, analysis, data["market"], data["chart_lock"]):
        note = data["symbol_map"].order_flow_note(symbol) or "no order book received yet"
        await message.answer(f"No order book for {symbol}: {esc(note)}.")


def _command(name: str, show):
    async def handler(message: Message, command: CommandObject, **data: Any) -> None:
        symbol = await resolve_symbol(message, command.args, data["symbol_map"], name)
        if symbol:
            await show(message, symbol, data)

    handler.__name__ = f"cmd_{name}"
    return handler


router.message(Command("analyse", "analyze"))(_command("analyse", show_analysis))
router.message(Command("flow"))(_command("flow", show_flow))
router.message(Command("sr"))(_command("sr", show_zones))
router.message(Command("depth"))(_command("depth", show_depth))


def _intent(show):
    async def target(message: Message, symbol: str | None, data: dict[str, Any]) -> None:
        resolved = await resolve_symbol(message, symbol, data["symbol_map"], "analyse")
        if resolved:
            await show(message, resolved, data)

    return target


INTENT_HANDLERS = {"analyse": _intent(show_analysis), "flow": _intent(show_flow), "whales": _intent(show_flow),
                   "sr": _intent(show_zones), "depth": _intent(show_depth)}
