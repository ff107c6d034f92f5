"""Paper broker money in USD for JPY pairs and crosses, against hand-computed values.

Each expectation is written from first principles: a yen amount is divided by the USDJPY mid; the
margin is notional x price / leverage in yen, then divided by USDJPY.
"""

from __future__ import annotations

import pytest

from core.brokers.paper import PaperBroker, PaperParams
from core.execution import FillReason
from core.market.symbols import default_specs
from core.models import Direction, OrderIntent
from core.money import MoneyService
from core.ports import BrokerError, FixedClock

T0 = 1_763_000_000_000
BALANCE = 10_000.0
LEVERAGE = 100


class Market:
    """Bid/ask per symbol with the time each was set: the paper quotes and the rates read it."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.quotes: dict[str, tuple[float, float, int]] = {}

    def set(self, symbol: str, bid: float, ask: float, ts_ms: int | None = None) -> None:
        self.quotes[symbol] = (bid, ask, self.clock.now_ms() if ts_ms is None else ts_ms)

    def bid_ask(self, symbol: str) -> tuple[float, float] | None:
        found = self.quotes.get(symbol)
        return None if found is None else found[:2]

    def mid(self, symbol: str) -> tuple[float, int] | None:
        found = self.quotes.get(symbol)
        return None if found is None else ((found[0] + found[1]) / 2, found[2])


def setup() -> tuple[FixedClock, Market, PaperBroker]:
    clock = FixedClock(T0)
    market = Market(clock)
    money = MoneyService(default_specs(), clock, lookups=(market.mid,))
    broker = PaperBroker(market.bid_ask, clock, None, PaperParams(starting_balance=BALANCE, leverage=LEVERAGE,
                                                                  spread_bps=0.0), money=money)
    return clock, market, broker


async def test_usdjpy_pnl_margin_and_equity_are_in_dollars() -> None:
    clock, market, broker = setup()
    market.set("USDJPY", 150.000, 150.000)
    fill = await broker.place(OrderIntent("USDJPY", Direction.LONG, 6_000.0))  # $6,000 of USDJPY
    market.set("USDJPY", 149.750, 149.750)  # a 0.25 yen fall

    [position] = await broker.positions()
    account = await broker.account()

    expected_open = (149.750 - 150.000) * 6_000 / 149.750  # -1,500 yen at 149.75 yen per dollar
    assert expected_open == pytest.approx(-10.02, abs=0.01)
    assert position.unrealized_pnl == pytest.approx(expected_open)
    assert account.equity == pytest.approx(BALANCE + expected_open)
    margin = 6_000 * 150.000 / LEVERAGE / 149.750  # 9,000 yen of margin in dollars at today's rate
    assert account.margin_free == pytest.approx(account.equity - margin)

    close = await broker.close(fill.ticket)
    assert close.realized_pnl == pytest.approx(expected_open)
    assert (await broker.account()).balance == pytest.approx(BALANCE + expected_open)


async def test_gbpjpy_cross_converts_through_usdjpy() -> None:
    clock, market, broker = setup()
    market.set("USDJPY", 155.000, 155.000)
    market.set("GBPJPY", 190.500, 190.500)
    fill = await broker.place(OrderIntent("GBPJPY", Direction.SHORT, 10_000.0, stop_loss=191.000))
    account = await broker.account()
    assert account.margin_free == pytest.approx(BALANCE - 10_000 * 190.500 / LEVERAGE / 155.000)

    clock.advance(60_000)
    market.set("USDJPY", 156.000, 156.000)
    [event] = broker.on_price("GBPJPY", 191.100, 191.100, clock.now_ms())  # through the stop

    assert event.reason is FillReason.STOP_LOSS and event.fill.ticket == fill.ticket
    expected = -(191.100 - 190.500) * 10_000 / 156.000  # -6,000 yen at 156 yen per dollar
    assert event.fill.realized_pnl == pytest.approx(expected)
    assert (await broker.account()).balance == pytest.approx(BALANCE + expected)


async def test_eurjpy_margin_refusal_names_the_true_dollar_margin() -> None:
    _clock, market, broker = setup()
    market.set("USDJPY", 150.000, 150.000)
    market.set("EURJPY", 162.000, 162.000)
    with pytest.raises(BrokerError) as refused:
        await broker.place(OrderIntent("EURJPY", Direction.LONG, 1_000_000.0))
    needed = 1_000_000 * 162.000 / LEVERAGE / 150.000  # 10,800 USD
    assert f"needs margin {needed:,.2f} USD" in refused.value.message
    assert "free margin is 10,000.00" in refused.value.message
    fits = await broker.place(OrderIntent("EURJPY", Direction.LONG, 900_000.0))  # 9,720 USD of margin
    assert fits.volume == 900_000.0


async def test_opening_needs_a_fresh_rate_but_a_stop_still_closes_on_an_old_one() -> None:
    clock, market, broker = setup()
    market.set("USDJPY", 150.000, 150.000)
    market.set("GBPJPY", 190.000, 190.000)
    fill = await broker.place(OrderIntent("GBPJPY", Direction.LONG, 1_000.0, stop_loss=189.000))

    clock.advance(400_000)  # USDJPY is now 400 s old; GBPJPY keeps ticking
    market.set("GBPJPY", 190.000, 190.000)
    with pytest.raises(BrokerError) as refused:
        await broker.place(OrderIntent("GBPJPY", Direction.LONG, 1_000.0))
    assert refused.value.message == ("cannot open GBPJPY: cannot convert JPY to USD: "
                                     "the USDJPY price is 400 s old (limit 300 s)")

    [event] = broker.on_price("GBPJPY", 188.900, 188.900, clock.now_ms())
    assert event.fill.ticket == fill.ticket
    assert event.fill.realized_pnl == pytest.approx((188.900 - 190.000) * 1_000 / 150.000)


async def test_usd_quoted_symbols_need_no_rate() -> None:
    _clock, market, broker = setup()
    market.set("XAUUSD", 3_300.00, 3_300.50)
    fill = await broker.place(OrderIntent("XAUUSD", Direction.LONG, 2.0))
    market.set("XAUUSD", 3_310.00, 3_310.50)
    close = await broker.close(fill.ticket)
    assert close.realized_pnl == pytest.approx((3_310.00 - 3_300.50) * 2.0)
