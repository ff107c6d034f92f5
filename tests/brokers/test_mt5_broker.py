"""Mt5Broker against the fake terminal: what real brokers do (rounding, stops level, filling
modes, requotes, retcodes, symbol names, reconciliation, reconnecting, one call at a time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.brokers.mt5 import Mt5Broker, Mt5Settings
from core.models import Direction, OrderIntent, OrderType
from core.ports import BrokerError, FixedClock
from tests.brokers.fake_mt5 import FakeMt5, loader_for
from tests.brokers.harness import ASK, BID, MAGIC
from tests.brokers.test_mt5_requests import REFERENCE_RETCODES

SUCCESS_CODES = {10008, 10009, 10010, 10025}


@pytest.fixture
def fake() -> FakeMt5:
    terminal = FakeMt5()
    terminal.add_symbol("EURUSD", bid=BID, ask=ASK)
    return terminal


@pytest.fixture
async def broker(fake: FakeMt5) -> AsyncIterator[Mt5Broker]:
    adapter = Mt5Broker(Mt5Settings(magic=MAGIC), module_loader=loader_for(fake), clock=FixedClock())
    await adapter.connect()
    yield adapter
    await adapter.disconnect()


def intent(**changes: object) -> OrderIntent:
    fields: dict = dict(symbol="EURUSD", direction=Direction.LONG, volume=0.10, stop_loss=1.09500,
                        take_profit=1.11000, client_id="appr-1")
    fields.update(changes)
    return OrderIntent(**fields)


def deals(fake: FakeMt5) -> list[dict]:
    return [r for r in fake.requests if r["action"] == fake.TRADE_ACTION_DEAL]


# ---------------------------------------------------------------------------- rounding and stops


async def test_volume_and_prices_are_rounded_before_sending(broker: Mt5Broker, fake: FakeMt5) -> None:
    fill = await broker.place(intent(volume=0.157, stop_loss=1.0950049, take_profit=1.1100001))

    [request] = fake.requests
    assert (request["volume"], request["sl"], request["tp"]) == (0.15, 1.09500, 1.11001)
    assert fill.volume == 0.15
    assert (request["magic"], request["comment"]) == (MAGIC, "mb:appr-1")


async def test_volume_below_the_minimum_is_refused_without_sending(broker: Mt5Broker, fake: FakeMt5) -> None:
    with pytest.raises(BrokerError, match="below the broker minimum 0.01"):
        await broker.place(intent(volume=0.004))
    assert fake.requests == []


async def test_stops_closer_than_the_stops_level_are_widened() -> None:
    fake = FakeMt5()
    fake.add_symbol("EURUSD", bid=BID, ask=ASK, stops_level=50)
    broker = Mt5Broker(Mt5Settings(magic=MAGIC), module_loader=loader_for(fake))
    await broker.connect()
    try:
        fill = await broker.place(intent(stop_loss=1.09980, take_profit=1.10020))
        [position] = await broker.positions()
        assert (position.stop_loss, position.take_profit) == (1.09950, 1.10050)  # bid -/+ 50 points

        await broker.modify(fill.ticket, stop_loss=1.09990, take_profit=None)
        [position] = await broker.positions()
        assert (position.stop_loss, position.take_profit) == (1.09950, None)
    finally:
        await broker.disconnect()


async def test_modify_without_changes_is_not_an_error(broker: Mt5Broker, fake: FakeMt5) -> None:
    fill = await broker.place(intent())
    await broker.modify(fill.ticket, stop_loss=1.09500, take_profit=1.11000)
    assert fake.requests[-1]["action"] == fake.TRADE_ACTION_SLTP


# ---------------------------------------------------------------------------- filling mode and requotes


async def test_unsupported_filling_retries_the_next_allowed_mode_and_remembers_it(
        broker: Mt5Broker, fake: FakeMt5) -> None:
    fake.fail_next(10030)

    await broker.place(intent(client_id="a"))
    await broker.place(intent(client_id="b"))

    fillings = [r["type_filling"] for r in deals(fake)]
    assert fillings == [fake.ORDER_FILLING_FOK, fake.ORDER_FILLING_IOC, fake.ORDER_FILLING_IOC]
    assert len(await broker.positions()) == 2


async def test_symbol_without_filling_flags_uses_return(fake: FakeMt5) -> None:
    fake.add_symbol("XAUUSD", bid=2000.00, ask=2000.30, digits=2, contract_size=100.0, filling_mode=0)
    broker = Mt5Broker(Mt5Settings(magic=MAGIC), module_loader=loader_for(fake))
    await broker.connect()
    try:
        await broker.place(intent(symbol="XAUUSD", stop_loss=1990.0, take_profit=2020.0))
    finally:
        await broker.disconnect()
    assert [r["type_filling"] for r in fake.requests] == [fake.ORDER_FILLING_RETURN]


async def test_every_filling_mode_refused_gives_a_clear_error(broker: Mt5Broker, fake: FakeMt5) -> None:
    fake.fail_next(10030, times=5)
    with pytest.raises(BrokerError, match="filling mode is not supported"):
        await broker.place(intent())
    assert len(fake.requests) == 2  # FOK, then IOC; nothing else is allowed


@pytest.mark.parametrize("code", [10004, 10020, 10021])
async def test_requote_retries_at_the_fresh_price(broker: Mt5Broker, fake: FakeMt5, code: int) -> None:
    fake.fail_next(code, move=0.00005)  # 5 points, inside the 20-point deviation

    fill = await broker.place(intent())

    first, second = deals(fake)
    assert first["price"] == ASK
    assert second["price"] == pytest.approx(ASK + 0.00005)
    assert fill.price == pytest.approx(ASK + 0.00005)


async def test_requote_beyond_the_deviation_stops_retrying(broker: Mt5Broker, fake: FakeMt5) -> None:
    fake.fail_next(10004, move=0.00100)  # 100 points away

    with pytest.raises(BrokerError, match="moved 100 points.*deviation of 20") as refused:
        await broker.place(intent())
    assert refused.value.retryable
    assert len(fake.requests) == 1
    assert await broker.positions() == []


async def test_requote_retries_are_bounded(broker: Mt5Broker, fake: FakeMt5) -> None:
    fake.fail_next(10004, times=10)
    with pytest.raises(BrokerError, match="requoted"):
        await broker.place(intent())
    assert len(fake.requests) == 4  # first try + 3 retries


async def test_the_market_moving_within_the_deviation_fills_at_the_new_price(broker: Mt5Broker,
                                                                            fake: FakeMt5) -> None:
    fake.before_send = lambda: fake.set_tick("EURUSD", BID + 0.00010, ASK + 0.00010)  # 10 points

    fill = await broker.place(intent())

    assert len(fake.requests) == 1
    assert fill.price == pytest.approx(ASK + 0.00010)


async def test_the_server_requotes_beyond_the_deviation_and_the_retry_is_refused(broker: Mt5Broker,
                                                                               fake: FakeMt5) -> None:
    fake.before_send = lambda: fake.set_tick("EURUSD", BID + 0.00030, ASK + 0.00030)  # 30 points

    with pytest.raises(BrokerError, match="moved 30 points"):
        await broker.place(intent())
    assert await broker.positions() == []


# ---------------------------------------------------------------------------- retcodes


@pytest.mark.parametrize("code", sorted(set(REFERENCE_RETCODES) - SUCCESS_CODES))
async def test_every_failure_retcode_surfaces_as_a_readable_error(broker: Mt5Broker, fake: FakeMt5,
                                                                   code: int) -> None:
    fake.fail_next(code, times=10)

    with pytest.raises(BrokerError) as refused:
        await broker.place(intent(client_id=f"c{code}"))

    assert refused.value.code == code
    assert str(refused.value).startswith("opening long EURUSD failed: ")
    assert REFERENCE_RETCODES[code] in str(refused.value).lower()
    assert f"MT5 {code}" in str(refused.value)


@pytest.mark.parametrize(("code", "words"), [(10019, "not enough money"), (10018, "market is closed"),
                                             (10016, "invalid stops"), (10027, "press Algo Trading"),
                                             (10017, "trading is disabled")])
async def test_common_refusals_read_well(broker: Mt5Broker, fake: FakeMt5, code: int, words: str) -> None:
    fake.fail_next(code, comment="")
    with pytest.raises(BrokerError, match=words) as refused:
        await broker.place(intent())
    assert not refused.value.retryable


async def test_a_timeout_after_the_server_acted_returns_the_position(broker: Mt5Broker,
                                                                     fake: FakeMt5) -> None:
    fake.fail_next(10012, execute=True)

    fill = await broker.place(intent(client_id="appr-t"))

    assert fill.kind == "open" and fill.client_id == "appr-t"
    [position] = await broker.positions()
    assert position.ticket == fill.ticket


async def test_a_request_the_terminal_cannot_take_reports_last_error(broker: Mt5Broker,
                                                                     fake: FakeMt5) -> None:
    fake.break_connection()
    with pytest.raises(BrokerError, match="No IPC connection") as refused:
        await broker.positions()
    assert refused.value.retryable

    positions = await broker.positions()  # reconnects: shutdown + initialize

    assert positions == []
    assert fake.calls.count("initialize") == 2


async def test_trade_mode_refusals_happen_before_sending(fake: FakeMt5) -> None:
    fake.add_symbol("GBPUSD", bid=1.3, ask=1.3001, trade_mode=fake.SYMBOL_TRADE_MODE_CLOSEONLY)
    broker = Mt5Broker(Mt5Settings(magic=MAGIC), module_loader=loader_for(fake))
    await broker.connect()
    try:
        with pytest.raises(BrokerError, match="GBPUSD is close-only"):
            await broker.place(intent(symbol="GBPUSD", stop_loss=None, take_profit=None))
    finally:
        await broker.disconnect()
    assert fake.requests == []


# ---------------------------------------------------------------------------- symbols and comments


async def test_symbols_are_selected_and_suffixes_discovered(fake: FakeMt5) -> None:
    fake.add_symbol("XAUUSDm", bid=2000.00, ask=2000.30, digits=2, contract_size=100.0)
    broker = Mt5Broker(Mt5Settings(magic=MAGIC), module_loader=loader_for(fake))
    await broker.connect()
    try:
        quote = await broker.quote("XAUUSD")
        fill = await broker.place(intent(symbol="XAUUSD", stop_loss=1990.0, take_profit=2020.0))
        [position] = await broker.positions()
        with pytest.raises(BrokerError, match="NOPE is not offered"):
            await broker.quote("NOPE")
    finally:
        await broker.disconnect()
    assert (quote.symbol, quote.bid, quote.ask) == ("XAUUSD", 2000.00, 2000.30)
    assert fake.symbols["XAUUSDm"]["visible"] and "symbol_select" in fake.calls
    assert fake.requests[0]["symbol"] == "XAUUSDm"
    assert (fill.symbol, position.symbol) == ("XAUUSD", "XAUUSD")


async def test_symbol_map_overrides_names(fake: FakeMt5) -> None:
    fake.add_symbol("GOLD", bid=2000.00, ask=2000.30, digits=2, contract_size=100.0)
    broker = Mt5Broker(Mt5Settings(magic=MAGIC, symbol_map={"XAUUSD": "GOLD"}),
                       module_loader=loader_for(fake))
    await broker.connect()
    try:
        await broker.place(intent(symbol="XAUUSD", stop_loss=None, take_profit=None))
        [position] = await broker.positions()
    finally:
        await broker.disconnect()
    assert fake.requests[0]["symbol"] == "GOLD"
    assert position.symbol == "XAUUSD"


async def test_long_approval_ids_are_cut_to_the_comment_limit_and_still_found(broker: Mt5Broker,
                                                                            fake: FakeMt5) -> None:
    long_id = "approval-0123456789abcdef0123456789"
    first = await broker.place(intent(client_id=long_id))
    again = await broker.place(intent(client_id=long_id))

    assert len(fake.requests[0]["comment"]) == 31
    assert again.ticket == first.ticket and len(deals(fake)) == 1
    assert await broker.find_by_client_id(long_id) is not None


# ---------------------------------------------------------------------------- state and reconciliation


async def test_reconcile_lists_only_our_positions_and_orders(fake: FakeMt5) -> None:
    fake.add_symbol("EURUSDm", bid=BID, ask=ASK, visible=True)
    fake.positions[11] = dict(ticket=11, time_msc=1_700_000_000_000, type=0, magic=MAGIC, volume=0.2,
                              price_open=1.095, sl=1.09, tp=0.0, symbol="EURUSDm", comment="mb:appr-old")
    fake.positions[12] = dict(ticket=12, time_msc=1_700_000_000_000, type=1, magic=0, volume=1.0,
                              price_open=1.1, sl=0.0, tp=0.0, symbol="EURUSDm", comment="manual")
    fake.orders[13] = dict(ticket=13, time_setup_msc=1_700_000_000_000, type=fake.ORDER_TYPE_SELL_LIMIT,
                           magic=MAGIC, volume_current=0.1, price_open=1.11, sl=0.0, tp=0.0, symbol="EURUSDm",
                           type_filling=2, comment="mb:appr-pend")
    fake.terminal_trade_allowed = False
    broker = Mt5Broker(Mt5Settings(magic=MAGIC, symbol_suffix="m"), module_loader=loader_for(fake))

    try:
        found = await broker.reconcile()
        profit = found.positions[0].unrealized_pnl
        closing = await broker.close(11)
    finally:
        await broker.disconnect()

    assert [(p.ticket, p.symbol, p.client_id, p.direction) for p in found.positions] == [
        (11, "EURUSD", "appr-old", Direction.LONG)]
    assert profit == pytest.approx((BID - 1.095) * 0.2 * 100_000)
    assert [(o.ticket, o.symbol, o.client_id, o.order_type) for o in found.orders] == [
        (13, "EURUSD", "appr-pend", OrderType.LIMIT)]
    assert found.warnings == ["Algo Trading is off in the MetaTrader 5 terminal: orders will be refused"]
    assert closing.kind == "close" and closing.realized_pnl == pytest.approx(profit)


async def test_close_reports_realised_pnl_from_the_deals(broker: Mt5Broker, fake: FakeMt5) -> None:
    fill = await broker.place(intent())
    fake.set_tick("EURUSD", 1.10300, 1.10310)

    closed = await broker.close(fill.ticket, 0.05)

    assert closed.kind == "partial_close"
    assert closed.realized_pnl == pytest.approx(round((1.10300 - ASK) * 0.05 * 100_000, 2))
    assert deals(fake)[-1]["position"] == fill.ticket
    assert deals(fake)[-1]["type"] == fake.ORDER_TYPE_SELL


async def test_initialize_failure_is_a_readable_error() -> None:
    fake = FakeMt5()
    broker = Mt5Broker(Mt5Settings(login=999, password="x", server="Demo"), module_loader=loader_for(fake))
    with pytest.raises(BrokerError, match="MetaTrader 5 did not start: Authorization failed"):
        await broker.connect()
    await broker.disconnect()
    assert fake.initialize_args[0][1] == {"login": 999, "password": "x", "server": "Demo", "timeout": 60_000}


async def test_terminal_calls_never_overlap_and_stay_on_one_thread(broker: Mt5Broker, fake: FakeMt5) -> None:
    fake.call_delay_s = 0.002

    await asyncio.gather(*(broker.positions() for _ in range(8)), *(broker.quote("EURUSD") for _ in range(8)),
                         broker.place(intent()))

    assert fake.overlapping_calls == 0
    assert len(fake.thread_ids) == 1
