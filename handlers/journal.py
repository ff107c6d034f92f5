"""/journal and /stats: what was decided, ordered and closed, and how it performed."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from charts.equity import render_equity_chart
from core.market.state import MarketState
from core.models import DataSource
from core.portfolio import Portfolio
from core.ports import Clock
from core.stats import Dip, Drawdown, GroupStats, TradeStats, compute_stats, equity_curve, profit_factor_text
from core.tunables import TunableValues
from db.journal import list_approval_sources, list_closed_trades, list_journal
from handlers.html import esc
from handlers.routing import RouterSpec
from handlers.trade_text import data_badge

router = RouterSpec(__name__)
COMMANDS = {"journal", "stats"}
DAY_MS = 86_400_000


class StatsCb(CallbackData, prefix="st"):
    days: int


def _when(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%m-%d %H:%M")


@router.message(Command("journal"))
async def cmd_journal(message: Message, command: CommandObject, session: AsyncSession, market: MarketState) -> None:
    arg = (command.args or "").strip()
    limit = min(int(arg), 100) if arg.isdigit() and int(arg) > 0 else 15
    entries = await list_journal(session, limit=limit)
    if not entries:
        await message.answer("The journal is empty: no signals, decisions or trades yet.")
        return
    sources = await list_approval_sources(session, (e.approval_id for e in entries))
    lines = [f"<b>Journal</b>{data_badge(market.source)} (last {len(entries)}, newest first)"]
    for e in entries:
        ticket = f" #{e.ticket}" if e.ticket else ""
        badge = data_badge(sources.get(e.approval_id or ""))
        lines.append(f"{_when(e.ts_ms)} {esc(e.symbol)}{ticket} <i>{esc(e.kind)}</i>{badge}: {esc(e.text)}")
    await message.answer("\n".join(lines))


def _group_line(g: GroupStats) -> str:
    win = f"{g.win_rate_pct:.0f}%" if g.win_rate_pct is not None else "-"
    expectancy = f"{g.expectancy:+,.2f}" if g.expectancy is not None else "-"
    avg_r = f", avg {g.expectancy_r:+.2f}R" if g.expectancy_r is not None else ""
    return (f"{esc(g.key)}: {g.count} trades, win {win}, PF {esc(profit_factor_text(g))}, "
            f"expectancy {expectancy}{avg_r}, net {g.net_pnl:+,.2f}")


def _dip_text(dip: Dip) -> str:
    pct = f" ({dip.pct:.2f}% of its peak)" if dip.pct is not None else ""
    when = f", {_when(dip.peak_ts_ms)} → {_when(dip.trough_ts_ms)}" if dip.peak_ts_ms is not None else ""
    return f"{dip.amount:,.2f}{pct}{when}"


def drawdown_text(dd: Drawdown) -> str:
    """The largest fall in money and the largest in percent, each with its own dip's other figure."""
    if dd.by_pct is None or dd.same_dip or dd.by_money.amount == 0:
        return f"max drawdown {_dip_text(dd.by_money)}"
    pct = dd.by_pct
    return (f"largest drawdown in money {_dip_text(dd.by_money)}; largest in percent {pct.pct:.2f}% "
            f"({pct.amount:,.2f}, {_when(pct.peak_ts_ms)} → {_when(pct.trough_ts_ms)})")


def sources_text(sources: list[str]) -> tuple[str, str]:
    """(head badge, a line saying which data the trades came from when it is mixed)."""
    counts = Counter(sources)
    if not counts or set(counts) == {DataSource.LIVE.value}:
        return "", ""
    if len(counts) == 1:
        return data_badge(next(iter(counts))), ""
    mix = ", ".join(f"{n} on {esc(name)}" for name, n in counts.most_common())
    return "", f"⚠️ trades from different market data: {mix}"


