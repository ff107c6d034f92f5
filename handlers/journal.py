"""/journal and /stats: what was decided, ordered and closed, and how it performed."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from core.portfolio import Portfolio
from core.ports import Clock
from core.stats import GroupStats, TradeStats, compute_stats, profit_factor_text
from core.tunables import TunableValues
from db.journal import list_closed_trades, list_journal
from handlers.html import esc

router = Router(name=__name__)
COMMANDS = {"journal", "stats"}
DAY_MS = 86_400_000


class StatsCb(CallbackData, prefix="st"):
    days: int


def _when(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%m-%d %H:%M")


@router.message(Command("journal"))
async def cmd_journal(message: Message, command: CommandObject, session: AsyncSession) -> None:
    arg = (command.args or "").strip()
    limit = min(int(arg), 100) if arg.isdigit() and int(arg) > 0 else 15
    entries = await list_journal(session, limit=limit)
    if not entries:
        await message.answer("The journal is empty: no signals, decisions or trades yet.")
        return
    lines = [f"<b>Journal</b> (last {len(entries)}, newest first)"]
    for e in entries:
        ticket = f" #{e.ticket}" if e.ticket else ""
        lines.append(f"{_when(e.ts_ms)} {esc(e.symbol)}{ticket} <i>{esc(e.kind)}</i>: {esc(e.text)}")
    await message.answer("\n".join(lines))


def _group_line(g: GroupStats) -> str:
    win = f"{g.win_rate_pct:.0f}%" if g.win_rate_pct is not None else "-"
    expectancy = f"{g.expectancy:+,.2f}" if g.expectancy is not None else "-"
    avg_r = f", avg {g.expectancy_r:+.2f}R" if g.expectancy_r is not None else ""
    return (f"{esc(g.key)}: {g.count} trades, win {win}, PF {esc(profit_factor_text(g))}, "
            f"expectancy {expectancy}{avg_r}, net {g.net_pnl:+,.2f}")


def render_stats(stats: TradeStats, days: int) -> str:
    t = stats.totals
    if t.count == 0:
        return f"<b>Stats, last {days} days</b>\nNo closed trades in this period."
    dd = stats.drawdown
    dd_pct = f" ({dd.pct:.2f}%)" if dd.pct is not None else ""
    lines = [f"<b>Stats, last {days} days</b>", _group_line(t),
             f"wins {t.wins} / losses {t.losses} / breakeven {t.breakevens}; max drawdown {dd.amount:,.2f}{dd_pct}"]
    if stats.best and stats.worst:
        lines.append(f"best {stats.best.symbol} {stats.best.realized_pnl:+,.2f}, worst {stats.worst.symbol} "
                     f"{stats.worst.realized_pnl:+,.2f}; streaks: {stats.longest_win_streak} wins, "
                     f"{stats.longest_loss_streak} losses")
    lines.append("\n<b>By symbol</b>")
    lines += [_group_line(g) for g in stats.by_symbol]
    lines.append("\n<b>By setup</b>")
    lines += [_group_line(g) for g in stats.by_setup]
    return "\n".join(lines)


async def stats_view(session: AsyncSession, portfolio: Portfolio, clock: Clock, days: int
                     ) -> tuple[str, InlineKeyboardMarkup]:
    since = clock.now_ms() - days * DAY_MS
    trades = await list_closed_trades(session, since_ts_ms=since)
    account = await portfolio.broker.account()
    start_equity = account.balance - sum(t.realized_pnl for t in trades)
    stats = compute_stats(trades, since_ts_ms=since, starting_equity=start_equity)
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="Refresh", callback_data=StatsCb(days=days).pack())]])
    return render_stats(stats, days), keyboard


@router.message(Command("stats"))
async def cmd_stats(message: Message, command: CommandObject, session: AsyncSession, portfolio: Portfolio,
                    clock: Clock, tunables: TunableValues) -> None:
    arg = (command.args or "").strip()
    days = min(int(arg), 3650) if arg.isdigit() and int(arg) > 0 else tunables["stats.default_days"]
    text, keyboard = await stats_view(session, portfolio, clock, days)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(StatsCb.filter(F.days > 0))
async def on_stats_refresh(query: CallbackQuery, callback_data: StatsCb, session: AsyncSession,
                           portfolio: Portfolio, clock: Clock) -> None:
    text, keyboard = await stats_view(session, portfolio, clock, min(callback_data.days, 3650))
    await query.answer("Refreshed")
    if query.message:
        try:
            await query.message.edit_text(text, reply_markup=keyboard)
        except TelegramBadRequest as e:  # "message is not modified" when nothing changed
            if "not modified" not in str(e):
                raise
