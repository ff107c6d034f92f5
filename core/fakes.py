"""One fake per port, shipped beside the ports (as aiogram-dialog ships its test tools).

Use cases are tested in milliseconds with these instead of the whole runtime:
``ScriptedBroker`` (fills, refuses or raises as scripted), ``InMemoryApprovalStore``,
``InMemoryTradingRecords``, ``RecordingNotifier`` and ``CannedAnalyser`` (analyses given in
advance; ``canned_analysis`` builds one around a plan). ``FixedClock`` is in ``core.ports``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from core.analysis.inputs import AnalysisInput, PlanSizing
from core.analysis.momentum import Confirmation, ConfirmationResult
from core.analysis.setups import NO_SETUP
from core.analysis.synthesis import Analysis
from core.analysis_service import NotReady
from core.approvals import Approval, ApprovalState, JournalEntry, OrderRecord, OrderState
from core.execution import BrokerEvent, ContractSpec
from core.models import (
    AccountInfo,
    DataSource,
    Direction,
    Fill,
    OrderIntent,
    PendingOrder,
    Position,
    Quote,
    TradePlan,
)
from core.ports import BrokerCapabilities, BrokerError, Clock, FixedClock
from core.stats import ClosedTrade

# ---------------------------------------------------------------------------- broker


class ScriptedBroker:
    """A broker whose ``place`` outcomes are scripted: a ``Fill`` (or None: fill at the quote), a
    ``BrokerError`` (a refusal) or any other exception (an unexpected failure)."""

    name = "scripted"

    def __init__(self, *, quotes: dict[str, tuple[float, float]] | None = None, equity: float = 10_000.0,
                 currency: str = "USD", script: Iterable[Fill | Exception | None] = (),
                 spec: ContractSpec | None = None, clock: Clock | None = None,
                 prices_from_feed: bool = False) -> None:
        self.quotes = dict(quotes or {})
        self.equity = equity
        self.currency = currency
        self.script = list(script)
        self.spec = spec
        self.clock = clock or FixedClock()
        self.capabilities = BrokerCapabilities(prices_from_feed=prices_from_feed)
        self.placed: list[OrderIntent] = []
        self.closed: list[int] = []
        self.modified: list[tuple[int, float | None, float | None]] = []
        self.open_positions: dict[int, Position] = {}
        self._tickets = itertools.count(1001)

    async def connect(self) -> None:
        return None

    async def account(self) -> AccountInfo:
        return AccountInfo(balance=self.equity, equity=self.equity, currency=self.currency,
                           margin_free=self.equity)

    async def quote(self, symbol: str) -> Quote:
        if symbol not in self.quotes:
            raise BrokerError(f"no quote for {symbol}")
        bid, ask = self.quotes[symbol]
        return Quote(symbol, bid, ask, self.clock.now_ms())

    async def contract_spec(self, symbol: str) -> ContractSpec:
        return self.spec or ContractSpec(symbol, digits=2, volume_min=0.001, volume_step=0.001)

    def on_price(self, symbol: str, bid: float, ask: float, ts_ms: int) -> list[BrokerEvent]:
        self.quotes[symbol] = (bid, ask)
        return []

    async def place(self, intent: OrderIntent) -> Fill:
        self.placed.append(intent)
        outcome = self.script.pop(0) if self.script else None
        if isinstance(outcome, Exception):
            raise outcome
        if outcome is None:
            bid, ask = self.quotes[intent.symbol]
            price = ask if intent.direction is Direction.LONG else bid
            outcome = Fill(next(self._tickets), intent.symbol, intent.direction, intent.volume, price,
                           self.clock.now_ms(), client_id=intent.client_id)
        self.open_positions[outcome.ticket] = Position(
            outcome.ticket, intent.symbol, intent.direction, outcome.volume, outcome.price, outcome.ts_ms,
            stop_loss=intent.stop_loss, take_profit=intent.take_profit, client_id=intent.client_id)
        return outcome

    async def close(self, ticket: int, volume: float | None = None) -> Fill:
        position = self.open_positions.pop(ticket, None)
        if position is None:
            raise BrokerError(f"position {ticket} not found")
        self.closed.append(ticket)
        bid, ask = self.quotes[position.symbol]
        price = bid if position.direction is Direction.LONG else ask
        pnl = (price - position.open_price) * position.volume * position.direction.sign
        return Fill(ticket, position.symbol, position.direction, volume or position.volume, price,
                    self.clock.now_ms(), position.client_id, "close", pnl)

    async def modify(self, ticket: int, *, stop_loss: float | None, take_profit: float | None) -> None:
        self.modified.append((ticket, stop_loss, take_profit))
        position = self.open_positions[ticket]
        self.open_positions[ticket] = replace(position, stop_loss=stop_loss, take_profit=take_profit)

    async def positions(self) -> list[Position]:
        return list(self.open_positions.values())

    async def orders(self) -> list[PendingOrder]:
        return []

    async def cancel(self, ticket: int) -> None:
        return None

    async def find_by_client_id(self, client_id: str) -> Position | PendingOrder | None:
        return next((p for p in self.open_positions.values() if p.client_id == client_id), None)


# ---------------------------------------------------------------------------- stores


class InMemoryApprovalStore:
    """The ApprovalStore port in memory, with the same compare-and-set and one-order-per-card rules."""

    def __init__(self) -> None:
        self.approvals: dict[str, Approval] = {}
        self.orders: dict[str, OrderRecord] = {}
        self.journal: list[JournalEntry] = []

    async def add_approval(self, approval: Approval) -> None:
        self.approvals[approval.id] = approval

    async def get_approval(self, approval_id: str) -> Approval | None:
        return self.approvals.get(approval_id)

    async def set_message(self, approval_id: str, message_id: int) -> None:
        self.approvals[approval_id] = replace(self.approvals[approval_id], message_id=message_id)

    async def transition(self, approval_id: str, from_states: Iterable[ApprovalState], to_state: ApprovalState,
                         **fields: Any) -> Approval | None:
        approval = self.approvals.get(approval_id)
        if approval is None or approval.state not in tuple(from_states):
            return None
        approval = self.approvals[approval_id] = replace(approval, state=to_state, **fields)
        return approval

    async def list_approvals(self, states: Iterable[ApprovalState]) -> list[Approval]:
        wanted = tuple(states)
        return sorted((a for a in self.approvals.values() if a.state in wanted), key=lambda a: a.created_ts_ms)

    async def add_order(self, order: OrderRecord, *, gates: dict, basis: dict, ts_ms: int) -> bool:
        if order.approval_id in self.orders:
            return False
        self.orders[order.approval_id] = replace(order, created_ts_ms=ts_ms)
        return True

    async def update_order(self, approval_id: str, state: OrderState, ts_ms: int, **fields: Any) -> None:
        if approval_id in self.orders:
            self.orders[approval_id] = replace(self.orders[approval_id], state=state, **fields)

    async def get_order(self, approval_id: str) -> OrderRecord | None:
        return self.orders.get(approval_id)

    async def list_orders(self, states: Iterable[OrderState]) -> list[OrderRecord]:
        wanted = tuple(states)
        return [o for o in self.orders.values() if o.state in wanted]

    async def approval_for_ticket(self, ticket: int) -> Approval | None:
        return next((a for a in self.approvals.values() if a.ticket == ticket), None)

    async def add_journal(self, entry: JournalEntry) -> None:
        self.journal.append(entry)

    async def journal_for_ticket(self, ticket: int) -> list[JournalEntry]:
        return [e for e in self.journal if e.ticket == ticket]


class InMemoryTradingRecords:
    """The TradingRecords port (closed trades, pause and breaker state) in memory."""

    def __init__(self) -> None:
        self.trades: list[ClosedTrade] = []
        self.state: tuple[bool, int | None, dict] = (False, None, {})

    async def add_closed_trade(self, trade: ClosedTrade) -> None:
        """Once per ticket; a provisional one is replaced (its confirmation), like the SQL records."""
        known = next((t for t in self.trades if t.ticket == trade.ticket), None)
        if known is not None and not known.provisional:
            return
        self.trades = [t for t in self.trades if t.ticket != trade.ticket] + [trade]

    async def closed_trades(self, since_ts_ms: int = 0) -> list[ClosedTrade]:
        return [t for t in self.trades if t.close_ts_ms >= since_ts_ms]

    async def provisional_trades(self) -> list[ClosedTrade]:
        return [t for t in self.trades if t.provisional]

    async def load_state(self) -> tuple[bool, int | None, dict]:
        return self.state

    async def save_state(self, *, paused: bool, paused_by: int | None, breaker: dict, ts_ms: int) -> None:
        self.state = (paused, paused_by, breaker)


# ---------------------------------------------------------------------------- notifier


class RecordingNotifier:
    """The Notifier port: records what would be pushed (``sent``: chat, text, buttons; ``edits``)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, list[list[tuple[str, str]]] | None]] = []
        self.edits: list[tuple[int, int, str]] = []
        self._ids = itertools.count(1)

    async def send(self, chat_id: int, text_html: str, *, buttons: list[list[tuple[str, str]]] | None = None,
                   photo_png: bytes | None = None) -> int | None:
        self.sent.append((chat_id, text_html, buttons))
        return next(self._ids)

    async def edit(self, chat_id: int, message_id: int, text_html: str,
                   *, buttons: list[list[tuple[str, str]]] | None = None) -> None:
        self.edits.append((chat_id, message_id, text_html))


