"""BinanceDecoder against real recorded frames, checked field by field against an orjson parse."""

from __future__ import annotations

import gzip

import orjson
import pytest

from core.feeds import binance_decode as bd
from core.feeds.binance_decode import BinanceDecoder, MalformedFrame, ServerShutdown
from core.feeds.gaps import GapDetector
from core.market.symbols import BinanceMarket, default_symbol_map
from core.models import BookSnapshot, Candle, Side, StreamKind, Trade
from tests.paths import BINANCE_DATA


def recorded(relative: str, limit: int | None = None) -> list[bytes]:
    path = BINANCE_DATA / relative
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        lines = [line.rstrip(b"\n").split(b" ", 1)[1] for line in f if line.strip()]
    return lines[:limit] if limit else lines


@pytest.fixture
def spot() -> BinanceDecoder:
    return BinanceDecoder(default_symbol_map().from_binance, BinanceMarket.SPOT)


def test_spot_agg_trades_match_an_independent_parse(spot: BinanceDecoder) -> None:
    for frame in recorded("aggtrades/ws_aggTrade_spot_BTCUSDT_20210404.txt"):
        raw = orjson.loads(frame)["data"]
        trade = spot.decode(frame, 0)
        assert trade == Trade("BTCUSD", raw["a"], float(raw["p"]), float(raw["q"]), raw["T"],
                              Side.SELL if raw["m"] else Side.BUY)


def test_buyer_is_maker_means_a_sell_aggressor(spot: BinanceDecoder) -> None:
    frames = recorded("aggtrades/ws_aggTrade_spot_BTCUSDT_20210404.txt", 2)
    assert b'"m":true' in frames[0] and b'"m":false' in frames[1]
    assert spot.decode(frames[0], 0).side is Side.SELL
    assert spot.decode(frames[1], 0).side is Side.BUY


def test_futures_agg_trades_keep_exchange_names_without_mapping() -> None:
    decoder = BinanceDecoder(default_symbol_map().from_binance, BinanceMarket.FUTURES)
    frames = recorded("aggtrades/ws_aggTrade_usdm_SUSHI_AKRO_KEEP_CTK_USDT_20210722.txt")
    trades = [decoder.decode(f, 0) for f in frames]
    assert {t.symbol for t in trades} == {"SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"}
    last = orjson.loads(frames[-1])["data"]
    assert trades[-1].price == float(last["p"]) and trades[-1].trade_id == last["a"]


@pytest.mark.parametrize("relative", ["klines/ws_kline_1m_spot_BTCUSDT_ETHUSDT_DOTUSDT_20210404.txt",
                                      "klines/ws_kline_1m_usdm_SUSHI_AKRO_KEEP_CTK_USDT_20210722.txt"])
def test_kline_frames_give_forming_and_closed_candles(relative: str) -> None:
    decoder = BinanceDecoder(None, BinanceMarket.FUTURES if "usdm" in relative else BinanceMarket.SPOT)
    closed = 0
    for frame in recorded(relative):
        k = orjson.loads(frame)["data"]["k"]
        candle = decoder.decode(frame, 0)
        assert candle == Candle(k["s"], k["i"], k["t"], float(k["o"]), float(k["h"]), float(k["l"]),
                                float(k["c"]), float(k["v"]), k["x"], float(k["q"]), k["n"], float(k["V"]))
        closed += candle.closed
    assert closed in (3, 4)  # README: 3 closed spot klines, 4 closed futures klines


def test_spot_depth20_takes_symbol_from_stream_and_time_from_receive(spot: BinanceDecoder) -> None:
    frames = recorded("depth/derived_depth20_100ms_BTCUSDT_20240808T2354-20240809T0005.txt.gz", 300)
    for frame in frames:
        raw = orjson.loads(frame)["data"]
        book = spot.decode(frame, 1_723_161_254_137)
        assert isinstance(book, BookSnapshot)
        assert book.symbol == "BTCUSD" and book.ts_ms == 1_723_161_254_137
        assert book.last_update_id == raw["lastUpdateId"]
        assert book.bids == tuple((float(p), float(q)) for p, q in raw["bids"])
        assert book.asks == tuple((float(p), float(q)) for p, q in raw["asks"])
        assert len(book.bids) == 20 and book.best_bid < book.best_ask


def test_futures_depth_payload_uses_b_and_a_keys() -> None:
    decoder = BinanceDecoder(None, BinanceMarket.FUTURES)
    frame = (b'{"stream":"btcusdt@depth20@100ms","data":{"e":"depthUpdate","E":1700000000123,"T":1700000000120,'
             b'"s":"BTCUSDT","U":10,"u":15,"pu":9,"b":[["100.5","2"],["100.4","1.5"]],"a":[["100.6","3"]]}}')
    book = decoder.decode(frame, 5)
    assert book == BookSnapshot("BTCUSDT", 1700000000123, 15, ((100.5, 2.0), (100.4, 1.5)), ((100.6, 3.0),))


def test_individual_trade_stream_and_str_frames(spot: BinanceDecoder) -> None:
    frame = ('{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":42,"p":"61837.63",'
             '"q":"0.02","T":1723161255342,"m":false,"M":true}}')
    assert spot.decode(frame, 0) == Trade("BTCUSD", 42, 61837.63, 0.02, 1723161255342, Side.BUY)


