"""Pure translation between our models and the MetaTrader 5 API (no terminal needed).

Constants are the exact values of the ``MetaTrader5`` package 5.0.6231 (``shared/reference/mt5.md``);
they are hard-coded because the package does not export ``SYMBOL_FILLING_*`` and ``mt5linux``
exposes them only as instance attributes. Every value put into a request is cast to the plain
Python type the C module (and mt5linux's ``repr`` transport) expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.events import CloseReason
from core.execution import (
    ClosingDeals,
    ContractSpec,
    normalize_volume,
    pending_price_problem,
    round_price,
    stops_problem,
)
from core.models import Direction, OrderIntent, OrderType, PendingOrder, Position
from core.ports import BrokerError

TRADE_ACTION_DEAL, TRADE_ACTION_PENDING, TRADE_ACTION_SLTP = 1, 5, 6
TRADE_ACTION_MODIFY, TRADE_ACTION_REMOVE = 7, 8
ORDER_TYPE_BUY, ORDER_TYPE_SELL = 0, 1
ORDER_TYPE_BUY_LIMIT, ORDER_TYPE_SELL_LIMIT, ORDER_TYPE_BUY_STOP, ORDER_TYPE_SELL_STOP = 2, 3, 4, 5
ORDER_TYPE_BUY_STOP_LIMIT, ORDER_TYPE_SELL_STOP_LIMIT = 6, 7
ORDER_FILLING_FOK, ORDER_FILLING_IOC, ORDER_FILLING_RETURN = 0, 1, 2
ORDER_TIME_GTC = 0
POSITION_TYPE_BUY, POSITION_TYPE_SELL = 0, 1
SYMBOL_FILLING_FOK, SYMBOL_FILLING_IOC = 1, 2  # bits of symbol_info().filling_mode
SYMBOL_TRADE_EXECUTION_EXCHANGE = 3
SYMBOL_TRADE_MODE_DISABLED, SYMBOL_TRADE_MODE_LONGONLY, SYMBOL_TRADE_MODE_SHORTONLY = 0, 1, 2
SYMBOL_TRADE_MODE_CLOSEONLY, SYMBOL_TRADE_MODE_FULL = 3, 4
RES_E_NOT_FOUND = -4  # last_error() when a history query finds nothing
DEAL_ENTRY_IN, DEAL_ENTRY_OUT, DEAL_ENTRY_INOUT, DEAL_ENTRY_OUT_BY = 0, 1, 2, 3
DEAL_REASON_CLIENT, DEAL_REASON_MOBILE, DEAL_REASON_WEB, DEAL_REASON_EXPERT = 0, 1, 2, 3
DEAL_REASON_SL, DEAL_REASON_TP, DEAL_REASON_SO = 4, 5, 6
# why the server closed (ENUM_DEAL_REASON); DEAL_REASON_EXPERT (our API) is absent: we know why
DEAL_CLOSE_REASONS = {DEAL_REASON_SL: CloseReason.STOP_LOSS, DEAL_REASON_TP: CloseReason.TAKE_PROFIT,
                      DEAL_REASON_SO: CloseReason.STOP_OUT, DEAL_REASON_CLIENT: CloseReason.MANUAL,
                      DEAL_REASON_MOBILE: CloseReason.MANUAL, DEAL_REASON_WEB: CloseReason.MANUAL}

TRADE_RETCODE_REQUOTE, TRADE_RETCODE_PLACED, TRADE_RETCODE_DONE = 10004, 10008, 10009
TRADE_RETCODE_DONE_PARTIAL, TRADE_RETCODE_TIMEOUT, TRADE_RETCODE_PRICE_CHANGED = 10010, 10012, 10020
TRADE_RETCODE_PRICE_OFF, TRADE_RETCODE_NO_CHANGES, TRADE_RETCODE_INVALID_FILL = 10021, 10025, 10030
TRADE_RETCODE_CONNECTION = 10031

# retcode -> (constant name without TRADE_RETCODE_, what a trader reads). A table, not logic.
RETCODES: dict[int, tuple[str, str]] = {
    10004: ("REQUOTE", "the broker requoted the price"),
    10006: ("REJECT", "the broker rejected the request"),
    10007: ("CANCEL", "the request was cancelled by the trader"),
    10008: ("PLACED", "the order was placed"),
    10009: ("DONE", "done"),
    10010: ("DONE_PARTIAL", "only part of the volume was filled"),
    10011: ("ERROR", "the broker failed to process the request"),
    10012: ("TIMEOUT", "the request timed out; its outcome is unknown until positions are checked"),
    10013: ("INVALID", "the broker says the request is invalid"),
    10014: ("INVALID_VOLUME", "invalid volume (check the symbol's minimum, maximum and step)"),
    10015: ("INVALID_PRICE", "invalid price in the request"),
    10016: ("INVALID_STOPS",
            "invalid stops: stop loss or take profit too close to the price or on the wrong side"),
    10017: ("TRADE_DISABLED", "trading is disabled for this symbol or account"),
    10018: ("MARKET_CLOSED", "the market is closed"),
    10019: ("NO_MONEY", "not enough money to do this"),
    10020: ("PRICE_CHANGED", "the price changed"),
    10021: ("PRICE_OFF", "there are no quotes to process the request"),
    10022: ("INVALID_EXPIRATION", "invalid order expiration"),
    10023: ("ORDER_CHANGED", "the order state changed"),
    10024: ("TOO_MANY_REQUESTS", "too many requests; try again shortly"),
    10025: ("NO_CHANGES", "nothing to change"),
    10026: ("SERVER_DISABLES_AT", "autotrading is disabled by the broker's server"),
    10027: ("CLIENT_DISABLES_AT", "autotrading is disabled in the terminal (press Algo Trading)"),
    10028: ("LOCKED", "the request is locked for processing"),
    10029: ("FROZEN", "the order or position is frozen (too close to the market to change)"),
    10030: ("INVALID_FILL", "the filling mode is not supported for this symbol"),
    10031: ("CONNECTION", "no connection to the trade server"),
    10032: ("ONLY_REAL", "this is allowed only on real accounts"),
    10033: ("LIMIT_ORDERS", "the limit on pending orders is reached"),
    10034: ("LIMIT_VOLUME", "the volume limit for this symbol is reached"),
    10035: ("INVALID_ORDER", "invalid or prohibited order type"),
    10036: ("POSITION_CLOSED", "the position is already closed"),
    10038: ("INVALID_CLOSE_VOLUME", "the close volume is larger than the position"),
    10039: ("CLOSE_ORDER_EXIST", "a close order for this position already exists"),
    10040: ("LIMIT_POSITIONS", "the limit on open positions is reached"),
    10041: ("REJECT_CANCEL", "the pending order's activation was rejected and the order cancelled"),
    10042: ("LONG_ONLY", "only long positions are allowed for this symbol"),
    10043: ("SHORT_ONLY", "only short positions are allowed for this symbol"),
    10044: ("CLOSE_ONLY", "only closing positions is allowed for this symbol"),
    10045: ("FIFO_CLOSE", "positions must be closed in FIFO order"),
}
SUCCESS = frozenset({TRADE_RETCODE_PLACED, TRADE_RETCODE_DONE, TRADE_RETCODE_DONE_PARTIAL,
                     TRADE_RETCODE_NO_CHANGES})
RETRY_WITH_FRESH_PRICE = frozenset({TRADE_RETCODE_REQUOTE, TRADE_RETCODE_PRICE_CHANGED,
                                    TRADE_RETCODE_PRICE_OFF})
UNKNOWN_OUTCOME = frozenset({TRADE_RETCODE_TIMEOUT, TRADE_RETCODE_CONNECTION})
RETRYABLE = RETRY_WITH_FRESH_PRICE | UNKNOWN_OUTCOME | {10024, 10028}
COMMENT_PREFIX = "mb:"

_PENDING_TYPES = {
    (Direction.LONG, OrderType.LIMIT): ORDER_TYPE_BUY_LIMIT,
    (Direction.SHORT, OrderType.LIMIT): ORDER_TYPE_SELL_LIMIT,
    (Direction.LONG, OrderType.STOP): ORDER_TYPE_BUY_STOP,
    (Direction.SHORT, OrderType.STOP): ORDER_TYPE_SELL_STOP,
}
_ORDER_KINDS = {value: key for key, value in _PENDING_TYPES.items()} | {
    ORDER_TYPE_BUY_STOP_LIMIT: (Direction.LONG, OrderType.STOP),
    ORDER_TYPE_SELL_STOP_LIMIT: (Direction.SHORT, OrderType.STOP),
}


# ---------------------------------------------------------------------------- messages


def retcode_message(code: int, comment: str = "") -> str:
    """A sentence for a trade server return code, with the code and the broker's own comment."""
    name, text = RETCODES.get(code, ("UNKNOWN", "the broker returned an unknown code"))
    note = f"; broker says: {comment}" if comment and comment.lower() not in text.lower() else ""
    return f"{text} (MT5 {code} {name}{note})"


