"""MetaTrader 5 broker adapter (``BROKER=mt5``).

Each operation holds one ``asyncio.Lock`` from its first terminal call to its last, so operations
never interleave; the calls themselves run on the terminal session's single worker thread
(``mt5_terminal``). Our orders carry ``settings.magic`` and the comment ``mb:<approval id>`` (cut
to the comment limit); ``positions()``, ``orders()``, ``reconcile()`` and ``find_by_client_id``
see only ours. Translation is pure, in ``mt5_requests``.

Sending handles what real servers do: the filling mode the symbol allows (the next one on
'unsupported filling', remembered per symbol), requote / price changed / price off retried at a
fresh price while it stays within the deviation, and a timeout or lost connection on an open
checked against our comment before anything is re-sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.brokers import mt5_requests as rq
from core.brokers.mt5_requests import Mt5Symbol, as_dict
from core.brokers.mt5_terminal import ModuleLoader, Mt5Settings, Mt5Terminal, load_terminal_module
from core.execution import BrokerEvent, ClosingDeals, ContractSpec, normalize_volume
from core.models import AccountInfo, Direction, Fill, OrderIntent, OrderType, PendingOrder, Position, Quote
from core.money import MoneyService, RateUnavailable
from core.ports import BrokerCapabilities, BrokerError, Clock, SystemClock

__all__ = ["Mt5Broker", "Mt5Settings", "Reconciliation", "load_terminal_module"]

RequestBuilder = Callable[[float, float, int], dict[str, Any]]
log = logging.getLogger("moneybot.mt5")


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Our open positions and pending orders found at start, and anything worth a warning."""

    positions: list[Position]
    orders: list[PendingOrder]
    warnings: list[str]