def render_stats(stats: TradeStats, days: int, sources: list[str] = ()) -> str:
    t = stats.totals
    badge, mix = sources_text(list(sources))
    if t.count == 0:
        return f"<b>Stats, last {days} days</b>\nNo closed trades in this period."
    lines = [f"<b>Stats, last {days} days</b>{badge}", *([mix] if mix else []), _group_line(t),
             f"wins {t.wins} / losses {t.losses} / breakeven {t.breakevens}; {drawdown_text(stats.drawdown)}"]
    if stats.best and stats.worst:
        lines.append(f"best {stats.best.symbol} {stats.best.realized_pnl:+,.2f}, worst {stats.worst.symbol} "
                     f"{stats.worst.realized_pnl:+,.2f}; streaks: {stats.longest_win_streak} wins, "
                     f"{stats.longest_loss_streak} losses")
    lines.append("\n<b>By symbol</b>")
    lines += [_group_line(g) for g in stats.by_symbol]
    lines.append("\n<b>By setup</b>")
    lines += [_group_line(g) for g in stats.by_setup]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class StatsView:
    text: str
    keyboard: InlineKeyboardMarkup
    equity: list[tuple[int, float]]  # the equity curve of the period (empty without trades)
    source_label: str | None  # the chart's badge: the trades' market data when it is not live


async def stats_view(session: AsyncSession, portfolio: Portfolio, clock: Clock, days: int) -> StatsView:
    since = clock.now_ms() - days * DAY_MS
    trades = await list_closed_trades(session, since_ts_ms=since)
    account = await portfolio.broker.account()
    start_equity = account.balance - sum(t.realized_pnl for t in trades)
    stats = compute_stats(trades, since_ts_ms=since, starting_equity=start_equity)
    by_approval = await list_approval_sources(session, (t.approval_id for t in trades))
    sources = [by_approval.get(t.approval_id, DataSource.LIVE.value) for t in trades]
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="Refresh", callback_data=StatsCb(days=days).pack())]])
    not_live = sorted({s for s in sources if s != DataSource.LIVE.value})
    curve = equity_curve(trades, start_equity, since_ts_ms=since) if trades else []
    return StatsView(render_stats(stats, days, sources) + _provisional_note(trades), keyboard, curve,
                     "+".join(not_live) or None)


def _provisional_note(trades) -> str:
    pending = [t for t in trades if t.provisional]
    if not pending:
        return ""
    tickets = ", ".join(f"#{t.ticket}" for t in pending[:5])
    return (f"\n\n<i>Provisional: {len(pending)} closed trade(s) ({tickets}) carry an estimated P/L until the "
            "broker reports their closing deals.</i>")


@router.message(Command("stats"))
async def cmd_stats(message: Message, command: CommandObject, session: AsyncSession, portfolio: Portfolio,
                    clock: Clock, tunables: TunableValues, chart_lock: asyncio.Lock) -> None:
    arg = (command.args or "").strip()
    days = min(int(arg), 3650) if arg.isdigit() and int(arg) > 0 else tunables["stats.default_days"]
    view = await stats_view(session, portfolio, clock, days)
    await message.answer(view.text, reply_markup=view.keyboard)
    if view.equity:
        async with chart_lock:  # matplotlib is not promised to be thread-safe: one render at a time
            png = await asyncio.to_thread(render_equity_chart, view.equity, title=f"Equity, last {days} days",
                                          source_label=view.source_label)
        await message.answer_photo(BufferedInputFile(png, "equity.png"))


@router.callback_query(StatsCb.filter(F.days > 0))
async def on_stats_refresh(query: CallbackQuery, callback_data: StatsCb, session: AsyncSession,
                           portfolio: Portfolio, clock: Clock) -> None:
    view = await stats_view(session, portfolio, clock, min(callback_data.days, 3650))
    await query.answer("Refreshed")
    if query.message:
        try:
            await query.message.edit_text(view.text, reply_markup=view.keyboard)
        except TelegramBadRequest as e:  # "message is not modified" when nothing changed
            if "not modified" not in str(e):
                raise