def error_for_retcode(what: str, code: int, comment: str = "") -> BrokerError:
    return BrokerError(f"{what} failed: {retcode_message(code, comment)}", code=code,
                       retryable=code in RETRYABLE)


def comment_for(client_id: str, max_chars: int = 31) -> str:
    """The order comment carrying our approval id, cut to the broker's comment length."""
    return f"{COMMENT_PREFIX}{client_id}"[:max_chars]


def client_id_from_comment(comment: str) -> str:
    return comment[len(COMMENT_PREFIX):] if comment.startswith(COMMENT_PREFIX) else ""


def as_dict(record: Any) -> dict[str, Any]:
    """A named tuple (native package), an RPyC proxy of one, or a dict, as a plain dict."""
    if isinstance(record, Mapping):
        return dict(record)
    return dict(record._asdict())


# ---------------------------------------------------------------------------- symbols


@dataclass(frozen=True, slots=True)
class Mt5Symbol:
    """A trader symbol resolved to the broker's name, with its trading rules."""

    spec: ContractSpec  # spec.symbol is the trader symbol
    name: str  # the broker's name, e.g. "XAUUSDm"
    filling_flags: int
    execution_mode: int
    trade_mode: int
    visible: bool


def symbol_from_info(trader_symbol: str, info: Any) -> Mt5Symbol:
    row = as_dict(info)
    spec = ContractSpec(
        symbol=trader_symbol, digits=int(row["digits"]), tick_size=float(row.get("trade_tick_size") or 0.0),
        contract_size=float(row["trade_contract_size"]), volume_min=float(row["volume_min"]),
        volume_max=float(row["volume_max"]), volume_step=float(row["volume_step"]),
        stops_level_points=int(row.get("trade_stops_level", 0)),
        freeze_level_points=int(row.get("trade_freeze_level", 0)))
    return Mt5Symbol(spec=spec, name=str(row["name"]), filling_flags=int(row.get("filling_mode", 0)),
                     execution_mode=int(row.get("trade_exemode", 2)),
                     trade_mode=int(row.get("trade_mode", SYMBOL_TRADE_MODE_FULL)),
                     visible=bool(row.get("visible", True)))


