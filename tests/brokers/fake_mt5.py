"""A fake ``MetaTrader5`` module: the documented API, constants, records and retcodes, in memory.

A test double at the package boundary (shared/reference/mt5.md): a hedging account whose server
checks what a real one checks (volume step/min/max, prices on the tick grid, stops level, filling
mode, trade mode, deviation, margin), plus programmable failures:

    fake = FakeMt5()
    fake.add_symbol("EURUSD", bid=1.1, ask=1.1001)
    fake.fail_next(10004, move=0.0002)     # one requote, after which the price has moved
    fake.break_connection()                 # calls fail with -10004 until initialize() again

Functions return None / False on failure with the reason in ``last_error()``, never raise, and
check argument types the way the C module does (a non-float volume -> None, (-2, ...)).
Calls never overlap in a correct client; ``overlapping_calls`` counts those that did.
"""

from __future__ import annotations

import fnmatch
import functools
import threading
import time
from collections import deque, namedtuple
from collections.abc import Callable
from typing import Any, TypeVar

from tests.brokers.fake_mt5_server import FakeTradeServer

F = TypeVar("F", bound=Callable[..., Any])

SymbolInfo = namedtuple("SymbolInfo", (
    "name description path currency_base currency_profit currency_margin digits point trade_tick_size "
    "trade_tick_value trade_contract_size volume_min volume_max volume_step volume_limit filling_mode "
    "trade_exemode trade_mode trade_stops_level trade_freeze_level spread bid ask visible select"))
Tick = namedtuple("Tick", "time bid ask last volume time_msc flags volume_real")
TradeRequest = namedtuple("TradeRequest", (
    "action magic order symbol volume price stoplimit sl tp deviation type type_filling type_time "
    "expiration comment position position_by"))
OrderSendResult = namedtuple("OrderSendResult", (
    "retcode deal order volume price bid ask comment request_id retcode_external request"))
TradePosition = namedtuple("TradePosition", (
    "ticket time time_msc time_update time_update_msc type magic identifier reason volume price_open sl "
    "tp price_current swap profit symbol comment external_id"))
TradeOrder = namedtuple("TradeOrder", (
    "ticket time_setup time_setup_msc time_done time_done_msc time_expiration type type_time type_filling "
    "state magic position_id position_by_id reason volume_initial volume_current price_open sl tp "
    "price_current price_stoplimit symbol comment external_id"))
TradeDeal = namedtuple("TradeDeal", (
    "ticket order time time_msc type entry magic position_id reason volume price commission swap profit "
    "fee symbol comment external_id"))
AccountInfo = namedtuple("AccountInfo", (
    "login trade_mode leverage limit_orders margin_so_mode trade_allowed trade_expert margin_mode "
    "currency_digits fifo_close balance credit profit equity margin margin_free margin_level "
    "margin_so_call margin_so_so margin_initial margin_maintenance assets liabilities commission_blocked "
    "name server currency company"))
TerminalInfo = namedtuple("TerminalInfo", (
    "connected trade_allowed tradeapi_disabled dlls_allowed build maxbars ping_last company name path "
    "data_path"))

_MESSAGES = {10008: "Order placed", 10009: "Request executed", 10025: "No changes"}
COMMENT_LIMIT = 31


def _api(method: F) -> F:
    """Record the call, detect overlapping calls, and fail everything while disconnected."""

    @functools.wraps(method)
    def wrapper(self: FakeMt5, *args: Any, **kwargs: Any) -> Any:
        with self._guard:
            self._active += 1
            if self._active > 1:
                self.overlapping_calls += 1
        try:
            self.calls.append(method.__name__)
            self.thread_ids.add(threading.get_ident())
            if self.call_delay_s:
                time.sleep(self.call_delay_s)
            if self.broken and method.__name__ not in ("initialize", "last_error", "shutdown"):
                self._error = (-10004, "No IPC connection")
                return None
            return method(self, *args, **kwargs)
        finally:
            with self._guard:
                self._active -= 1

    return wrapper  # type: ignore[return-value]


