"""Paper broker: simulated fills at the live (or simulated) price, state kept in a JSON file.

- Prices: ``quote_source(symbol)`` returns the trader symbol's ``(bid, ask[, ts_ms])`` from the price cache
  (pass ``(mid, mid)`` when only a mid is known); without a source, or when it has nothing, the
  last ``on_price`` values are used. The spread used is the wider of the source's own spread and
  the configured one (absolute per symbol, else bps per symbol, else the default bps), centred on
  the mid.
- Fills: market orders at ask (buy) / bid (sell) moved against us by ``slippage_bps``; limit
  orders at their price (or better on a gap); stop orders and stop losses at the market moved
  against us by ``slippage_bps``; take profits at their price. Swap-free; ``fee_bps`` of the notional
  per fill (0 by default). These rules are ``core.fills.FillModel``, shared with the shadow book and
  the backtester.
- ``on_price(symbol, bid, ask, ts_ms)`` must be called with every price update of symbols that
  have positions or orders (the position monitor does it): pending orders trigger and SL/TP hit
  there, and it returns what happened as ``BrokerEvent``s. It is synchronous and cheap when the
  symbol has nothing open.
- Money is in the account currency (``PaperParams.currency``, USD): P/L and margin are computed in
  the symbol's quote currency and converted by ``core.money`` (USDJPY's yen at 1/USDJPY, GBPJPY's
  through USDJPY or a cross). Opening needs a fresh rate (else refused, saying which price is
  missing or old); closes and open P/L use the last known rate. A stop whose P/L cannot be
  converted at all (no price ever seen) waits for one. Volume is in base units unless ``specs``
  give a contract size.
- ``place`` is idempotent by ``client_id``: a second place with the same id returns the first fill.
- State (balance, positions, orders, recent fills, client ids) is saved atomically after every
  change when ``state_path`` is given, and loaded back by the constructor.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.brokers.paper_book import load_book, save_book
from core.brokers.paper_rules import clean_volume, open_fill
from core.execution import (
    BrokerEvent,
    ContractSpec,
    FillReason,
    normalize_volume,
    pending_price_problem,
    round_price,
    stops_problem,
)
from core.fills import FillModel
from core.market.symbols import default_specs
from core.models import (
    AccountInfo,
    Direction,
    Fill,
    OrderIntent,
    OrderType,
    PendingOrder,
    Position,
    Quote,
    Tick,
)
from core.money import MoneyService, RateUnavailable
from core.ports import BrokerCapabilities, BrokerError, Clock, SystemClock

# (bid, ask) or (bid, ask, ts_ms) of a trader symbol; without a time the quote counts as current
QuoteSource = Callable[[str], tuple[float, float] | tuple[float, float, int] | None]
_VOLUME_EPSILON = 1e-12
log = logging.getLogger("moneybot.paper")


def quote_source_from_ticks(tick_of: Callable[[str], Tick | None]) -> QuoteSource:
    """Adapt a price cache's ``tick(symbol)`` to a quote source: its bid/ask, else (price, price), and
    its time."""

    def quote(symbol: str) -> tuple[float, float, int] | None:
        tick = tick_of(symbol)
        if tick is None:
            return None
        if tick.bid is not None and tick.ask is not None:
            return tick.bid, tick.ask, tick.ts_ms
        return tick.price, tick.price, tick.ts_ms

    return quote


@dataclass(frozen=True, slots=True)
class PaperParams:
    starting_balance: float = 10_000.0
    currency: str = "USD"
    leverage: int = 100
    spread_bps: float = 2.0  # minimum full spread, in bps of the mid
    spread_bps_by_symbol: Mapping[str, float] = field(default_factory=dict)
    spread_abs_by_symbol: Mapping[str, float] = field(default_factory=dict)  # price units
    slippage_bps: float = 0.0
    fee_bps: float = 0.0  # per fill, of the notional
    specs: Mapping[str, ContractSpec] = field(default_factory=dict)  # volume/price rules, contract size
    history_limit: int = 1000  # fills and client ids remembered

    def spec(self, symbol: str) -> ContractSpec:
        return self.specs.get(symbol) or ContractSpec(symbol)

    def fill_model(self) -> FillModel:
        return FillModel(spread_bps=self.spread_bps, slippage_bps=self.slippage_bps, fee_bps=self.fee_bps,
                         spread_bps_by_symbol=self.spread_bps_by_symbol,
                         spread_abs_by_symbol=self.spread_abs_by_symbol)

    def spread(self, symbol: str, mid: float) -> float:
        return self.fill_model().spread(symbol, mid)


class PaperBroker:
    """The default broker (``BROKER=paper``); see the module docstring for the fill rules."""

    name = "paper"
    capabilities = BrokerCapabilities(prices_from_feed=True)

    def __init__(self, quote_source: QuoteSource | None = None, clock: Clock | None = None,
                 state_path: Path | None = None, params: PaperParams | None = None,
                 money: MoneyService | None = None) -> None:
        """``money`` converts into ``params.currency``; by default it reads this broker's own prices
        (the quote source counts as fresh, ``on_price`` prices are as old as their time)."""
        self._quote_source = quote_source
        self._clock = clock or SystemClock()
        self._state_path = state_path
        self._params = params or PaperParams()
        self._fills = self._params.fill_model()
        self._last: dict[str, tuple[float, float]] = {}
        self._last_ts: dict[str, int] = {}
        self._money = money or MoneyService(default_specs(), self._clock, lookups=(self._own_price,))
        self._book = load_book(state_path, self._params.starting_balance)
        self._active = self._book.symbols()

    # ------------------------------------------------------------------ Broker port

    async def connect(self) -> None:
        """Nothing to connect; the state was loaded by the constructor."""

    async def account(self) -> AccountInfo:
        try:
            equity, margin = self._equity_and_margin()
        except RateUnavailable as e:
            raise BrokerError(f"cannot value the open positions: {e.message}", retryable=True) from None
        return AccountInfo(balance=self._book.balance, equity=equity, currency=self._params.currency,
                           margin_free=equity - margin, leverage=self._params.leverage)

    async def quote(self, symbol: str) -> Quote:
        """The quote with the spread applied; its time is the price's own (now when the source has none)."""
        bid, ask = self._require_quote(symbol)
        found = self._raw_quote(symbol)
        return Quote(symbol=symbol, bid=bid, ask=ask, ts_ms=found[2] if found else self._clock.now_ms())

    async def contract_spec(self, symbol: str) -> ContractSpec:
        return self._params.spec(symbol)

    async def place(self, intent: OrderIntent) -> Fill:
        if intent.client_id and intent.client_id in self._book.client_fills:
            return self._book.client_fills[intent.client_id]
        volume = self._checked_volume(intent.symbol, intent.volume)
        bid, ask = self._require_quote(intent.symbol)
        if intent.order_type is OrderType.MARKET:
            fill = self._open_market(intent, volume, bid, ask)
        else:
            fill = self._add_pending(intent, volume, bid, ask)
        self._remember(fill)
        self._changed()
        return fill

    async def close(self, ticket: int, volume: float | None = None) -> Fill:
        position = self._book.positions.get(ticket)
        if position is None:
            raise BrokerError(f"position #{ticket} not found (already closed?)")
        if volume is not None:
            volume = self._checked_volume(position.symbol, volume)
            if volume > position.volume + _VOLUME_EPSILON:
                raise BrokerError(f"cannot close {volume:g} of position #{ticket}: "
                                  f"it holds {position.volume:g}")
        bid, ask = self._require_quote(position.symbol)
        exit_price = self._fills.market_exit(position.direction, bid, ask)
        try:
            fill = self._close(position, volume or position.volume, exit_price, self._clock.now_ms())
        except RateUnavailable as e:
            raise BrokerError(f"cannot close #{ticket} yet: {e.message}", retryable=True) from None
        self._changed()
        return fill

    async def modify(self, ticket: int, *, stop_loss: float | None, take_profit: float | None) -> None:
        """Replace both SL and TP (None removes one)."""
        stops = {"stop_loss": stop_loss, "take_profit": take_profit}
        if ticket in self._book.positions:
            position = self._book.positions[ticket]
            bid, ask = self._require_quote(position.symbol)
            self._check_stops(position.direction, bid, ask, stop_loss, take_profit)
            self._book.positions[ticket] = dataclasses.replace(position, **stops)
        elif ticket in self._book.orders:
            order = self._book.orders[ticket]
            self._check_stops(order.direction, order.price, order.price, stop_loss, take_profit)
            self._book.orders[ticket] = dataclasses.replace(order, **stops)
        else:
            raise BrokerError(f"position or order #{ticket} not found")
        self._changed()

    async def positions(self) -> list[Position]:
        marked = []
        for position in self._book.positions.values():
            try:
                price, pnl = self._mark(position)
            except RateUnavailable as e:  # listed, but not valued: no price of it or its rate yet
                log.warning("paper position #%s has no value yet: %s", position.ticket, e.message)
                price, pnl = None, 0.0
            marked.append(dataclasses.replace(position, current_price=price, unrealized_pnl=pnl))
        return marked

    async def orders(self) -> list[PendingOrder]:
        return list(self._book.orders.values())

    async def cancel(self, ticket: int) -> None:
        if self._book.orders.pop(ticket, None) is None:
            raise BrokerError(f"pending order #{ticket} not found (already filled or cancelled?)")
        self._changed()

    async def find_by_client_id(self, client_id: str) -> Position | PendingOrder | None:
        for item in (*self._book.positions.values(), *self._book.orders.values()):
            if client_id and item.client_id == client_id:
                return item
        return None

    # ------------------------------------------------------------------ price feed

    def on_price(self, symbol: str, bid: float, ask: float, ts_ms: int) -> list[BrokerEvent]:
        """Record a price; trigger pending orders and SL/TP of ``symbol``; return what filled."""
        self._last[symbol] = (bid, ask)
        self._last_ts[symbol] = ts_ms
        if symbol not in self._active:
            return []
        bid, ask = self._effective(symbol, bid, ask)
        events = self._trigger_orders(symbol, bid, ask, ts_ms)
        events += self._trigger_stops(symbol, bid, ask, ts_ms)
        if events:
            self._changed()
        return events

    def fills(self, since_ts_ms: int = 0) -> list[Fill]:
        """Recent fills (up to ``history_limit``), oldest first."""
        return [fill for fill in self._book.history if fill.ts_ms >= since_ts_ms]

    # ------------------------------------------------------------------ orders and fills

    def _open_market(self, intent: OrderIntent, volume: float, bid: float, ask: float) -> Fill:
        self._check_stops(intent.direction, bid, ask, intent.stop_loss, intent.take_profit)
        price = self._fills.market_entry(intent.direction, bid, ask)
        self._check_margin(intent.symbol, volume, price)
        position = Position(ticket=self._book.new_ticket(), symbol=intent.symbol, direction=intent.direction,
                            volume=volume, open_price=self._round(intent.symbol, price),
                            open_ts_ms=self._clock.now_ms(), stop_loss=intent.stop_loss,
                            take_profit=intent.take_profit, client_id=intent.client_id)
        self._book.positions[position.ticket] = position
        return open_fill(position)

    def _add_pending(self, intent: OrderIntent, volume: float, bid: float, ask: float) -> Fill:
        if intent.price is None or intent.price <= 0:
            raise BrokerError(f"a {intent.order_type} order needs a positive price")
        problem = pending_price_problem(intent.direction, intent.order_type, intent.price, bid, ask)
        if problem:
            raise BrokerError(problem)
        self._check_stops(intent.direction, intent.price, intent.price, intent.stop_loss, intent.take_profit)
        self._check_margin(intent.symbol, volume, intent.price)
        order = PendingOrder(ticket=self._book.new_ticket(), symbol=intent.symbol, direction=intent.direction,
                             order_type=intent.order_type, volume=volume, price=intent.price,
                             stop_loss=intent.stop_loss, take_profit=intent.take_profit,
                             client_id=intent.client_id)
        self._book.orders[order.ticket] = order
        return Fill(ticket=order.ticket, symbol=order.symbol, direction=order.direction, volume=volume,
                    price=order.price, ts_ms=self._clock.now_ms(), client_id=order.client_id, kind="pending")

    def _close(self, position: Position, volume: float, exit_price: float, ts_ms: int) -> Fill:
        exit_price = self._round(position.symbol, exit_price)
        size = volume * self._contract_size(position.symbol)
        pnl_quote = (exit_price - position.open_price) * size * position.direction.sign
        pnl_quote -= self._fills.fee(position.open_price * size) + self._fills.fee(exit_price * size)
        pnl = pnl_quote * self._quote_rate(position.symbol, allow_stale=True)
        remaining = position.volume - volume
        if remaining > _VOLUME_EPSILON:
            self._book.positions[position.ticket] = dataclasses.replace(position, volume=clean_volume(remaining))
            kind = "partial_close"
        else:
            del self._book.positions[position.ticket]
            kind = "close"
        self._book.balance += pnl
        fill = Fill(ticket=position.ticket, symbol=position.symbol, direction=position.direction,
                    volume=volume, price=exit_price, ts_ms=ts_ms, client_id=position.client_id, kind=kind,
                    realized_pnl=pnl)
        self._remember(fill)
        return fill

    def _trigger_orders(self, symbol: str, bid: float, ask: float, ts_ms: int) -> list[BrokerEvent]:
        events = []
        for order in [o for o in self._book.orders.values() if o.symbol == symbol]:
            price = self._fills.pending_fill(order.direction, order.order_type, order.price, bid, ask)
            if price is None:
                continue
            del self._book.orders[order.ticket]
            position = Position(ticket=order.ticket, symbol=symbol, direction=order.direction,
                                volume=order.volume, open_price=self._round(symbol, price), open_ts_ms=ts_ms,
                                stop_loss=order.stop_loss, take_profit=order.take_profit,
                                client_id=order.client_id)
            self._book.positions[position.ticket] = position
            fill = dataclasses.replace(open_fill(position), ts_ms=ts_ms)
            self._remember(fill)
            events.append(BrokerEvent(fill, FillReason.PENDING_TRIGGERED))
        return events

    def _trigger_stops(self, symbol: str, bid: float, ask: float, ts_ms: int) -> list[BrokerEvent]:
        events = []
        for position in [p for p in self._book.positions.values() if p.symbol == symbol]:
            hit = self._fills.protective_fill(position.direction, position.stop_loss, position.take_profit,
                                              bid, ask)
            if hit is None:
                continue
            price, reason = hit
            try:
                events.append(BrokerEvent(self._close(position, position.volume, price, ts_ms), reason))
            except RateUnavailable as e:  # never priced its currency: the stop waits for a rate
                log.warning("paper %s of #%s waits: %s", reason, position.ticket, e.message)
        return events

    # ------------------------------------------------------------------ checks and prices

    def _checked_volume(self, symbol: str, volume: float) -> float:
        try:
            return normalize_volume(volume, self._params.spec(symbol))
        except ValueError as e:
            raise BrokerError(str(e)) from None

    def _check_stops(self, direction: Direction, bid: float, ask: float,
                     stop_loss: float | None, take_profit: float | None) -> None:
        problem = stops_problem(direction, bid, ask, stop_loss, take_profit)
        if problem:
            raise BrokerError(f"invalid stops: {problem}")

    def _equity_and_margin(self) -> tuple[float, float]:
        """(equity, margin used), account currency; RateUnavailable when a position cannot be valued."""
        equity, margin = self._book.balance, 0.0
        for position in self._book.positions.values():
            equity += self._mark(position)[1]
            margin += self._margin(position.symbol, position.volume, position.open_price, allow_stale=True)
        return equity, margin

    def _margin(self, symbol: str, volume: float, price: float, *, allow_stale: bool) -> float:
        """Notional / leverage in the account currency (the quote-currency notional converted)."""
        notional_quote = volume * self._contract_size(symbol) * price
        return notional_quote * self._quote_rate(symbol, allow_stale=allow_stale) / self._params.leverage

    def _check_margin(self, symbol: str, volume: float, price: float) -> None:
        try:
            needed = self._margin(symbol, volume, price, allow_stale=False)
            equity, margin = self._equity_and_margin()
        except RateUnavailable as e:
            raise BrokerError(f"cannot open {symbol}: {e.message}", retryable=True) from None
        free = equity - margin
        if needed > free:
            raise BrokerError(f"not enough money: {volume:g} {symbol} needs margin {needed:,.2f} "
                              f"{self._params.currency}, free margin is {free:,.2f}")

    def _require_quote(self, symbol: str) -> tuple[float, float]:
        raw = self._raw_quote(symbol)
        if raw is None:
            raise BrokerError(f"no price for {symbol} yet; cannot trade it", retryable=True)
        return self._effective(symbol, raw[0], raw[1])

    def _raw_quote(self, symbol: str) -> tuple[float, float, int] | None:
        """(bid, ask, ts_ms) from the quote source, else the last ``on_price``; None without either."""
        raw = self._quote_source(symbol) if self._quote_source else None
        if raw is not None:
            return (raw[0], raw[1], raw[2]) if len(raw) > 2 else (raw[0], raw[1], self._clock.now_ms())
        last = self._last.get(symbol)
        return None if last is None else (last[0], last[1], self._last_ts[symbol])

    def _effective(self, symbol: str, bid: float, ask: float) -> tuple[float, float]:
        return self._fills.quote(symbol, bid, ask)

    def _mark(self, position: Position) -> tuple[float, float]:
        """Price the position would close at now, and its unrealised P/L there (account currency);
        without a quote, the open price and 0. RateUnavailable when the P/L cannot be converted."""
        try:
            bid, ask = self._require_quote(position.symbol)
        except BrokerError:
            return position.open_price, 0.0
        price = bid if position.direction is Direction.LONG else ask
        pnl_quote = (price - position.open_price) * position.volume * self._contract_size(position.symbol)
        return price, pnl_quote * position.direction.sign * self._quote_rate(position.symbol, allow_stale=True)

    def _quote_rate(self, symbol: str, *, allow_stale: bool) -> float:
        return self._money.quote_rate(symbol, self._params.currency, allow_stale=allow_stale)

    def _own_price(self, symbol: str) -> tuple[float, int] | None:
        """(mid, ts_ms) of this broker's own quote: the default rates."""
        raw = self._raw_quote(symbol)
        return None if raw is None else ((raw[0] + raw[1]) / 2.0, raw[2])

    def _contract_size(self, symbol: str) -> float:
        return self._params.spec(symbol).contract_size

    def _round(self, symbol: str, price: float) -> float:
        spec = self._params.specs.get(symbol)
        return round_price(price, spec) if spec else price

    # ------------------------------------------------------------------ bookkeeping

    def _remember(self, fill: Fill) -> None:
        self._book.remember(fill, self._params.history_limit)

    def _changed(self) -> None:
        self._active = self._book.symbols()
        save_book(self._state_path, self._book)
