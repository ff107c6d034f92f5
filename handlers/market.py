"""/price and /health: what the market-data layer knows and how fresh it is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from core.market.candle_store import UnrepairedCandle
from core.market.health import FeedHealth, HealthStatus
from core.market.prices import PriceInfo
from core.market.state import MarketState
from core.market.symbols import SymbolMap
from core.models import DataSource
from handlers.html import esc
from handlers.pipeline_text import render_pipeline
from handlers.routing import RouterSpec
from handlers.symbol_arg import resolve_symbol

router = RouterSpec(__name__)
COMMANDS = {"price", "health"}
STATUS_ICON = {HealthStatus.OK: "🟢", HealthStatus.DEGRADED: "🟡", HealthStatus.STALE: "🔴"}


def format_price(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def source_tag(source: DataSource) -> str:
    return "" if source is DataSource.LIVE else f" <b>[{source.value}]</b>"


def utc_text(ts_ms: int, seconds: bool = True) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else
                                                             "%Y-%m-%d %H:%M UTC")


def freshness(info: PriceInfo) -> str:
    """How old the price is; a replayed one also says when it was recorded (ages are on the recording's clock)."""
    if info.source is DataSource.REPLAY:
        return (f"replayed data recorded {utc_text(info.ts_ms)}, {info.age_s:.1f} s before the replay's "
                "latest message")
    return f"{info.source.value.lower()} data, {info.age_s:.1f} s old"


def render_price(market: MarketState, symbol_map: SymbolMap, symbol: str) -> str:
    info = market.price_info(symbol)
    if info is None:
        return f"No price for {symbol} yet. {_why_no_data(symbol_map, symbol)}"
    digits = symbol_map.spec(symbol).price_digits
    spread = f"  spread {format_price(info.spread, digits)}" if info.spread is not None else ""
    bid_ask = (f"\nbid {format_price(info.bid, digits)} / ask {format_price(info.ask, digits)}{spread}"
               if info.bid is not None and info.ask is not None else "")
    return (f"<b>{symbol}</b> {format_price(info.price, digits)}{source_tag(info.source)}{bid_ask}\n"
            f"from {info.origin.value}, {freshness(info)}")


def _why_no_data(symbol_map: SymbolMap, symbol: str) -> str:
    note = symbol_map.order_flow_note(symbol)
    return note or "The feed has not delivered it yet; try again in a few seconds (/health)."


def unrepaired_line(candle: UnrepairedCandle) -> str:
    return (f"⚠️ {candle.symbol} {candle.interval} candle {utc_text(candle.open_time_ms, seconds=False)} was built "
            f"across {candle.quiet_minutes} minute{'s' if candle.quiet_minutes != 1 else ''} without data and could "
            f"not be repaired: {esc(candle.reason)}")


def render_health(health: FeedHealth, symbol_map: SymbolMap, source: DataSource,
                  unrepaired: Sequence[UnrepairedCandle] = ()) -> str:
    lines = [f"<b>Market data health</b>{source_tag(source)}"]
    if source is DataSource.REPLAY:
        lines.append(f"Recorded data: the replay's clock is at {utc_text(health.clock.now_ms())}; ages are on it.")
    lines += [unrepaired_line(candle) for candle in unrepaired]
    reports = health.report()
    if not reports:
        return "\n".join([*lines, "No streams yet."])
    for symbol in symbol_map.symbols():
        rows = [r for r in reports if r.symbol == symbol]
        if not rows:
            lines.append(f"\n<b>{symbol}</b>: {esc(_why_no_data(symbol_map, symbol))}")
            continue
        status, reason = health.status(symbol)
        lines.append(f"\n{STATUS_ICON[status]} <b>{symbol}</b> {status.value}" + (f" - {esc(reason)}" if reason else ""))
        for r in rows:
            age = "never" if r.last_msg_age_s is None else f"{r.last_msg_age_s:.1f}s ago"
            extra = "".join(f", {n} {label}" for n, label in ((r.reconnects, "reconnects"), (r.gaps, "gaps"),
                                                               (r.malformed, "malformed")) if n)
            lines.append(f"  {esc(r.stream)}: {r.msg_rate_per_s:.1f}/s, last {age}{extra}")
    return "\n".join(lines)


@router.message(Command("price"))
async def cmd_price(message: Message, command: CommandObject, market: MarketState, symbol_map: SymbolMap) -> None:
    symbol = await resolve_symbol(message, command.args, symbol_map, "price")
    if symbol:
        await message.answer(render_price(market, symbol_map, symbol))


def health_text(data: dict[str, Any]) -> str:
    """Market data, then the signal pipeline (evaluations, subscribers' lag and drops)."""
    market: MarketState = data["market"]
    pipeline = render_pipeline(data["evaluator"].status(), data["bus"].stats(),
                               data["tunables"]["signal.setup_timeframe"])
    return (render_health(data["feed_health"], data["symbol_map"], market.source, market.unrepaired_candles())
            + "\n" + pipeline)


@router.message(Command("health"))
async def cmd_health(message: Message, **data: Any) -> None:
    await message.answer(health_text(data))


async def intent_price(message: Message, symbol: str | None, data: dict[str, Any]) -> None:
    resolved = await resolve_symbol(message, symbol, data["symbol_map"], "price")
    if resolved:
        await message.answer(render_price(data["market"], data["symbol_map"], resolved))


async def intent_health(message: Message, symbol: str | None, data: dict[str, Any]) -> None:
    await message.answer(health_text(data))


INTENT_HANDLERS = {"price": intent_price, "health": intent_health}
