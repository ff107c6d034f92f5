"""Text of the trading replies (/positions, /close, /status): every price in its symbol's digits, and
money or prices that come from simulated or replayed market data labelled as such."""

from __future__ import annotations

from core.market.symbols import SymbolMap
from core.models import AccountInfo, DataSource, Fill, Position
from handlers.html import esc

FALLBACK_SIGNIFICANT = 6  # a symbol the map does not know: six significant digits


def data_badge(source: DataSource | str | None) -> str:
    """" <b>[SIMULATED]</b>" (or REPLAY) for anything but live market data; "" for live."""
    name = source.value if isinstance(source, DataSource) else (source or DataSource.LIVE.value)
    return "" if name == DataSource.LIVE.value else f" <b>[{esc(name)}]</b>"


def price_text(symbol_map: SymbolMap, symbol: str, price: float) -> str:
    """``price`` with the symbol's own digits (EURUSD 1.08512, USDJPY 151.234, BTCUSD 65,432.10)."""
    try:
        digits = symbol_map.spec(symbol).price_digits
    except KeyError:
        return f"{price:,.{FALLBACK_SIGNIFICANT}g}"
    return f"{price:,.{digits}f}"


def render_position(p: Position, symbol_map: SymbolMap) -> str:
    def px(value: float) -> str:
        return price_text(symbol_map, p.symbol, value)

    price = px(p.current_price) if p.current_price is not None else "-"
    stops = f" SL {px(p.stop_loss)}" if p.stop_loss else ""
    stops += f" TP {px(p.take_profit)}" if p.take_profit else ""
    return (f"#{p.ticket} <b>{p.symbol}</b> {p.direction.value.upper()} {p.volume:g} @ {px(p.open_price)}"
            f" → {price}  P/L <b>{p.unrealized_pnl:+,.2f}</b>{stops}")


def render_positions(positions: list[Position], account: AccountInfo, broker_name: str, symbol_map: SymbolMap,
                     source: DataSource) -> str:
    head = (f"<b>Open positions</b>{data_badge(source)} ({esc(broker_name)}) · balance {account.balance:,.2f} · "
            f"equity {account.equity:,.2f} {esc(account.currency)}")
    if not positions:
        return head + "\nNo open positions."
    return "\n".join([head, *(render_position(p, symbol_map) for p in positions)])


def render_close(ticket: int, fill: Fill, symbol_map: SymbolMap, source: DataSource) -> str:
    return (f"Closed #{ticket} {fill.symbol} {fill.volume:g} @ {price_text(symbol_map, fill.symbol, fill.price)}: "
            f"P/L <b>{fill.realized_pnl:+,.2f}</b>{data_badge(source)}")
