"""The paper broker's book (balance, positions, orders, recent fills, client ids) and its JSON file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.models import Direction, Fill, OrderType, PendingOrder, Position
from core.ports import BrokerError
from core.state_file import StateFileError, read_json, write_json_atomic

STATE_VERSION = 1


@dataclass(slots=True)
class PaperBook:
    balance: float
    next_ticket: int = 1
    positions: dict[int, Position] = field(default_factory=dict)
    orders: dict[int, PendingOrder] = field(default_factory=dict)
    client_fills: dict[str, Fill] = field(default_factory=dict)  # client id -> its latest fill, oldest first
    history: list[Fill] = field(default_factory=list)  # recent fills, oldest first

    def new_ticket(self) -> int:
        ticket, self.next_ticket = self.next_ticket, self.next_ticket + 1
        return ticket

    def symbols(self) -> frozenset[str]:
        """Symbols with a position or a pending order (the ones prices must be checked for)."""
        return frozenset(p.symbol for p in self.positions.values()) | frozenset(
            o.symbol for o in self.orders.values())

    def remember(self, fill: Fill, limit: int) -> None:
        """Record a fill; an open or pending fill is also its client id's answer. Keeps ``limit`` of each."""
        if fill.client_id and fill.kind in ("open", "pending"):
            self.client_fills.pop(fill.client_id, None)
            self.client_fills[fill.client_id] = fill
            while len(self.client_fills) > limit:
                del self.client_fills[next(iter(self.client_fills))]
        if fill.kind != "pending":
            self.history.append(fill)
            del self.history[: max(0, len(self.history) - limit)]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "balance": self.balance,
            "next_ticket": self.next_ticket,
            "positions": [dataclasses.asdict(p) for p in self.positions.values()],
            "orders": [dataclasses.asdict(o) for o in self.orders.values()],
            "client_fills": [dataclasses.asdict(f) for f in self.client_fills.values()],
            "history": [dataclasses.asdict(f) for f in self.history],
        }

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> PaperBook:
        positions = [Position(**{**p, "direction": Direction(p["direction"])}) for p in state["positions"]]
        orders = [PendingOrder(**{**o, "direction": Direction(o["direction"]),
                                  "order_type": OrderType(o["order_type"])}) for o in state["orders"]]
        client_fills = [_fill(f) for f in state["client_fills"]]
        return cls(balance=float(state["balance"]), next_ticket=int(state["next_ticket"]),
                   positions={p.ticket: p for p in positions}, orders={o.ticket: o for o in orders},
                   client_fills={f.client_id: f for f in client_fills},
                   history=[_fill(f) for f in state["history"]])


def _fill(data: dict[str, Any]) -> Fill:
    return Fill(**{**data, "direction": Direction(data["direction"])})


def load_book(path: Path | None, starting_balance: float) -> PaperBook:
    """The saved book, or a fresh one; a file that cannot be read stops the start (BrokerError)."""
    try:
        state = read_json(path) if path is not None else None
        return PaperBook(balance=starting_balance) if state is None else PaperBook.from_json(state)
    except (StateFileError, KeyError, TypeError, ValueError) as e:
        raise BrokerError(f"paper broker state cannot be loaded: {e}") from e


def save_book(path: Path | None, book: PaperBook) -> None:
    if path is not None:
        write_json_atomic(path, book.to_json())
