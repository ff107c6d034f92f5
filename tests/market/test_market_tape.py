"""Trade tape: since() against a plain list model, bounded size, out-of-order clamping."""

from hypothesis import given, settings
from hypothesis import strategies as st

from core.market.tape import TradeArrays, TradeTape


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 50), st.integers(1, 1000), st.integers(1, 100), st.booleans()),
                      max_size=120),
       capacity=st.integers(1, 40), flush_rows=st.integers(1, 16), cut=st.integers(0, 3000))
def test_since_matches_list_model(steps, capacity, flush_rows, cut):
    tape = TradeTape("X", capacity, flush_rows=flush_rows)
    model = []
    ts = 0
    for delta, price, qty, buy in steps:
        ts += delta
        tape.add(ts, float(price), float(qty), 1 if buy else -1)
        model.append((ts, float(price), float(qty), 1 if buy else -1, float(price) * float(qty)))
    kept = model[-capacity:]
    expected = [row for row in kept if row[0] >= cut]
    got = tape.since(cut)
    assert len(tape) == len(kept)
    assert list(zip(got.ts_ms.tolist(), got.price.tolist(), got.qty.tolist(), got.side.tolist(),
                    got.notional.tolist(), strict=True)) == expected


def test_out_of_order_trades_are_clamped_and_reads_are_copies():
    tape = TradeTape("X", 10)
    tape.add(1000, 1.0, 1.0, 1)
    tape.add(900, 2.0, 1.0, -1)  # arrived late: kept, at the newest time seen
    arrays = tape.since(950)
    assert arrays.ts_ms.tolist() == [1000, 1000] and arrays.side.tolist() == [1, -1]
    arrays.price[0] = 99.0
    assert tape.last(2).price.tolist() == [1.0, 2.0]


def test_bounded_and_empty():
    tape = TradeTape("X", 100, flush_rows=7)
    before = tape.nbytes
    for i in range(10_000):
        tape.add(i, 1.0, 1.0, 1)
    assert len(tape) == 100 and tape.nbytes == before and tape.pending_rows < 7
    assert tape.oldest_ts_ms() == 9_900
    assert len(tape.since(20_000)) == 0
    assert len(TradeArrays.empty("X")) == 0


def test_late_trades_are_clamped_across_batch_flushes_and_empty_sells_stay_sells():
    tape = TradeTape("X", 50, flush_rows=2)  # every second trade flushes a batch
    rows = [(1000, 1.0, 0.0, -1), (900, 2.0, 1.0, 1), (1100, 3.0, 2.0, -1), (1050, 4.0, 0.5, 1), (800, 5.0, 0.0, 1)]
    for row in rows:
        tape.add(*row)
    assert tape.pending_rows == 1 and len(tape) == 5
    got = tape.last(5)
    assert got.ts_ms.tolist() == [1000, 1000, 1100, 1100, 1100]  # the newest time seen, even across batches
    assert got.side.tolist() == [-1, 1, -1, 1, 1]  # a zero-qty sell is still a sell
    assert got.qty.tolist() == [0.0, 1.0, 2.0, 0.5, 0.0]
    assert got.notional.tolist() == [0.0, 2.0, 6.0, 2.0, 0.0]
