"""What the fake terminal's trade server does by itself: money in the account currency, commissions,
closes by stop loss, take profit, stop-out or a manual close in the terminal, and deals that reach
the history late.

    fake.commission_per_lot = -3.5          # charged on every deal (in and out), account currency
    fake.set_tick("USDJPY", 149.2, 149.21)
    fake.hit_stops()                        # the server closes what crossed its SL/TP at that price
    fake.close_by_server(ticket, fake.DEAL_REASON_SO)   # a margin stop-out at the market
    fake.delay_deals(calls=2)               # the next closing deals stay out of the history for 2 reads

A mixin of ``FakeMt5``: it uses its ``symbols``, ``ticks``, ``positions``, ``deals`` and ``balance``.
"""

from __future__ import annotations

from typing import Any


class FakeTradeServer:
    DEAL_REASON_CLIENT, DEAL_REASON_MOBILE, DEAL_REASON_WEB, DEAL_REASON_EXPERT = 0, 1, 2, 3
    DEAL_REASON_SL, DEAL_REASON_TP, DEAL_REASON_SO = 4, 5, 6
    DEAL_ENTRY_IN, DEAL_ENTRY_OUT, DEAL_ENTRY_INOUT, DEAL_ENTRY_OUT_BY = 0, 1, 2, 3

    symbols: dict[str, dict[str, Any]]
    ticks: dict[str, tuple[float, float]]
    positions: dict[int, dict[str, Any]]
    deals: list[Any]
    balance: float
    currency: str

    def _server_init(self) -> None:
        self.commission_per_lot = 0.0  # per deal, account currency (negative: a charge)
        self._late: set[int] = set()  # deal tickets the history does not show yet
        self._late_reads = 0
        self._delay_next = 0

    # ------------------------------------------------------------------ money

    def to_account(self, amount: float, currency: str) -> float:
        """``amount`` of ``currency`` in the account currency, at the mid of a symbol pricing one in
        the other (as the server converts profit and margin)."""
        if currency == self.currency:
            return amount
        for name, row in self.symbols.items():
            bid, ask = self.ticks[name]
            mid = (bid + ask) / 2
            if (row["currency_base"], row["currency_profit"]) == (self.currency, currency):
                return amount / mid
            if (row["currency_base"], row["currency_profit"]) == (currency, self.currency):
                return amount * mid
        raise AssertionError(f"fake terminal: add a symbol converting {currency} to {self.currency}")

    def profit_of(self, position: dict[str, Any], price: float, volume: float) -> float:
        """Profit of closing ``volume`` of ``position`` at ``price``, account currency, cents."""
        symbol = self.symbols[position["symbol"]]
        sign = 1 if position["type"] == 0 else -1
        raw = (price - position["price_open"]) * volume * symbol["trade_contract_size"] * sign
        return round(self.to_account(raw, symbol["currency_profit"]), 2)

    def margin_of(self, symbol: dict[str, Any], volume: float, price: float) -> float:
        return self.to_account(volume * symbol["trade_contract_size"] * price / self.leverage,  # type: ignore[attr-defined]
                               symbol["currency_profit"])

    def commission_of(self, volume: float) -> float:
        return round(self.commission_per_lot * volume, 2)

    # ------------------------------------------------------------------ closes the server makes

    def hit_stops(self, *, swap: float = 0.0) -> list[int]:
        """Close every position whose SL or TP the current tick crossed, at that SL/TP price (each
        closing deal books ``swap``)."""
        closed = []
        for ticket, position in list(self.positions.items()):
            bid, ask = self.ticks[position["symbol"]]
            buy = position["type"] == 0
            close_at = bid if buy else ask
            sl, tp = position["sl"], position["tp"]
            if sl and (close_at <= sl if buy else close_at >= sl):
                self.close_by_server(ticket, self.DEAL_REASON_SL, sl, swap=swap)
            elif tp and (close_at >= tp if buy else close_at <= tp):
                self.close_by_server(ticket, self.DEAL_REASON_TP, tp, swap=swap)
            else:
                continue
            closed.append(ticket)
        return closed

    def close_by_server(self, ticket: int, reason: int, price: float | None = None, *, swap: float = 0.0) -> int:
        """Close the whole position at ``price`` (default: the market) with a deal of ``reason``;
        ``swap`` (account currency) is booked on the closing deal. Returns the deal ticket."""
        position = self.positions.pop(ticket)
        bid, ask = self.ticks[position["symbol"]]
        buy = position["type"] == 0
        price = (bid if buy else ask) if price is None else price
        profit = self.profit_of(position, price, position["volume"])
        request = {"type": 1 if buy else 0, "volume": position["volume"], "magic": position["magic"],
                   "symbol": position["symbol"], "comment": {4: "[sl]", 5: "[tp]", 6: "[so]"}.get(reason, "")}
        order = self._ticket()  # type: ignore[attr-defined]
        return self._add_deal(order, ticket, request, price, self.DEAL_ENTRY_OUT, profit,  # type: ignore[attr-defined]
                              reason=reason, swap=swap)

    # ------------------------------------------------------------------ late history

    def delay_deals(self, calls: int) -> None:
        """The next deals added stay out of ``history_deals_get`` for its next ``calls`` calls."""
        self._delay_next = calls

    def _book_deal(self, deal: Any) -> None:
        """Add a deal to the history (hidden while a delay is set) and its money to the balance."""
        self.deals.append(deal)
        self.balance += deal.profit + deal.commission + deal.swap + deal.fee
        if self._delay_next:
            self._late.add(deal.ticket)
            self._late_reads = self._delay_next

    def _visible_deals(self) -> list[Any]:
        if self._late:
            if self._late_reads <= 0:
                self._late.clear()
                self._delay_next = 0
            else:
                self._late_reads -= 1
        return [deal for deal in self.deals if deal.ticket not in self._late]