def filling_candidates(symbol: Mt5Symbol, *, pending: bool) -> list[int]:
    """Filling policies to try, in order, from the symbol's ``filling_mode`` flags.

    Market orders: FOK, then IOC, as the flags allow; RETURN when the symbol uses exchange
    execution or reports no flags. Pending orders try RETURN first.
    """
    allowed = []
    if symbol.filling_flags & SYMBOL_FILLING_FOK:
        allowed.append(ORDER_FILLING_FOK)
    if symbol.filling_flags & SYMBOL_FILLING_IOC:
        allowed.append(ORDER_FILLING_IOC)
    if pending:
        return [ORDER_FILLING_RETURN, *allowed]
    if symbol.execution_mode == SYMBOL_TRADE_EXECUTION_EXCHANGE or not allowed:
        allowed.append(ORDER_FILLING_RETURN)
    return allowed


def trade_mode_problem(symbol: Mt5Symbol, direction: Direction) -> str | None:
    """Why the symbol's trade mode forbids opening ``direction``, or None."""
    mode, name = symbol.trade_mode, symbol.spec.symbol
    if mode == SYMBOL_TRADE_MODE_DISABLED:
        return f"trading {name} is disabled at the broker"
    if mode == SYMBOL_TRADE_MODE_CLOSEONLY:
        return f"{name} is close-only at the broker: no new positions"
    if mode == SYMBOL_TRADE_MODE_LONGONLY and direction is Direction.SHORT:
        return f"{name} is long-only at the broker"
    if mode == SYMBOL_TRADE_MODE_SHORTONLY and direction is Direction.LONG:
        return f"{name} is short-only at the broker"
    return None