def test_other_key_order_takes_the_slow_path_with_the_same_result(spot: BinanceDecoder) -> None:
    frame = recorded("aggtrades/ws_aggTrade_spot_BTCUSDT_20210404.txt", 1)[0]
    parsed = orjson.loads(frame)
    reordered = orjson.dumps({"data": parsed["data"], "stream": parsed["stream"]})
    assert spot.decode(reordered, 0) == spot.decode(frame, 0)


def test_control_acks_snapshots_and_unmodelled_streams_are_skipped(spot: BinanceDecoder) -> None:
    skipped = [b'{"result":null,"id":1}', b'{"result":["btcusdt@aggTrade"],"id":"abc"}',
               b'{"lastUpdateId":1,"bids":[["1","2"]],"asks":[]}',
               b'{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1.0","B":"2","a":"1.1","A":"3"}}',
               b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,'
               b'"b":[],"a":[]}}',
               b'{"stream":"btcusdt@avgPrice","data":{"e":"avgPrice","E":1,"s":"BTCUSDT","i":"5m","w":"1.0"}}']
    for frame in skipped:
        assert spot.decode(frame, 0) is None, frame
    assert spot.skipped == len(skipped)


@pytest.mark.parametrize("frame", [
    b"not json at all", b"", b"\x00\xff", b'{"stream":"btcusdt@aggTrade","data":{"a":"x","p":"1"}}',
    b'{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","a":1,"p":"1.0","q":"1.0"', b"[1,2,3]",
    b'{"stream":"btcusdt@kline_1m","data":{"e":"kline","k":{"t":1}}}', b'{"hello":"world"}',
    b'{"code":2,"msg":"Invalid request: unknown variant"}',
])
def test_malformed_frames_raise_a_countable_error(spot: BinanceDecoder, frame: bytes) -> None:
    with pytest.raises(MalformedFrame):
        spot.decode(frame, 0)


@pytest.mark.parametrize("frame", [
    b'{"e":"serverShutdown","E":1770123456789}', b'{"event":{"e":"serverShutdown","E":1770123456789}}',
    b'{"stream":"btcusdt@aggTrade","data":{"e":"serverShutdown","E":1770123456789}}',
])
def test_server_shutdown_notices_are_recognised(spot: BinanceDecoder, frame: bytes) -> None:
    with pytest.raises(ServerShutdown):
        spot.decode(frame, 0)


def test_fast_constructors_build_equal_objects() -> None:
    assert bd._new_trade("X", 1, 2.0, 3.0, 4, Side.BUY) == Trade("X", 1, 2.0, 3.0, 4, Side.BUY)
    assert bd._new_book("X", 1, 2, ((1.0, 2.0),), ()) == BookSnapshot("X", 1, 2, ((1.0, 2.0),), ())
    candle = Candle("X", "1m", 60_000, 1.0, 2.0, 0.5, 1.5, 10.0, False, 15.0, 7, 4.0)
    assert bd._new_candle("X", "1m", 60_000, 1.0, 2.0, 0.5, 1.5, 10.0, False, 15.0, 7, 4.0) == candle
    with pytest.raises(AttributeError):  # still frozen to everyone else
        bd._new_trade("X", 1, 2.0, 3.0, 4, Side.BUY).price = 5.0  # type: ignore[misc]


def test_gap_detector_flags_missed_trades_backward_books_and_skipped_bars() -> None:
    gaps = GapDetector()
    trade = Trade("BTCUSD", 10, 1.0, 1.0, 0, Side.BUY)
    assert gaps.check(trade) is None
    assert gaps.check(Trade("BTCUSD", 11, 1.0, 1.0, 0, Side.BUY)) is None
    assert gaps.check(Trade("BTCUSD", 11, 1.0, 1.0, 0, Side.BUY)) is None  # duplicate
    kind, detail = gaps.check(Trade("BTCUSD", 15, 1.0, 1.0, 0, Side.BUY))
    assert kind is StreamKind.TRADE and "3 trade(s) missed" in detail
    assert gaps.check(BookSnapshot("BTCUSD", 0, 100, (), ())) is None
    assert gaps.check(BookSnapshot("BTCUSD", 0, 100, (), ())) is None
    assert gaps.check(BookSnapshot("BTCUSD", 0, 99, (), ()))[0] is StreamKind.DEPTH
    bar = Candle("BTCUSD", "1m", 60_000, 1, 1, 1, 1, 0, False)
    assert gaps.check(bar) is None
    assert gaps.check(Candle("BTCUSD", "1m", 120_000, 1, 1, 1, 1, 0, False)) is None
    kind, detail = gaps.check(Candle("BTCUSD", "1m", 300_000, 1, 1, 1, 1, 0, False))
    assert kind is StreamKind.KLINE and "2 bar(s)" in detail
    month = 31 * 86_400_000  # calendar months are longer than the nominal 30 days: not a gap
    assert gaps.check(Candle("BTCUSD", "1M", 0, 1, 1, 1, 1, 0)) is None
    assert gaps.check(Candle("BTCUSD", "1M", month, 1, 1, 1, 1, 0)) is None


def test_recorded_agg_trade_ids_are_contiguous(spot: BinanceDecoder) -> None:
    gaps = GapDetector()
    found = [gaps.check(spot.decode(f, 0)) for f in recorded("aggtrades/ws_aggTrade_spot_BTCUSDT_20210404.txt")]
    assert found.count(None) == len(found)
