"""Pure MT5 translation: rounding, stops level, filling choice, retcode messages, records."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.brokers import mt5_requests as rq
from core.execution import ContractSpec, floor_to_step, normalize_volume, round_price
from core.models import Direction, OrderIntent, OrderType
from tests.brokers.fake_mt5 import FakeMt5

EURUSD = ContractSpec("EURUSD", digits=5, contract_size=100_000.0, volume_min=0.01, volume_max=50.0,
                      volume_step=0.01,
                    stops_level_points=30)
US30 = ContractSpec("US30", digits=2, tick_size=0.25, contract_size=1.0, volume_min=0.1, volume_max=100.0,
                  volume_step=0.1)

# Every return code in shared/reference/mt5.md with a word its message must carry (written from the
# reference, not from the adapter's table).
REFERENCE_RETCODES = {
    10004: "requote", 10006: "rejected", 10007: "cancelled", 10008: "placed", 10009: "done",
    10010: "part", 10011: "failed", 10012: "timed out", 10013: "invalid", 10014: "volume", 10015: "price",
    10016: "stop", 10017: "disabled", 10018: "closed", 10019: "money", 10020: "price changed",
    10021: "no quotes", 10022: "expiration", 10023: "changed", 10024: "too many", 10025: "nothing",
    10026: "server", 10027: "terminal", 10028: "locked", 10029: "frozen", 10030: "filling",
    10031: "connection", 10032: "real", 10033: "pending orders", 10034: "volume limit", 10035: "order type",
    10036: "already closed", 10038: "close volume", 10039: "close order", 10040: "open positions",
    10041: "activation", 10042: "long", 10043: "short", 10044: "closing", 10045: "fifo",
}


def symbol(spec: ContractSpec = EURUSD, *, flags: int = 3, exemode: int = 2) -> rq.Mt5Symbol:
    return rq.Mt5Symbol(spec=spec, name=spec.symbol + "m", filling_flags=flags, execution_mode=exemode,
                        trade_mode=rq.SYMBOL_TRADE_MODE_FULL, visible=True)


@pytest.mark.parametrize(("raw", "expected"), [
    (0.157, 0.15), (0.3, 0.3), (0.1 + 0.2, 0.3), (2.999999999, 3.0), (0.01, 0.01), (50.0, 50.0),
    (np.float64(0.25), 0.25),
])
def test_volume_rounds_down_to_the_step(raw: float, expected: float) -> None:
    volume = normalize_volume(raw, EURUSD)
    assert volume == expected
    assert type(volume) is float


@pytest.mark.parametrize(("raw", "words"), [(0.009, "below the broker minimum 0.01"), (0.0, "positive"),
                                            (-1.0, "positive"), (50.5, "above the broker maximum 50")])
def test_volume_outside_the_limits_is_refused(raw: float, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        normalize_volume(raw, EURUSD)


def test_floor_to_step_handles_coarse_steps() -> None:
    assert floor_to_step(0.27, 0.1) == 0.2
    assert floor_to_step(7.0, 0.5) == 7.0
    assert floor_to_step(123.0, 10.0) == 120.0
    assert floor_to_step(0.123, 0.0) == 0.123


@pytest.mark.parametrize(("price", "mode", "expected"), [
    (1.1000049, "nearest", 1.10000), (1.1000051, "nearest", 1.10001), (1.1000099, "down", 1.10000),
    (1.1000001, "up", 1.10001),
])
def test_prices_snap_to_digits(price: float, mode: str, expected: float) -> None:
    assert round_price(price, EURUSD, mode) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("price", "expected"),
                         [(34000.1, 34000.0), (34000.13, 34000.25), (34000.6, 34000.5)])
def test_prices_snap_to_the_tick_size_not_just_the_point(price: float, expected: float) -> None:
    assert round_price(price, US30) == expected


def test_too_close_stops_are_moved_out_to_the_stops_level() -> None:
    # stops level 30 points = 0.00030; a long is checked against the bid 1.10000
    sl, tp = rq.adjusted_stops(Direction.LONG, 1.10000, 1.10010, 1.09990, 1.10005, EURUSD)
    assert (sl, tp) == (1.09970, 1.10030)
    sl, tp = rq.adjusted_stops(Direction.SHORT, 1.10000, 1.10010, 1.10020, 1.09995, EURUSD)
    assert (sl, tp) == (1.10040, 1.09980)  # a short is checked against the ask 1.10010


def test_far_stops_are_only_snapped_away_from_the_market() -> None:
    sl, tp = rq.adjusted_stops(Direction.LONG, 1.10000, 1.10010, 1.0950049, 1.1100001, EURUSD)
    assert (sl, tp) == (1.09500, 1.11001)


def test_stops_on_the_wrong_side_are_refused_not_moved() -> None:
    with pytest.raises(ValueError, match="stop loss 1.1001 must be below the bid 1.1"):
        rq.adjusted_stops(Direction.LONG, 1.10000, 1.10010, 1.10010, None, EURUSD)


@pytest.mark.parametrize(("flags", "exemode", "pending", "expected"), [
    (1, 2, False, [rq.ORDER_FILLING_FOK]),
    (2, 2, False, [rq.ORDER_FILLING_IOC]),
    (3, 2, False, [rq.ORDER_FILLING_FOK, rq.ORDER_FILLING_IOC]),
    (0, 2, False, [rq.ORDER_FILLING_RETURN]),
    (2, rq.SYMBOL_TRADE_EXECUTION_EXCHANGE, False, [rq.ORDER_FILLING_IOC, rq.ORDER_FILLING_RETURN]),
    (3, 2, True, [rq.ORDER_FILLING_RETURN, rq.ORDER_FILLING_FOK, rq.ORDER_FILLING_IOC]),
])
def test_filling_mode_follows_the_symbol_flags(flags: int, exemode: int, pending: bool,
                                               expected: list[int]) -> None:
    assert rq.filling_candidates(symbol(flags=flags, exemode=exemode), pending=pending) == expected


def test_market_request_has_exact_types_and_rounded_values() -> None:
    intent = OrderIntent("EURUSD", Direction.SHORT, np.float64(0.257), stop_loss=1.1050004,
                         take_profit=1.0949996,
                         max_deviation_points=15)

    request = rq.to_mt5_request(intent, symbol(), 1.10000, 1.10010, magic=7, comment="mb:x", filling=1)

    assert request == {"action": rq.TRADE_ACTION_DEAL, "symbol": "EURUSDm", "volume": 0.25,
                       "type": rq.ORDER_TYPE_SELL, "price": 1.10000, "sl": 1.10501, "tp": 1.09499,
                       "deviation": 15, "magic": 7, "comment": "mb:x", "type_filling": 1,
                       "type_time": rq.ORDER_TIME_GTC}
    assert all(type(request[k]) is float for k in ("volume", "price", "sl", "tp"))


def test_pending_request_checks_distance_from_the_market() -> None:
    intent = OrderIntent("EURUSD", Direction.LONG, 0.1, order_type=OrderType.LIMIT, price=1.09990)
    with pytest.raises(ValueError, match="minimum distance"):  # 20 points below the ask; level is 30
        rq.to_mt5_request(intent, symbol(), 1.10000, 1.10010, magic=7, comment="", filling=2)

    far = OrderIntent("EURUSD", Direction.LONG, 0.1, order_type=OrderType.LIMIT, price=1.09900,
                      stop_loss=1.09890)
    request = rq.to_mt5_request(far, symbol(), 1.10000, 1.10010, magic=7, comment="", filling=2)
    assert (request["action"], request["type"]) == (rq.TRADE_ACTION_PENDING, rq.ORDER_TYPE_BUY_LIMIT)
    assert request["sl"] == 1.09870  # moved out to 30 points below the order price
    assert request["tp"] == 0.0


def test_every_reference_retcode_has_a_readable_message() -> None:
    assert set(REFERENCE_RETCODES) <= set(rq.RETCODES)
    for code, word in REFERENCE_RETCODES.items():
        message = rq.retcode_message(code)
        assert word in message.lower(), (code, message)
        assert str(code) in message


def test_fake_module_uses_the_same_constant_values() -> None:
    fake = FakeMt5()
    for name in ("TRADE_ACTION_DEAL", "TRADE_ACTION_PENDING", "TRADE_ACTION_SLTP", "TRADE_ACTION_MODIFY",
                 "TRADE_ACTION_REMOVE", "ORDER_TYPE_BUY", "ORDER_TYPE_SELL_STOP", "ORDER_FILLING_RETURN",
                 "TRADE_RETCODE_INVALID_FILL", "TRADE_RETCODE_REQUOTE"):
        assert getattr(rq, name) == getattr(fake, name), name


def test_broker_comment_is_added_when_it_says_more() -> None:
    assert rq.retcode_message(10006, "Off quotes") == (
        "the broker rejected the request (MT5 10006 REJECT; broker says: Off quotes)")
    assert "broker says" not in rq.retcode_message(10009, "Done")


def test_comments_carry_the_approval_id_within_the_limit() -> None:
    comment = rq.comment_for("0123456789abcdef0123456789abcdef", 31)
    assert comment == "mb:0123456789abcdef0123456789ab" and len(comment) == 31
    assert rq.client_id_from_comment("mb:appr-1") == "appr-1"
    assert rq.client_id_from_comment("[sl 1.0950]") == ""


def test_records_become_positions_and_orders() -> None:
    position = {"ticket": 5, "type": 1, "volume": 0.3, "price_open": 1.1, "time_msc": 1_700_000_007_200_000,
                "sl": 0.0, "tp": 1.09, "price_current": 1.098, "profit": 60.0, "swap": -1.5,
                "comment": "mb:a"}
    converted = rq.position_from_mt5(position, "EURUSD", time_offset_ms=7_200_000)
    assert (converted.direction, converted.stop_loss, converted.take_profit) == (Direction.SHORT, None, 1.09)
    assert converted.open_ts_ms == 1_700_000_000_000_000
    assert (converted.unrealized_pnl, converted.client_id) == (58.5, "a")

    order = {"ticket": 6, "type": rq.ORDER_TYPE_SELL_STOP, "volume_current": 0.2, "price_open": 1.09,
             "sl": 1.1,
             "tp": 0.0, "comment": ""}
    pending = rq.order_from_mt5(order, "EURUSD")
    assert pending is not None
    assert (pending.direction, pending.order_type) == (Direction.SHORT, OrderType.STOP)
    assert pending.take_profit is None
    assert rq.order_from_mt5({**order, "type": 8}, "EURUSD") is None  # close-by: not ours to model


def test_deal_pnl_sums_profit_and_costs() -> None:
    deals = [{"profit": 12.5, "commission": -0.7, "swap": -0.3, "fee": -0.1}, {"profit": 2.0}]
    assert rq.deals_pnl(deals) == pytest.approx(13.4)
    assert rq.deals_pnl(()) is None
    assert math.isclose(rq.deals_pnl([{"profit": -1.0}]) or 0.0, -1.0)