# ---------------------------------------------------------------------------- prices and stops


def adjusted_stops(direction: Direction, bid: float, ask: float, stop_loss: float | None,
                   take_profit: float | None, spec: ContractSpec) -> tuple[float | None, float | None]:
    """SL/TP moved out to the broker's stops level and snapped to ticks away from the market.

    A long is checked against the bid (it closes there), a short against the ask. Stops on the
    wrong side raise ValueError; stops merely too close are widened to the minimum distance.
    """
    problem = stops_problem(direction, bid, ask, stop_loss, take_profit)
    if problem:
        raise ValueError(f"invalid stops: {problem}")
    distance = spec.min_stop_distance
    if direction is Direction.LONG:
        sl = None if stop_loss is None else round_price(min(stop_loss, bid - distance), spec, "down")
        tp = None if take_profit is None else round_price(max(take_profit, bid + distance), spec, "up")
    else:
        sl = None if stop_loss is None else round_price(max(stop_loss, ask + distance), spec, "up")
        tp = None if take_profit is None else round_price(min(take_profit, ask - distance), spec, "down")
    return sl, tp


def _price(value: float | None) -> float:
    return 0.0 if value is None else float(value)


# ---------------------------------------------------------------------------- requests


def to_mt5_request(intent: OrderIntent, symbol: Mt5Symbol, bid: float, ask: float, *, magic: int,
                   comment: str, filling: int) -> dict[str, Any]:
    """The ``order_send`` dict opening ``intent`` at this bid/ask; ValueError says what is wrong."""
    spec = symbol.spec
    volume = normalize_volume(intent.volume, spec)
    common = {"symbol": symbol.name, "volume": float(volume), "magic": int(magic), "comment": str(comment),
              "type_filling": int(filling), "type_time": ORDER_TIME_GTC}
    if intent.order_type is OrderType.MARKET:
        price = ask if intent.direction is Direction.LONG else bid
        sl, tp = adjusted_stops(intent.direction, bid, ask, intent.stop_loss, intent.take_profit, spec)
        order_type = ORDER_TYPE_BUY if intent.direction is Direction.LONG else ORDER_TYPE_SELL
        return {"action": TRADE_ACTION_DEAL, "type": order_type, "price": float(round_price(price, spec)),
                "sl": _price(sl), "tp": _price(tp), "deviation": int(intent.max_deviation_points), **common}
    if intent.price is None or intent.price <= 0:
        raise ValueError(f"a {intent.order_type} order needs a positive price")
    price = round_price(intent.price, spec)
    problem = pending_price_problem(intent.direction, intent.order_type, price, bid, ask,
                                    spec.min_stop_distance)
    if problem:
        raise ValueError(problem)
    sl, tp = adjusted_stops(intent.direction, price, price, intent.stop_loss, intent.take_profit, spec)
    return {"action": TRADE_ACTION_PENDING, "type": _PENDING_TYPES[(intent.direction, intent.order_type)],
            "price": float(price), "sl": _price(sl), "tp": _price(tp), **common}


def close_request(symbol: Mt5Symbol, position_ticket: int, direction: Direction, volume: float,
                  bid: float, ask: float, *, deviation_points: int, magic: int, comment: str,
                  filling: int) -> dict[str, Any]:
    """A deal in the opposite direction for ``position_ticket`` (closes it fully or partly)."""
    long = direction is Direction.LONG
    return {"action": TRADE_ACTION_DEAL, "symbol": symbol.name, "volume": float(volume),
            "type": ORDER_TYPE_SELL if long else ORDER_TYPE_BUY, "position": int(position_ticket),
            "price": float(round_price(bid if long else ask, symbol.spec)),
            "deviation": int(deviation_points),
            "magic": int(magic), "comment": str(comment), "type_filling": int(filling),
            "type_time": ORDER_TIME_GTC}