# ---------------------------------------------------------------------------- analysis


def canned_analysis(symbol: str, price: float, plan: TradePlan | None = None, *, ts_ms: int = 0,
                    rejection: str | None = None, source: DataSource = DataSource.SIMULATED) -> Analysis:
    """A minimal Analysis around ``plan`` (None: no trade, with ``rejection``)."""
    direction = plan.direction if plan is not None else None
    return Analysis(symbol=symbol, ts_ms=ts_ms, price=price, source=source, zones=(), timeframes=(),
                    price_action=NO_SETUP, order_flow=None, micro=None,
                    confirmation=ConfirmationResult(Confirmation.NEUTRAL, ()), components=(),
                    total_score=0.5 * direction.sign if direction else 0.0, direction=direction,
                    setup_type=plan.setup_type if plan else "none",
                    confidence=plan.confidence if plan else 0.0, reasons=(),
                    plan=plan, rejection=None if plan else (rejection or "no trade: canned"), candidate_plan=plan)


class CannedAnalyser:
    """The signal use case's Analyser with answers given in advance, per symbol, in order.

    Each answer is an ``Analysis`` or a ``NotReady``; the last answer repeats."""

    def __init__(self, answers: dict[str, list[Analysis | NotReady]]) -> None:
        self._answers = {symbol: list(items) for symbol, items in answers.items()}
        self.calls: list[str] = []

    def _next(self, symbol: str) -> Analysis | NotReady:
        items = self._answers.get(symbol)
        if not items:
            return NotReady(f"{symbol}: no canned analysis")
        return items.pop(0) if len(items) > 1 else items[0]

    def snapshot(self, symbol: str, *, sizing: PlanSizing | None = None, at_ms: int | None = None) -> AnalysisInput:
        answer = self._next(symbol)
        if isinstance(answer, NotReady):
            raise answer
        self._pending = answer
        return AnalysisInput(symbol=symbol, ts_ms=answer.ts_ms, price=answer.price, source=answer.source,
                             sizing=sizing)

    def analyse_input(self, inp: AnalysisInput) -> Analysis:
        self.calls.append(inp.symbol)
        return self._pending
