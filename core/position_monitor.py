"""Position monitor: runs ``core.exits`` on each price and applies its actions through the Broker.

Paper: the lead passes ``price_sink=paper_broker.on_price`` and calls ``on_price`` from the price
feed; the broker's own SL/TP hits and pending fills come back from the sink and are reported.
MT5: call ``poll()`` periodically (it quotes the broker, and ``sync()`` notices positions the
server closed: SL, TP, stop-out, a manual close in the terminal); stop moves reach the server as
SL/TP modifications. A server's close is reported with the fill its closing deals give (exit
price, P/L with commission and swap, reason); while the history lacks them the fill is an
estimate from the last floating P/L seen, marked ``provisional``.

Each event (partial close, stop moved, closed, pending filled, error) goes to ``on_event`` as a
``PositionEvent`` with a short text for the trader and the fill for the journal. A failed broker
call keeps the last state that did succeed and is retried after ``retry_after_s``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from core.events import CloseReason
from core.execution import BrokerEvent, ClosingDeals, FillReason
from core.exits import (
    ClosePartial,
    ExitAction,
    ExitParams,
    ExitStage,
    ManagedPosition,
    ModifyStop,
    evaluate,
    stop_exit_reason,
)
from core.models import Fill, Position
from core.ports import Broker, BrokerError, Clock, DealHistory
from core.state_file import read_json, write_json_atomic


class EventKind(StrEnum):
    OPENED = "opened"  # a pending order filled
    PARTIAL_CLOSE = "partial_close"
    STOP_MOVED = "stop_moved"
    CLOSED = "closed"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PositionEvent:
    kind: EventKind
    ticket: int
    symbol: str
    text: str  # one short line for the trader
    ts_ms: int
    reason: str = ""  # "target 1", "breakeven", "trailing", "stop loss", "trailing stop", "time stop", ...
    fill: Fill | None = None


CLOSE_WORDS = {CloseReason.STOP_LOSS: "stop loss", CloseReason.TAKE_PROFIT: "take profit",
               CloseReason.STOP_OUT: "stop out", CloseReason.MANUAL: "manual"}
BROKER_CLOSE = "closed by the broker"  # the reason until the deals say which
EventSink = Callable[[PositionEvent], Awaitable[None]]
PriceSink = Callable[[str, float, float, int], list[BrokerEvent]]
_log = logging.getLogger(__name__)


class PositionMonitor:
    def __init__(self, broker: Broker, on_event: EventSink, *, clock: Clock,
                 params: Callable[[], ExitParams] | None = None,
                 price_sink: PriceSink | None = None, retry_after_s: float = 10.0,
                 state_path: Path | None = None) -> None:
        self._params = params or ExitParams  # read at every evaluation: /set exits.* applies to open positions
        self._broker = broker
        self._on_event = on_event
        self._clock = clock
        self._price_sink = price_sink
        self._retry_after_ms = int(retry_after_s * 1000)
        self._state_path = state_path
        self._managed: dict[int, ManagedPosition] = {}
        self._waiting: dict[int, ManagedPosition] = {}  # pending orders, managed once filled
        self._retry_at: dict[int, int] = {}
        self._last_seen: dict[int, Position] = {}  # the broker's view at the last sync (for estimates)
        self._lock = asyncio.Lock()
        self._load()

    # ------------------------------------------------------------------ registry

    def manage(self, position: ManagedPosition, *, pending: bool = False) -> None:
        """Start managing a position (or, with ``pending``, the position a pending order will open)."""
        (self._waiting if pending else self._managed)[position.ticket] = position
        self._save()

    def forget(self, ticket: int) -> None:
        self._last_seen.pop(ticket, None)
        self._managed.pop(ticket, None)
        self._waiting.pop(ticket, None)
        self._retry_at.pop(ticket, None)
        self._save()

    def managed(self) -> list[ManagedPosition]:
        return list(self._managed.values())

    # ------------------------------------------------------------------ driving

    async def on_price(self, symbol: str, bid: float, ask: float, ts_ms: int) -> None:
        """A feed price of ``symbol``. With a price sink (paper) the sink sees it first, then exits
        are decided at the broker's own quote (its spread), which must already reflect this price."""
        if self._price_sink is None and not self._managed:
            return
        async with self._lock:
            if self._price_sink is not None:
                for event in self._price_sink(symbol, bid, ask, ts_ms):
                    await self._broker_event(event)
            tickets = [t for t, m in self._managed.items() if m.symbol == symbol]
            if tickets and self._price_sink is not None:
                quote = await self._broker.quote(symbol)
                bid, ask = quote.bid, quote.ask
            for ticket in tickets:
                await self._evaluate(ticket, bid, ask, ts_ms)

    async def poll(self) -> None:
        """Sync with the broker, then evaluate every managed position at the broker's quote."""
        async with self._lock:
            await self._sync()
            for symbol in sorted({m.symbol for m in self._managed.values()}):
                try:
                    quote = await self._broker.quote(symbol)
                except BrokerError as e:
                    await self._emit(EventKind.ERROR, 0, symbol,
                                     f"{symbol}: no quote to manage positions: {e}")
                    continue
                now_ms = self._clock.now_ms()
                for ticket in [t for t, m in self._managed.items() if m.symbol == symbol]:
                    await self._evaluate(ticket, quote.bid, quote.ask, now_ms)

    async def sync(self) -> None:
        """Drop positions the broker closed by itself, adopt filled pending orders, take the
        broker's volume and stop as the truth."""
        async with self._lock:
            await self._sync()

    # ------------------------------------------------------------------ internals

    async def _evaluate(self, ticket: int, bid: float, ask: float, ts_ms: int) -> None:
        if self._retry_at.get(ticket, 0) > ts_ms:
            return
        position = self._managed[ticket]
        decision = evaluate(position, bid, ask, ts_ms, self._params())
        if not decision.actions:
            self._managed[ticket] = decision.state  # the best price may have moved: no need to save
            return
        committed = position
        for action, after in zip(decision.actions, decision.after, strict=True):
            try:
                fill = await self._apply(action)
            except BrokerError as e:
                self._retry_at[ticket] = ts_ms + self._retry_after_ms
                self._commit(committed)
                await self._emit(EventKind.ERROR, ticket, position.symbol,
                                 f"{_label(position)}: could not {_verb(action)}: {e}; retrying in "
                                 f"{self._retry_after_ms // 1000} s", ts_ms, action.reason)
                return
            committed = after
            await self._report(action, position, after, fill, ts_ms)
        self._retry_at.pop(ticket, None)
        self._commit(decision.state)

    async def _apply(self, action: ExitAction) -> Fill | None:
        if isinstance(action, ModifyStop):
            await self._broker.modify(action.ticket, stop_loss=action.stop_loss,
                                      take_profit=action.take_profit)
            return None
        volume = action.volume if isinstance(action, ClosePartial) else None
        return await self._broker.close(action.ticket, volume)

    async def _report(self, action: ExitAction, before: ManagedPosition, after: ManagedPosition,
                      fill: Fill | None, ts_ms: int) -> None:
        label = _label(before)
        if isinstance(action, ModifyStop):
            await self._emit(EventKind.STOP_MOVED, before.ticket, before.symbol,
                             f"{label}: stop moved to {_price(action.stop_loss)} ({action.reason})", ts_ms,
                             action.reason)
        elif isinstance(action, ClosePartial) and fill is not None:
            await self._emit(EventKind.PARTIAL_CLOSE, before.ticket, before.symbol,
                             f"{label}: {action.reason} hit, closed {fill.volume:g} at {_price(fill.price)} "
                             f"({fill.realized_pnl:+.2f}); {after.volume:g} left", ts_ms, action.reason, fill)
        elif fill is not None:
            await self._emit(EventKind.CLOSED, before.ticket, before.symbol,
                             f"{label}: closed {fill.volume:g} at {_price(fill.price)} by {action.reason} "
                             f"({fill.realized_pnl:+.2f})", ts_ms, action.reason, fill)

    async def _broker_event(self, event: BrokerEvent) -> None:
        fill = event.fill
        label = f"{fill.symbol} {fill.direction} #{fill.ticket}"
        if event.reason is FillReason.PENDING_TRIGGERED:
            waiting = self._waiting.pop(fill.ticket, None)
            if waiting is not None:
                self._commit(replace(waiting, entry=fill.price, volume=fill.volume, opened_ts_ms=fill.ts_ms))
            await self._emit(EventKind.OPENED, fill.ticket, fill.symbol,
                             f"{label}: pending order filled at {_price(fill.price)}", fill.ts_ms,
                             event.reason, fill)
            return
        managed = self._managed.pop(fill.ticket, None)
        self._save()
        if event.reason is FillReason.STOP_LOSS:  # the broker's stop: the plan's, breakeven or trailed
            words = stop_exit_reason(managed) if managed is not None else "stop loss"
        else:
            words = "take profit"
        await self._emit(EventKind.CLOSED, fill.ticket, fill.symbol,
                         f"{label}: closed {fill.volume:g} at {_price(fill.price)} by {words} "
                         f"({fill.realized_pnl:+.2f})", fill.ts_ms, words, fill)

    async def _sync(self) -> None:
        try:
            positions = {p.ticket: p for p in await self._broker.positions()}
            orders = {o.ticket for o in await self._broker.orders()} if self._waiting else set()
        except BrokerError as e:
            await self._emit(EventKind.ERROR, 0, "", f"could not read positions from the broker: {e}")
            return
        now_ms = self._clock.now_ms()
        for ticket, waiting in list(self._waiting.items()):
            if ticket in positions:
                del self._waiting[ticket]
                opened = positions[ticket]
                self._commit(replace(waiting, entry=opened.open_price, volume=opened.volume,
                                     opened_ts_ms=opened.open_ts_ms))
                await self._emit(EventKind.OPENED, ticket, waiting.symbol,
                                 f"{_label(waiting)}: pending order "
                                 f"filled at {_price(opened.open_price)}", now_ms, "pending filled")
            elif ticket not in orders:
                del self._waiting[ticket]
        for ticket, managed in list(self._managed.items()):
            if ticket in positions:
                self._managed[ticket] = _as_broker_holds(managed, positions[ticket])
                self._last_seen[ticket] = positions[ticket]
                continue
            del self._managed[ticket]
            fill, reason, text = await self._server_close(managed, now_ms)
            await self._emit(EventKind.CLOSED, ticket, managed.symbol, text, fill.ts_ms, reason, fill)
        self._save()

    async def _server_close(self, managed: ManagedPosition, now_ms: int) -> tuple[Fill, str, str]:
        """(fill, reason, text) of a position the broker closed by itself: from its closing deals, or
        an estimate (``provisional``) from the last floating P/L seen while they are not in."""
        last = self._last_seen.pop(managed.ticket, None)
        deals = await self._closing_deals(managed.ticket)
        label = _label(managed)
        if deals is not None and deals.complete:
            if deals.reason is CloseReason.STOP_LOSS:  # the server's stop: the plan's, breakeven or trailed
                reason = stop_exit_reason(managed)
            else:
                reason = CLOSE_WORDS.get(deals.reason, BROKER_CLOSE) if deals.reason else BROKER_CLOSE
            fill = Fill(managed.ticket, managed.symbol, managed.direction, managed.volume, deals.exit_price,
                        deals.close_ts_ms, kind="close", realized_pnl=deals.final_pnl_account)
            return fill, reason, (f"{label}: closed {fill.volume:g} at {_price(fill.price)} by {reason} "
                                  f"({fill.realized_pnl:+.2f})")
        # the floating P/L last seen, for the volume still managed (exits may have closed part since)
        estimate = last.unrealized_pnl * managed.volume / last.volume if last is not None and last.volume else 0.0
        price = last.current_price if last is not None and last.current_price else managed.entry
        fill = Fill(managed.ticket, managed.symbol, managed.direction, managed.volume, price, now_ms,
                    kind="close", realized_pnl=estimate, provisional=True)
        return fill, BROKER_CLOSE, (f"{label}: {BROKER_CLOSE}; P/L about {estimate:+.2f} (provisional until "
                                    "the broker reports the closing deal)")

    async def _closing_deals(self, ticket: int) -> ClosingDeals | None:
        if not isinstance(self._broker, DealHistory):
            return None
        try:
            return await self._broker.closing_deals(ticket)
        except BrokerError as e:
            _log.warning("no closing deals for #%s yet: %s", ticket, e)
            return None

    async def _emit(self, kind: EventKind, ticket: int, symbol: str, text: str, ts_ms: int | None = None,
                    reason: str = "", fill: Fill | None = None) -> None:
        ts = self._clock.now_ms() if ts_ms is None else ts_ms
        try:
            await self._on_event(PositionEvent(kind, ticket, symbol, text, ts, reason, fill))
        except Exception:  # a failing notifier or journal must not stop the management of positions
            _log.exception("position event handler failed for %s", text)

    def _commit(self, state: ManagedPosition) -> None:
        if state.stage is ExitStage.CLOSED:
            self._managed.pop(state.ticket, None)
        else:
            self._managed[state.ticket] = state
        self._save()

    def _save(self) -> None:
        if self._state_path is not None:
            write_json_atomic(self._state_path, {
                "managed": [m.to_dict() for m in self._managed.values()],
                "waiting": [m.to_dict() for m in self._waiting.values()]})

    def _load(self) -> None:
        if self._state_path is None:
            return
        state = read_json(self._state_path) or {}
        self._managed = {m.ticket: m for m in map(ManagedPosition.from_dict, state.get("managed", ()))}
        self._waiting = {m.ticket: m for m in map(ManagedPosition.from_dict, state.get("waiting", ()))}


def _as_broker_holds(managed: ManagedPosition, position: Position) -> ManagedPosition:
    stop = managed.stop if position.stop_loss is None else position.stop_loss
    return replace(managed, volume=position.volume, stop=stop, take_profit=position.take_profit)


def _label(position: ManagedPosition) -> str:
    return f"{position.symbol} {position.direction} #{position.ticket}"


def _verb(action: ExitAction) -> str:
    if isinstance(action, ModifyStop):
        return f"move the stop to {_price(action.stop_loss)}"
    if isinstance(action, ClosePartial):
        return f"close {action.volume:g} at {action.reason}"
    return f"close the position ({action.reason})"


def _price(value: float) -> str:
    return f"{value:.10g}"