def sltp_request(symbol: Mt5Symbol, position_ticket: int, stop_loss: float | None,
                 take_profit: float | None, *, magic: int) -> dict[str, Any]:
    return {"action": TRADE_ACTION_SLTP, "symbol": symbol.name, "position": int(position_ticket),
            "sl": _price(stop_loss), "tp": _price(take_profit), "magic": int(magic)}


def modify_order_request(order_ticket: int, price: float, stop_loss: float | None,
                         take_profit: float | None) -> dict[str, Any]:
    return {"action": TRADE_ACTION_MODIFY, "order": int(order_ticket), "price": float(price),
            "sl": _price(stop_loss), "tp": _price(take_profit), "type_time": ORDER_TIME_GTC}


def remove_request(order_ticket: int) -> dict[str, Any]:
    return {"action": TRADE_ACTION_REMOVE, "order": int(order_ticket)}


# ---------------------------------------------------------------------------- results


def _stop(value: float) -> float | None:
    return float(value) or None


def position_from_mt5(record: Any, trader_symbol: str, time_offset_ms: int = 0) -> Position:
    row = as_dict(record)
    return Position(
        ticket=int(row["ticket"]), symbol=trader_symbol,
        direction=Direction.LONG if row["type"] == POSITION_TYPE_BUY else Direction.SHORT,
        volume=float(row["volume"]), open_price=float(row["price_open"]),
        open_ts_ms=int(row["time_msc"]) - time_offset_ms, stop_loss=_stop(row["sl"]),
        take_profit=_stop(row["tp"]),
        current_price=float(row["price_current"]),
        unrealized_pnl=float(row["profit"]) + float(row.get("swap", 0.0)),
        client_id=client_id_from_comment(str(row.get("comment", ""))))


def order_from_mt5(record: Any, trader_symbol: str) -> PendingOrder | None:
    """A pending order, or None for order types we do not model (e.g. close-by)."""
    row = as_dict(record)
    kind = _ORDER_KINDS.get(int(row["type"]))
    if kind is None:
        return None
    return PendingOrder(ticket=int(row["ticket"]), symbol=trader_symbol, direction=kind[0],
                        order_type=kind[1],
                        volume=float(row["volume_current"]), price=float(row["price_open"]),
                        stop_loss=_stop(row["sl"]), take_profit=_stop(row["tp"]),
                        client_id=client_id_from_comment(str(row.get("comment", ""))))


def deals_pnl(deals: Any) -> float | None:
    """Realised P/L of deals (profit + commission + swap + fee), None when there are none."""
    rows = [as_dict(deal) for deal in deals or ()]
    return _money(rows) if rows else None


def closing_deals_from_mt5(deals: Any, ticket: int, time_offset_ms: int = 0) -> ClosingDeals | None:
    """A position's close from ``history_deals_get(position=ticket)``; None before a closing deal."""
    rows = [as_dict(deal) for deal in deals or ()]
    rows = [r for r in rows if int(r.get("position_id", ticket)) == int(ticket)]
    outs = sorted((r for r in rows if int(r["entry"]) in (DEAL_ENTRY_OUT, DEAL_ENTRY_OUT_BY)),
                  key=lambda r: (int(r["time_msc"]), int(r["ticket"])))
    if not outs:
        return None
    last = outs[-1]
    final = [r for r in outs if r["order"] == last["order"]]
    opened = sum(float(r["volume"]) for r in rows if int(r["entry"]) == DEAL_ENTRY_IN)
    closed = sum(float(r["volume"]) for r in outs)
    return ClosingDeals(
        ticket=int(ticket), exit_price=float(last["price"]), volume=sum(float(r["volume"]) for r in final),
        pnl_account=_money(rows), final_pnl_account=_money(final),
        commission_account=sum(float(r.get("commission", 0)) + float(r.get("fee", 0)) for r in rows),
        swap_account=sum(float(r.get("swap", 0)) for r in rows),
        reason=DEAL_CLOSE_REASONS.get(int(last.get("reason", DEAL_REASON_EXPERT))),
        close_ts_ms=int(last["time_msc"]) - time_offset_ms, complete=closed >= opened - 1e-9)


def _money(rows: list[dict[str, Any]]) -> float:
    return sum(float(r.get("profit", 0)) + float(r.get("commission", 0)) + float(r.get("swap", 0))
               + float(r.get("fee", 0)) for r in rows)
