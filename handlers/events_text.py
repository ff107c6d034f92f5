"""Pushed messages rendered from domain events: position events, the breaker, WAIT outcomes."""

from __future__ import annotations

from core.events import (
    BreakerChanged,
    CloseReason,
    FeedHealthChanged,
    PositionChanged,
    PositionClosed,
    PositionEventKind,
    WaitResolved,
)
from core.market.symbols import SymbolMap
from core.models import DataSource
from handlers.html import esc
from handlers.trade_text import data_badge, price_text


def money_text(amount: float, currency: str = "USD") -> str:
    return f"{amount:+,.2f} {esc(currency)}"


_CHANGE_WORDS = {
    PositionEventKind.FILLED: "filled",
    PositionEventKind.TP1: "target 1 hit: partial close",
    PositionEventKind.BREAKEVEN: "stop moved to breakeven",
    PositionEventKind.TRAIL_MOVED: "trailing stop moved",
    PositionEventKind.PARTIAL_CLOSE: "partial close",
    PositionEventKind.STOP_MOVED: "stop moved",
    PositionEventKind.ERROR: "could not be managed",
}
_CLOSE_WORDS = {
    CloseReason.STOP_LOSS: "stop loss", CloseReason.TAKE_PROFIT: "take profit",
    CloseReason.TRAILING_STOP: "trailing stop", CloseReason.BREAKEVEN_STOP: "breakeven stop",
    CloseReason.TARGET: "final target", CloseReason.TIME_STOP: "time stop", CloseReason.STOP_OUT: "broker stop-out",
    CloseReason.MANUAL: "manual close", CloseReason.UNKNOWN: "the broker",
}


def _head(symbol: str, direction: str, ticket: int) -> str:
    return f"<b>{esc(symbol)}</b> {direction.upper()} #{ticket}"


def position_changed_text(event: PositionChanged, symbol_map: SymbolMap, source: DataSource) -> str:
    head = _head(event.symbol, event.direction.value, event.ticket)
    words = _CHANGE_WORDS[event.kind]
    if event.kind is PositionEventKind.ERROR:
        return f"⚠️ {head}: {words}: {esc(event.detail)}"
    parts = [f"{head}: {words}"]
    if event.price is not None:
        at = "to" if event.kind in (PositionEventKind.BREAKEVEN, PositionEventKind.TRAIL_MOVED,
                                    PositionEventKind.STOP_MOVED) else "at"
        parts.append(f"{at} {price_text(symbol_map, event.symbol, event.price)}")
    if event.kind in (PositionEventKind.TP1, PositionEventKind.PARTIAL_CLOSE):
        closed = f"closed {event.volume:g}" if event.volume else "closed"
        left = f", {event.remaining_volume:g} left" if event.remaining_volume is not None else ""
        parts.append(f"({closed}, P/L <b>{money_text(event.realized_pnl_account, event.currency)}</b>{left})")
    elif event.kind is PositionEventKind.FILLED and event.volume:
        parts.append(f"(volume {event.volume:g})")
    return " ".join(parts) + data_badge(source)


def position_closed_text(event: PositionClosed, symbol_map: SymbolMap, source: DataSource) -> str:
    head = _head(event.symbol, event.direction.value, event.ticket)
    by = _CLOSE_WORDS[event.reason]
    at = f" at {price_text(symbol_map, event.symbol, event.exit_price)}" if event.exit_price is not None else ""
    r = f", {event.r_multiple:+.2f} R" if event.r_multiple is not None else ""
    icon = "🟢" if event.pnl_account > 0 else "🔴" if event.pnl_account < 0 else "⚪"
    costs = [f"{name} {money_text(amount, event.currency)}" for name, amount in
             (("commission", event.commission_account), ("swap", event.swap_account)) if amount]
    included = f" (incl. {', '.join(costs)})" if costs else ""
    provisional = " <i>(provisional: waiting for the broker's closing deal)</i>" if event.provisional else ""
    return (f"{icon} {head}: closed by {by}{at}; P/L <b>{money_text(event.pnl_account, event.currency)}</b>"
            f"{included}{r}{provisional}{data_badge(source)}")


def breaker_text(event: BreakerChanged) -> str:
    if event.tripped:
        return (f"⛔ <b>Trading HALTED</b>: daily loss {event.loss_pct:.2f}% reached the limit "
                f"{event.limit_pct:g}%. New trades are refused until the next trading day; open positions are "
                f"still managed. {esc(event.reason)}")
    return f"▶️ <b>Daily-loss breaker reset</b>: {esc(event.reason)}; new trades are allowed again."


def wait_invalidated_text(event: WaitResolved) -> str:
    return (f"⏳ The waiting {event.direction.value.upper()} <b>{esc(event.symbol)}</b> signal is no longer valid: "
            f"{esc(event.reason)}. Nothing was executed.")


def feed_health_text(event: FeedHealthChanged) -> str:
    icon = {"OK": "✅", "DEGRADED": "⚠️", "STALE": "⛔"}.get(event.new_status, "ℹ️")
    return (f"{icon} Feed {esc(event.symbol or 'all symbols')}: {event.old_status} → <b>{event.new_status}</b>"
            + (f" ({esc(event.reason)})" if event.reason else ""))


def admin_note(note: str) -> str:
    return "⚠️ " + esc(note)