class Mt5Broker:
    name = "mt5"
    capabilities = BrokerCapabilities(prices_from_feed=False)

    def __init__(self, settings: Mt5Settings, module_loader: ModuleLoader | None = None,
                 clock: Clock | None = None, money: MoneyService | None = None) -> None:
        """``money`` converts the P/L estimate of a close whose deals are not in the history yet."""
        self._settings = settings
        self._terminal = Mt5Terminal(settings, module_loader)
        self._clock = clock or SystemClock()
        self._money = money
        self._lock = asyncio.Lock()
        self._filling: dict[str, int] = {}  # broker name -> filling mode that worked

    # ------------------------------------------------------------------ connection

    async def connect(self) -> None:
        async with self._lock:
            await self._terminal.connect()

    async def disconnect(self) -> None:
        async with self._lock:
            await self._terminal.close()

    async def reconcile(self) -> Reconciliation:
        """Connect if needed and list our open positions and orders (call once at start)."""
        async with self._lock:
            await self._terminal.ensure()
            return Reconciliation(await self._positions(), await self._orders(),
                                  list(self._terminal.warnings))

    # ------------------------------------------------------------------ Broker port

    async def account(self) -> AccountInfo:
        async with self._lock:
            await self._terminal.ensure()
            info = await self._terminal.call("account_info")
            if info is None:
                raise await self._terminal.error("reading the account")
            row = as_dict(info)
            return AccountInfo(balance=float(row["balance"]), equity=float(row["equity"]),
                               currency=str(row["currency"]), margin_free=float(row["margin_free"]),
                               leverage=int(row["leverage"]))

    async def quote(self, symbol: str) -> Quote:
        async with self._lock:
            await self._terminal.ensure()
            bid, ask, ts_ms = await self._terminal.tick(await self._terminal.symbol(symbol))
            return Quote(symbol=symbol, bid=bid, ask=ask, ts_ms=ts_ms)

    async def contract_spec(self, symbol: str) -> ContractSpec:
        """The symbol's trading rules from the terminal (lots, steps, digits), for sizing."""
        async with self._lock:
            await self._terminal.ensure()
            return (await self._terminal.symbol(symbol)).spec

    async def place(self, intent: OrderIntent) -> Fill:
        async with self._lock:
            await self._terminal.ensure()
            existing = await self._find(intent.client_id)
            if existing is not None:
                return _fill_for_existing(existing, intent.client_id, self._clock.now_ms())
            symbol = await self._terminal.symbol(intent.symbol)
            problem = rq.trade_mode_problem(symbol, intent.direction)
            if problem:
                raise BrokerError(problem)
            return await self._open(intent, symbol)

    async def close(self, ticket: int, volume: float | None = None) -> Fill:
        async with self._lock:
            await self._terminal.ensure()
            row = await self._terminal.by_ticket("positions_get", ticket)
            if row is None:
                raise BrokerError(f"position #{ticket} not found (already closed?)")
            position = self._terminal.position_of(row)
            symbol = await self._terminal.symbol(position.symbol)
            amount = position.volume if volume is None else _volume(volume, symbol)
            if amount > position.volume + 1e-12:
                raise BrokerError(f"cannot close {amount:g} of position #{ticket}: "
                                  f"it holds {position.volume:g}")

            def build(bid: float, ask: float, filling: int) -> dict[str, Any]:
                return rq.close_request(symbol, ticket, position.direction, amount, bid, ask,
                                        deviation_points=self._settings.deviation_points,
                                        magic=self._settings.magic, comment=str(row.get("comment", "")),
                                        filling=filling)

            result, request = await self._send_with_retries(build, symbol, position.direction.opposite,
                                                            f"closing #{ticket}", pending=False)
            closed = float(result.get("volume") or request["volume"])
            price = float(result.get("price") or request["price"])
            pnl = rq.deals_pnl(await self._terminal.call("history_deals_get", ticket=int(result["order"])))
            provisional = pnl is None
            if pnl is None:  # the deal is not in the history yet: estimate, in the account currency
                pnl = await self._estimate_pnl(position, symbol, price, closed, row)
            kind = "close" if closed >= position.volume - 1e-12 else "partial_close"
            return Fill(ticket=ticket, symbol=position.symbol, direction=position.direction, volume=closed,
                        price=price, ts_ms=self._clock.now_ms(), client_id=position.client_id, kind=kind,
                        realized_pnl=pnl, provisional=provisional)

    async def modify(self, ticket: int, *, stop_loss: float | None, take_profit: float | None) -> None:
        """Replace both SL and TP (None removes one); too-close stops are widened to the stops level."""
        async with self._lock:
            await self._terminal.ensure()
            row = await self._terminal.by_ticket("positions_get", ticket)
            if row is not None:
                position = self._terminal.position_of(row)
                symbol = await self._terminal.symbol(position.symbol)
                bid, ask, _ = await self._terminal.tick(symbol)
                sl, tp = _stops(position.direction, bid, ask, stop_loss, take_profit, symbol)
                request = rq.sltp_request(symbol, ticket, sl, tp, magic=self._settings.magic)
            else:
                row = await self._terminal.by_ticket("orders_get", ticket)
                order = None if row is None else self._terminal.order_of(row)
                if order is None:
                    raise BrokerError(f"position or order #{ticket} not found")
                symbol = await self._terminal.symbol(order.symbol)
                sl, tp = _stops(order.direction, order.price, order.price, stop_loss, take_profit, symbol)
                request = rq.modify_order_request(ticket, order.price, sl, tp)
            await self._send_once(request, f"changing the stops of #{ticket}")

    async def positions(self) -> list[Position]:
        async with self._lock:
            await self._terminal.ensure()
            return await self._positions()

    async def orders(self) -> list[PendingOrder]:
        async with self._lock:
            await self._terminal.ensure()
            return await self._orders()

    async def cancel(self, ticket: int) -> None:
        async with self._lock:
            await self._terminal.ensure()
            if await self._terminal.by_ticket("orders_get", ticket) is None:
                raise BrokerError(f"pending order #{ticket} not found (already filled or cancelled?)")
            await self._send_once(rq.remove_request(ticket), f"cancelling order #{ticket}")

    def on_price(self, symbol: str, bid: float, ask: float, ts_ms: int) -> list[BrokerEvent]:
        """MT5 fills its own stops and targets at its own prices; ``poll`` finds what it did."""
        return []

    async def find_by_client_id(self, client_id: str) -> Position | PendingOrder | None:
        async with self._lock:
            await self._terminal.ensure()
            return await self._find(client_id)

    async def closing_deals(self, ticket: int) -> ClosingDeals | None:
        """How position ``ticket`` closed, from ``history_deals_get(position=ticket)``; None while
        the history shows no closing deal (it can lag the close: ask again)."""
        async with self._lock:
            await self._terminal.ensure()
            deals = await self._terminal.call("history_deals_get", position=int(ticket))
            if deals is None:
                error = await self._terminal.error(f"reading the deals of position #{ticket}")
                if error.code == rq.RES_E_NOT_FOUND:  # no history (yet)
                    return None
                raise error
            return rq.closing_deals_from_mt5(deals, ticket, self._settings.server_time_offset_ms)

    async def _estimate_pnl(self, position: Position, symbol: Mt5Symbol, price: float, volume: float,
                            row: dict[str, Any]) -> float:
        """P/L of closing ``volume`` at ``price``: the quote-currency move converted by ``core.money``
        (its prices fetched from this terminal); without a rate, the server's own floating profit
        of the position pro rata (already in the account currency)."""
        pnl_quote = (price - position.open_price) * volume * symbol.spec.contract_size * position.direction.sign
        if self._money is not None:
            try:
                currency = await self._account_currency()
                await self._note_rate_prices(position.symbol, currency)
                return pnl_quote * self._money.quote_rate(position.symbol, currency, allow_stale=True)
            except (RateUnavailable, BrokerError) as e:
                log.warning("%s #%s: P/L estimate from the server's floating profit: %s", position.symbol,
                            position.ticket, e)
        return (float(row.get("profit", 0.0)) + float(row.get("swap", 0.0))) * volume / position.volume

    async def _account_currency(self) -> str:
        info = await self._terminal.call("account_info")
        if info is None:
            raise await self._terminal.error("reading the account")
        return str(as_dict(info)["currency"])

    async def _note_rate_prices(self, trader_symbol: str, currency: str) -> None:
        """Terminal quotes of the symbols converting ``trader_symbol``'s quote currency, into ``money``."""
        assert self._money is not None

        async def fetch(name: str) -> Quote:
            bid, ask, ts_ms = await self._terminal.tick(await self._terminal.symbol(name))
            return Quote(symbol=name, bid=bid, ask=ask, ts_ms=ts_ms)

        await self._money.refresh(self._money.currencies(trader_symbol)[1], currency, fetch)

    # ------------------------------------------------------------------ sending

    async def _open(self, intent: OrderIntent, symbol: Mt5Symbol) -> Fill:
        comment = rq.comment_for(intent.client_id or intent.comment, self._settings.comment_max_chars)
        pending = intent.order_type is not OrderType.MARKET

        def build(bid: float, ask: float, filling: int) -> dict[str, Any]:
            try:
                return rq.to_mt5_request(intent, symbol, bid, ask, magic=self._settings.magic,
                                         comment=comment, filling=filling)
            except ValueError as e:
                raise BrokerError(f"{intent.symbol}: {e}") from None

        what = f"opening {intent.direction} {intent.symbol}"
        try:
            result, request = await self._send_with_retries(
                build, symbol, intent.direction, what, pending=pending, deviation=intent.max_deviation_points)
        except BrokerError as e:
            existing = await self._find(intent.client_id) if e.code in rq.UNKNOWN_OUTCOME else None
            if existing is not None:  # it went through after all
                return _fill_for_existing(existing, intent.client_id, self._clock.now_ms())
            raise
        ticket = int(result["order"])
        price = float(request["price"]) if pending else float(result.get("price") or request["price"])
        volume = float(result.get("volume") or request["volume"])
        opened = None if pending else await self._terminal.by_ticket("positions_get", ticket)
        if opened is not None:  # hedging: position ticket == order ticket; take the broker's own numbers
            price, volume = float(opened["price_open"]), float(opened["volume"])
        return Fill(ticket=ticket, symbol=intent.symbol, direction=intent.direction, volume=volume,
                    price=price, ts_ms=self._clock.now_ms(), client_id=intent.client_id,
                    kind="pending" if pending else "open")

    async def _send_with_retries(self, build: RequestBuilder, symbol: Mt5Symbol, direction: Direction,
                                 what: str, *, pending: bool,
                                 deviation: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Send, retrying the next filling mode on 'unsupported filling' and a fresh price on
        requote / price changed / price off while the price stays within ``deviation`` points.

        A small state machine over the retcodes; returns (result, request) on success.
        """
        fillings = self._filling_order(symbol, pending)
        deviation = self._settings.deviation_points if deviation is None else deviation
        bid, ask, _ = await self._terminal.tick(symbol)
        first_price = ask if direction is Direction.LONG else bid
        filling_index = price_retries = 0
        while True:
            request = build(bid, ask, fillings[filling_index])
            result = await self._send(request, what)
            code = int(result["retcode"])
            if code in rq.SUCCESS:
                self._filling[symbol.name] = fillings[filling_index]
                return result, request
            if code == rq.TRADE_RETCODE_INVALID_FILL and filling_index + 1 < len(fillings):
                filling_index += 1
                continue
            if code in rq.RETRY_WITH_FRESH_PRICE and price_retries < self._settings.price_retries:
                price_retries += 1
                bid, ask, _ = await self._terminal.tick(symbol)
                moved = abs((ask if direction is Direction.LONG else bid) - first_price) / symbol.spec.point
                if not pending and moved > deviation + 1e-6:
                    raise BrokerError(f"{what} failed: the price moved {moved:.0f} points since the first "
                                      f"try, more than the allowed deviation of {deviation} points",
                                      code=code,
                                      retryable=True)
                continue
            raise rq.error_for_retcode(what, code, str(result.get("comment", "")))

    def _filling_order(self, symbol: Mt5Symbol, pending: bool) -> list[int]:
        candidates = rq.filling_candidates(symbol, pending=pending)
        known = self._filling.get(symbol.name)
        if known in candidates and not pending:
            candidates.remove(known)
            candidates.insert(0, known)
        return candidates

    async def _send(self, request: dict[str, Any], what: str) -> dict[str, Any]:
        result = await self._terminal.call("order_send", request)
        if result is None:
            raise await self._terminal.error(what)
        return as_dict(result)

    async def _send_once(self, request: dict[str, Any], what: str) -> None:
        result = await self._send(request, what)
        if int(result["retcode"]) not in rq.SUCCESS:
            raise rq.error_for_retcode(what, int(result["retcode"]), str(result.get("comment", "")))

    # ------------------------------------------------------------------ our records

    async def _positions(self) -> list[Position]:
        return [self._terminal.position_of(row) for row in await self._terminal.own("positions_get")]

    async def _orders(self) -> list[PendingOrder]:
        orders = [self._terminal.order_of(row) for row in await self._terminal.own("orders_get")]
        return [order for order in orders if order is not None]

    async def _find(self, client_id: str) -> Position | PendingOrder | None:
        """Our position or order whose comment carries ``client_id`` (as cut to the comment limit)."""
        if not client_id:
            return None
        wanted = rq.comment_for(client_id, self._settings.comment_max_chars)
        for row in await self._terminal.own("positions_get"):
            if row.get("comment") == wanted:
                return self._terminal.position_of(row)
        for row in await self._terminal.own("orders_get"):
            if row.get("comment") == wanted:
                return self._terminal.order_of(row)
        return None


def _volume(volume: float, symbol: Mt5Symbol) -> float:
    try:
        return normalize_volume(volume, symbol.spec)
    except ValueError as e:
        raise BrokerError(str(e)) from None


def _stops(direction: Direction, bid: float, ask: float, stop_loss: float | None, take_profit: float | None,
           symbol: Mt5Symbol) -> tuple[float | None, float | None]:
    try:
        return rq.adjusted_stops(direction, bid, ask, stop_loss, take_profit, symbol.spec)
    except ValueError as e:
        raise BrokerError(str(e)) from None


def _fill_for_existing(existing: Position | PendingOrder, client_id: str, ts_ms: int) -> Fill:
    """The fill a repeated place returns for what the first place already opened."""
    if isinstance(existing, Position):
        return Fill(ticket=existing.ticket, symbol=existing.symbol, direction=existing.direction,
                    volume=existing.volume, price=existing.open_price, ts_ms=existing.open_ts_ms,
                    client_id=client_id, kind="open")
    return Fill(ticket=existing.ticket, symbol=existing.symbol, direction=existing.direction,
                volume=existing.volume, price=existing.price, ts_ms=ts_ms, client_id=client_id,
                kind="pending")