class FakeMt5(FakeTradeServer):
    """The MetaTrader5 module's surface, over one in-memory hedging account (money in ``currency``;
    what the server does by itself is in ``FakeTradeServer``)."""

    RES_S_OK, RES_E_FAIL, RES_E_INVALID_PARAMS, RES_E_AUTH_FAILED = 1, -1, -2, -6
    RES_E_INTERNAL_FAIL_CONNECT = -10004
    TRADE_ACTION_DEAL, TRADE_ACTION_PENDING, TRADE_ACTION_SLTP, TRADE_ACTION_MODIFY = 1, 5, 6, 7
    TRADE_ACTION_REMOVE, TRADE_ACTION_CLOSE_BY = 8, 10
    ORDER_TYPE_BUY, ORDER_TYPE_SELL, ORDER_TYPE_BUY_LIMIT, ORDER_TYPE_SELL_LIMIT = 0, 1, 2, 3
    ORDER_TYPE_BUY_STOP, ORDER_TYPE_SELL_STOP = 4, 5
    ORDER_FILLING_FOK, ORDER_FILLING_IOC, ORDER_FILLING_RETURN, ORDER_FILLING_BOC = 0, 1, 2, 3
    ORDER_TIME_GTC = 0
    POSITION_TYPE_BUY, POSITION_TYPE_SELL = 0, 1
    SYMBOL_TRADE_EXECUTION_REQUEST, SYMBOL_TRADE_EXECUTION_INSTANT = 0, 1
    SYMBOL_TRADE_EXECUTION_MARKET, SYMBOL_TRADE_EXECUTION_EXCHANGE = 2, 3
    SYMBOL_TRADE_MODE_DISABLED, SYMBOL_TRADE_MODE_LONGONLY, SYMBOL_TRADE_MODE_SHORTONLY = 0, 1, 2
    SYMBOL_TRADE_MODE_CLOSEONLY, SYMBOL_TRADE_MODE_FULL = 3, 4
    TRADE_RETCODE_REQUOTE, TRADE_RETCODE_PLACED, TRADE_RETCODE_DONE = 10004, 10008, 10009
    TRADE_RETCODE_INVALID, TRADE_RETCODE_INVALID_VOLUME, TRADE_RETCODE_INVALID_PRICE = 10013, 10014, 10015
    TRADE_RETCODE_INVALID_STOPS, TRADE_RETCODE_TRADE_DISABLED = 10016, 10017
    TRADE_RETCODE_MARKET_CLOSED = 10018
    TRADE_RETCODE_NO_MONEY, TRADE_RETCODE_PRICE_CHANGED, TRADE_RETCODE_PRICE_OFF = 10019, 10020, 10021
    TRADE_RETCODE_NO_CHANGES, TRADE_RETCODE_INVALID_FILL = 10025, 10030
    TRADE_RETCODE_POSITION_CLOSED, TRADE_RETCODE_INVALID_CLOSE_VOLUME = 10036, 10038
    TRADE_RETCODE_LONG_ONLY, TRADE_RETCODE_SHORT_ONLY, TRADE_RETCODE_CLOSE_ONLY = 10042, 10043, 10044

    def __init__(self, *, balance: float = 10_000.0, leverage: int = 100, currency: str = "USD",
                 login: int = 5_001, ts_ms: int = 1_700_000_000_000) -> None:
        self.balance, self.leverage, self.currency, self.login_id = balance, leverage, currency, login
        self.ts_ms = ts_ms
        self.symbols: dict[str, dict[str, Any]] = {}
        self.ticks: dict[str, tuple[float, float]] = {}
        self.positions: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.deals: list[TradeDeal] = []
        self.requests: list[dict[str, Any]] = []  # every order_send request that passed type checks
        self.calls: list[str] = []
        self.thread_ids: set[int] = set()
        self.initialize_args: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.initialized = False
        self.broken = False
        self.terminal_trade_allowed = True
        self.initialize_error: tuple[int, str] | None = None
        self.call_delay_s = 0.0
        self.before_send: Callable[[], None] | None = None  # runs once, at the next order_send
        self.overlapping_calls = 0
        self._scripted: deque[tuple[int, str, float, bool]] = deque()
        self._error: tuple[int, str] = (1, "Success")
        self._next_ticket = 50_000_001
        self._guard = threading.Lock()
        self._active = 0
        self._server_init()

    # ------------------------------------------------------------------ test controls

    def add_symbol(self, name: str, *, bid: float, ask: float, digits: int = 5,
                   contract_size: float = 100_000.0,
                   volume_min: float = 0.01, volume_max: float = 500.0, volume_step: float = 0.01,
                   stops_level: int = 0, freeze_level: int = 0, filling_mode: int = 3, exemode: int = 2,
                   trade_mode: int = 4, visible: bool = False, tick_size: float | None = None,
                   currency_profit: str | None = None) -> None:
        """A symbol; its profit currency is letters four to six of a pair's name, else the account's."""
        point = 10.0 ** -digits
        profit = currency_profit or (name[3:6] if len(name) >= 6 else self.currency)
        self.symbols[name] = dict(
            name=name, description=name, path=f"Forex\\{name}", currency_base=name[:3],
            currency_profit=profit,
            currency_margin=name[:3], digits=digits, point=point, trade_tick_size=tick_size or point,
            trade_tick_value=1.0, trade_contract_size=contract_size, volume_min=volume_min,
            volume_max=volume_max,
            volume_step=volume_step, volume_limit=0.0, filling_mode=filling_mode, trade_exemode=exemode,
            trade_mode=trade_mode, trade_stops_level=stops_level, trade_freeze_level=freeze_level, spread=0,
            bid=bid, ask=ask, visible=visible, select=visible)
        self.ticks[name] = (bid, ask)

    def set_tick(self, name: str, bid: float, ask: float) -> None:
        self.ticks[name] = (bid, ask)

    def fail_next(self, retcode: int, *, times: int = 1, comment: str = "", move: float = 0.0,
                  execute: bool = False) -> None:
        """The next ``times`` order_send calls return ``retcode``; each first moves the price by ``move``.

        With ``execute`` the request is carried out anyway (a timeout after the server acted).
        """
        self._scripted.extend([(retcode, comment, move, execute)] * times)

    def break_connection(self) -> None:
        self.broken = True

    # ------------------------------------------------------------------ connection

    @_api
    def initialize(self, path: str | None = None, *, login: int | None = None, password: str | None = None,
                   server: str | None = None, timeout: int = 60_000, portable: bool = False) -> bool:
        self.initialize_args.append(((path,) if path else (), {"login": login, "password": password,
                                                                "server": server, "timeout": timeout}))
        if self.initialize_error is not None:
            self._error = self.initialize_error
            return False
        if login is not None and login != self.login_id:
            self._error = (self.RES_E_AUTH_FAILED, "Authorization failed")
            return False
        self.initialized, self.broken = True, False
        self._error = (1, "Success")
        return True

    @_api
    def shutdown(self) -> None:
        self.initialized = False

    @_api
    def last_error(self) -> tuple[int, str]:
        return self._error

    @_api
    def version(self) -> tuple[int, int, str]:
        return (500, 4620, "1 Nov 2026")

    @_api
    def terminal_info(self) -> TerminalInfo | None:
        if not self._ready():
            return None
        return TerminalInfo(True, self.terminal_trade_allowed, False, False, 4620, 100_000, 20, "Fake Broker",
                            "MetaTrader 5", "C:\\MT5", "C:\\MT5\\data")

    @_api
    def account_info(self) -> AccountInfo | None:
        return self._account() if self._ready() else None

    def _account(self) -> AccountInfo:
        profit = sum(self._profit(p) for p in self.positions.values())
        margin = sum(self.margin_of(self.symbols[p["symbol"]], p["volume"], p["price_open"])
                     for p in self.positions.values())
        equity = self.balance + profit
        return AccountInfo(self.login_id, 0, self.leverage, 200, 0, True, True, 2, 2, False, self.balance,
                           0.0,
                           profit, equity, margin, equity - margin, equity / margin * 100 if margin else 0.0,
                           50.0, 30.0, 0.0, 0.0, 0.0, 0.0, 0.0, "Fake Trader", "Fake-Demo", self.currency,
                           "Fake Broker")

    # ------------------------------------------------------------------ symbols

    @_api
    def symbol_info(self, symbol: str) -> Any:
        if not self._ready():
            return None
        row = self.symbols.get(symbol)
        if row is None:
            self._error = (-4, "Terminal: Not found")
            return None
        return SymbolInfo(**row)

    @_api
    def symbols_get(self, group: str = "*") -> tuple[SymbolInfo, ...] | None:
        if not self._ready():
            return None
        chosen: list[str] = []
        for mask in (m.strip() for m in group.split(",")):
            if mask.startswith("!"):
                chosen = [n for n in chosen if not fnmatch.fnmatchcase(n, mask[1:])]
            else:
                chosen += [n for n in self.symbols if fnmatch.fnmatchcase(n, mask) and n not in chosen]
        return tuple(SymbolInfo(**self.symbols[n]) for n in chosen)

    @_api
    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        if not self._ready() or symbol not in self.symbols:
            return False
        self.symbols[symbol].update(visible=enable, select=enable)
        return True

    @_api
    def symbol_info_tick(self, symbol: str) -> Tick | None:
        if not self._ready() or symbol not in self.symbols or not self.symbols[symbol]["visible"]:
            return None
        bid, ask = self.ticks[symbol]
        return Tick(self.ts_ms // 1000, bid, ask, 0.0, 0, self.ts_ms, 6, 0.0)

    # ------------------------------------------------------------------ state

    @_api
    def positions_get(self, symbol: str | None = None, group: str | None = None,
                      ticket: int | None = None) -> tuple[TradePosition, ...] | None:
        if not self._ready():
            return None
        rows = [p for p in self.positions.values() if _matches(p, symbol, group, ticket)]
        return tuple(self._position_record(p) for p in rows)

    @_api
    def orders_get(self, symbol: str | None = None, group: str | None = None,
                   ticket: int | None = None) -> tuple[TradeOrder, ...] | None:
        if not self._ready():
            return None
        chosen = [o for o in self.orders.values() if _matches(o, symbol, group, ticket)]
        return tuple(self._order_record(o) for o in chosen)

    @_api
    def history_deals_get(self, *args: Any, ticket: int | None = None, position: int | None = None,
                          group: str | None = None) -> tuple[TradeDeal, ...] | None:
        if not self._ready():
            return None
        deals = self._visible_deals()
        if ticket is not None:
            return tuple(d for d in deals if d.order == ticket)
        if position is not None:
            return tuple(d for d in deals if d.position_id == position)
        return tuple(deals)

    # ------------------------------------------------------------------ trading

    @_api
    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        if not self._ready():
            return None
        bad = _type_problem(request)
        if bad:
            self._error = (self.RES_E_INVALID_PARAMS, bad)
            return None
        self.requests.append(dict(request))
        if self.before_send is not None:
            hook, self.before_send = self.before_send, None
            hook()
        if self._scripted:
            code, comment, move, execute = self._scripted.popleft()
            if execute:
                self._execute(request)
            if move and request.get("symbol") in self.ticks:
                bid, ask = self.ticks[request["symbol"]]
                self.ticks[request["symbol"]] = (bid + move, ask + move)
            return self._result(request, code, comment=comment,
                                bid=self.ticks.get(request.get("symbol"), (0, 0))[0],
                                ask=self.ticks.get(request.get("symbol"), (0, 0))[1])
        return self._execute(request)

    def _execute(self, request: dict[str, Any]) -> OrderSendResult:
        handler = {self.TRADE_ACTION_DEAL: self._deal, self.TRADE_ACTION_PENDING: self._pending,
                   self.TRADE_ACTION_SLTP: self._sltp, self.TRADE_ACTION_MODIFY: self._modify,
                   self.TRADE_ACTION_REMOVE: self._remove}.get(request["action"])
        if handler is None:
            return self._result(request, self.TRADE_RETCODE_INVALID)
        return handler(request)

    def _deal(self, request: dict[str, Any]) -> OrderSendResult:
        symbol = self.symbols.get(request["symbol"])
        if symbol is None or not symbol["visible"]:
            return self._result(request, self.TRADE_RETCODE_PRICE_OFF)
        buy = request["type"] == self.ORDER_TYPE_BUY
        closing = request.get("position", 0)
        code = (self._trade_mode_code(symbol, buy, closing) or self._volume_code(symbol, request["volume"])
                or self._filling_code(symbol, request["type_filling"], pending=False))
        if code:
            return self._result(request, code)
        bid, ask = self.ticks[symbol["name"]]
        market = ask if buy else bid
        if not _on_grid(request["price"], symbol["point"]):
            return self._result(request, self.TRADE_RETCODE_INVALID_PRICE)
        if abs(request["price"] - market) > request.get("deviation", 0) * symbol["point"] + 1e-12:
            return self._result(request, self.TRADE_RETCODE_REQUOTE, bid=bid, ask=ask)
        if closing:
            return self._close(request, symbol, market)
        if not self._stops_ok(symbol, buy, bid, ask, request.get("sl", 0.0), request.get("tp", 0.0)):
            return self._result(request, self.TRADE_RETCODE_INVALID_STOPS)
        needed = self.margin_of(symbol, request["volume"], market)
        if needed > self._account().margin_free:
            return self._result(request, self.TRADE_RETCODE_NO_MONEY)
        ticket = self._ticket()
        self.positions[ticket] = dict(
            ticket=ticket, time_msc=self.ts_ms, type=0 if buy else 1, magic=request.get("magic", 0),
            volume=request["volume"], price_open=market, sl=request.get("sl", 0.0), tp=request.get("tp", 0.0),
            symbol=symbol["name"], comment=request.get("comment", "")[:COMMENT_LIMIT])
        deal = self._add_deal(ticket, ticket, request, market, self.DEAL_ENTRY_IN, 0.0)
        return self._result(request, self.TRADE_RETCODE_DONE, deal=deal, order=ticket,
                            volume=request["volume"],
                            price=market, bid=bid, ask=ask)

    def _close(self, request: dict[str, Any], symbol: dict[str, Any], market: float) -> OrderSendResult:
        position = self.positions.get(request["position"])
        if position is None:
            return self._result(request, self.TRADE_RETCODE_POSITION_CLOSED)
        if (request["type"] == self.ORDER_TYPE_BUY) == (position["type"] == self.POSITION_TYPE_BUY):
            return self._result(request, self.TRADE_RETCODE_INVALID)
        if request["volume"] > position["volume"] + 1e-9:
            return self._result(request, self.TRADE_RETCODE_INVALID_CLOSE_VOLUME)
        profit = self.profit_of(position, market, request["volume"])
        position["volume"] = round(position["volume"] - request["volume"], 8)
        if position["volume"] <= 1e-9:
            del self.positions[position["ticket"]]
        order = self._ticket()
        deal = self._add_deal(order, position["ticket"], request, market, self.DEAL_ENTRY_OUT, profit)
        return self._result(request, self.TRADE_RETCODE_DONE, deal=deal, order=order,
                            volume=request["volume"],
                            price=market)

    def _pending(self, request: dict[str, Any]) -> OrderSendResult:
        symbol = self.symbols.get(request["symbol"])
        if symbol is None or not symbol["visible"]:
            return self._result(request, self.TRADE_RETCODE_PRICE_OFF)
        kind = request["type"]
        buy = kind in (self.ORDER_TYPE_BUY_LIMIT, self.ORDER_TYPE_BUY_STOP)
        code = (self._trade_mode_code(symbol, buy, 0) or self._volume_code(symbol, request["volume"])
                or self._filling_code(symbol, request["type_filling"], pending=True))
        if code:
            return self._result(request, code)
        price = request["price"]
        bid, ask = self.ticks[symbol["name"]]
        distance = symbol["trade_stops_level"] * symbol["point"]
        gaps = {self.ORDER_TYPE_BUY_LIMIT: ask - price, self.ORDER_TYPE_BUY_STOP: price - ask,
                self.ORDER_TYPE_SELL_LIMIT: price - bid, self.ORDER_TYPE_SELL_STOP: bid - price}
        too_close = kind in gaps and gaps[kind] < max(distance, symbol["point"]) - 1e-12
        if kind not in gaps or too_close or not _on_grid(price, symbol["point"]):
            return self._result(request, self.TRADE_RETCODE_INVALID_PRICE)
        if not self._stops_ok(symbol, buy, price, price, request.get("sl", 0.0), request.get("tp", 0.0)):
            return self._result(request, self.TRADE_RETCODE_INVALID_STOPS)
        ticket = self._ticket()
        self.orders[ticket] = dict(ticket=ticket, time_setup_msc=self.ts_ms, type=kind,
                                   magic=request.get("magic", 0),
                                   volume_current=request["volume"], price_open=price,
                                   sl=request.get("sl", 0.0),
                                   tp=request.get("tp", 0.0), symbol=symbol["name"],
                                   type_filling=request["type_filling"],
                                   comment=request.get("comment", "")[:COMMENT_LIMIT])
        return self._result(request, self.TRADE_RETCODE_PLACED, order=ticket, volume=request["volume"],
                            price=price)

    def _sltp(self, request: dict[str, Any]) -> OrderSendResult:
        position = self.positions.get(request.get("position", 0))
        if position is None:
            return self._result(request, self.TRADE_RETCODE_POSITION_CLOSED)
        symbol = self.symbols[position["symbol"]]
        bid, ask = self.ticks[symbol["name"]]
        buy = position["type"] == self.POSITION_TYPE_BUY
        if not self._stops_ok(symbol, buy, bid, ask, request["sl"], request["tp"]):
            return self._result(request, self.TRADE_RETCODE_INVALID_STOPS)
        if (position["sl"], position["tp"]) == (request["sl"], request["tp"]):
            return self._result(request, self.TRADE_RETCODE_NO_CHANGES)
        position.update(sl=request["sl"], tp=request["tp"])
        return self._result(request, self.TRADE_RETCODE_DONE)

    def _modify(self, request: dict[str, Any]) -> OrderSendResult:
        order = self.orders.get(request.get("order", 0))
        if order is None:
            return self._result(request, self.TRADE_RETCODE_INVALID)
        symbol = self.symbols[order["symbol"]]
        buy = order["type"] in (self.ORDER_TYPE_BUY_LIMIT, self.ORDER_TYPE_BUY_STOP)
        if not self._stops_ok(symbol, buy, request["price"], request["price"], request["sl"], request["tp"]):
            return self._result(request, self.TRADE_RETCODE_INVALID_STOPS)
        order.update(price_open=request["price"], sl=request["sl"], tp=request["tp"])
        return self._result(request, self.TRADE_RETCODE_DONE, order=order["ticket"])

    def _remove(self, request: dict[str, Any]) -> OrderSendResult:
        if self.orders.pop(request.get("order", 0), None) is None:
            return self._result(request, self.TRADE_RETCODE_INVALID)
        return self._result(request, self.TRADE_RETCODE_DONE, order=request["order"])

    # ------------------------------------------------------------------ server rules

    def _trade_mode_code(self, symbol: dict[str, Any], buy: bool, closing: int) -> int:
        mode = symbol["trade_mode"]
        if mode == self.SYMBOL_TRADE_MODE_DISABLED:
            return self.TRADE_RETCODE_TRADE_DISABLED
        if closing:
            return 0
        if mode == self.SYMBOL_TRADE_MODE_CLOSEONLY:
            return self.TRADE_RETCODE_CLOSE_ONLY
        if mode == self.SYMBOL_TRADE_MODE_LONGONLY and not buy:
            return self.TRADE_RETCODE_LONG_ONLY
        if mode == self.SYMBOL_TRADE_MODE_SHORTONLY and buy:
            return self.TRADE_RETCODE_SHORT_ONLY
        return 0

    def _volume_code(self, symbol: dict[str, Any], volume: float) -> int:
        steps = volume / symbol["volume_step"]
        inside = symbol["volume_min"] - 1e-12 <= volume <= symbol["volume_max"] + 1e-12
        if not inside or abs(steps - round(steps)) > 1e-7:
            return self.TRADE_RETCODE_INVALID_VOLUME
        return 0

    def _filling_code(self, symbol: dict[str, Any], filling: int, *, pending: bool) -> int:
        flags = symbol["filling_mode"]
        allowed = {self.ORDER_FILLING_FOK} if flags & 1 else set()
        allowed |= {self.ORDER_FILLING_IOC} if flags & 2 else set()
        if pending or symbol["trade_exemode"] == self.SYMBOL_TRADE_EXECUTION_EXCHANGE or not flags:
            allowed.add(self.ORDER_FILLING_RETURN)
        return 0 if filling in allowed else self.TRADE_RETCODE_INVALID_FILL

    def _stops_ok(self, symbol: dict[str, Any], buy: bool, bid: float, ask: float, sl: float,
                  tp: float) -> bool:
        point, distance = symbol["point"], symbol["trade_stops_level"] * symbol["point"]
        if any(value and not _on_grid(value, point) for value in (sl, tp)):
            return False
        if buy:
            return (not sl or sl <= bid - distance + 1e-12) and (not tp or tp >= bid + distance - 1e-12)
        return (not sl or sl >= ask + distance - 1e-12) and (not tp or tp <= ask - distance + 1e-12)

    # ------------------------------------------------------------------ records

    def _ready(self) -> bool:
        if not self.initialized:
            self._error = (self.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
        return self.initialized

    def _ticket(self) -> int:
        self._next_ticket += 1
        return self._next_ticket

    def _profit(self, position: dict[str, Any]) -> float:
        bid, ask = self.ticks[position["symbol"]]
        current = bid if position["type"] == self.POSITION_TYPE_BUY else ask
        return self.profit_of(position, current, position["volume"])

    def _position_record(self, p: dict[str, Any]) -> TradePosition:
        bid, ask = self.ticks[p["symbol"]]
        current = bid if p["type"] == self.POSITION_TYPE_BUY else ask
        return TradePosition(p["ticket"], p["time_msc"] // 1000, p["time_msc"], p["time_msc"] // 1000,
                             p["time_msc"],
                             p["type"], p["magic"], p["ticket"], 3, p["volume"], p["price_open"], p["sl"],
                             p["tp"],
                             current, 0.0, self._profit(p), p["symbol"], p["comment"], "")

    def _order_record(self, o: dict[str, Any]) -> TradeOrder:
        return TradeOrder(o["ticket"], o["time_setup_msc"] // 1000, o["time_setup_msc"], 0, 0, 0, o["type"],
                          0,
                          o["type_filling"], 1, o["magic"], 0, 0, 3, o["volume_current"], o["volume_current"],
                          o["price_open"], o["sl"], o["tp"], o["price_open"], 0.0, o["symbol"], o["comment"],
                          "")

    def _add_deal(self, order: int, position_id: int, request: dict[str, Any], price: float, entry: int,
                  profit: float, *, reason: int = 3, swap: float = 0.0) -> int:
        """A deal (reason 3 = by an expert: our API) with this terminal's commission, into the history."""
        ticket = self._ticket()
        self._book_deal(TradeDeal(ticket, order, self.ts_ms // 1000, self.ts_ms, request["type"], entry,
                                  request.get("magic", 0), position_id, reason, request["volume"], price,
                                  self.commission_of(request["volume"]), swap, profit, 0.0, request["symbol"],
                                  request.get("comment", "")[:COMMENT_LIMIT], ""))
        return ticket

    def _result(self, request: dict[str, Any], retcode: int, *, comment: str = "", deal: int = 0,
                order: int = 0,
                volume: float = 0.0, price: float = 0.0, bid: float = 0.0,
                ask: float = 0.0) -> OrderSendResult:
        echoed = TradeRequest(**{field: request.get(field, default) for field,
                                 default in _REQUEST_DEFAULTS.items()})
        return OrderSendResult(retcode, deal, order, volume, price, bid, ask,
                               comment or _MESSAGES.get(retcode, ""),
                               0, 0, echoed)


_REQUEST_DEFAULTS: dict[str, Any] = {
    "action": 0, "magic": 0, "order": 0, "symbol": "", "volume": 0.0, "price": 0.0, "stoplimit": 0.0,
    "sl": 0.0,
    "tp": 0.0, "deviation": 0, "type": 0, "type_filling": 0, "type_time": 0, "expiration": 0, "comment": "",
    "position": 0, "position_by": 0}
_FLOAT_FIELDS = ("volume", "price", "stoplimit", "sl", "tp")
_INT_FIELDS = ("action", "magic", "order", "deviation", "type", "type_filling", "type_time", "position",
               "position_by")


def _type_problem(request: dict[str, Any]) -> str:
    """What the C module says about a wrongly typed field (it wants exact float/int/str)."""
    for key, value in request.items():
        if key not in _REQUEST_DEFAULTS:
            return f'Invalid "{key}" argument'
        if key in _FLOAT_FIELDS and type(value) is not float:
            return f'Invalid "{key}" argument'
        if key in _INT_FIELDS and type(value) is not int:
            return f'Invalid "{key}" argument'
        if key in ("symbol", "comment") and type(value) is not str:
            return f'Invalid "{key}" argument'
    return ""


def _on_grid(price: float, point: float) -> bool:
    units = price / point
    return abs(units - round(units)) < 1e-6


def _matches(row: dict[str, Any], symbol: str | None, group: str | None, ticket: int | None) -> bool:
    if symbol is not None:  # the reference: with symbol=, ticket= is ignored
        return row["symbol"] == symbol
    if group is not None:
        return fnmatch.fnmatchcase(row["symbol"], group)
    return ticket is None or row["ticket"] == ticket


def loader_for(fake: FakeMt5) -> Callable[[Any], FakeMt5]:
    """A ``module_loader`` for Mt5Broker that hands it this fake instead of importing MetaTrader5."""
    return lambda settings: fake
