"""Ring buffers: tables plus a hypothesis model check against collections.deque."""

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.market.ring import ColumnRing, RingBuffer


def test_append_keeps_newest_in_order():
    ring = RingBuffer(3)
    for value in [1, 2, 3, 4, 5]:
        ring.append(value)
    assert ring.view().tolist() == [3.0, 4.0, 5.0]
    assert ring.view(2).tolist() == [4.0, 5.0]
    assert ring.last() == 5.0
    assert len(ring) == 3 and ring.total_appended == 5


@pytest.mark.parametrize(
    ("capacity", "batches", "expected"),
    [
        (4, [[1, 2]], [1, 2]),
        (4, [[1, 2, 3], [4, 5, 6]], [3, 4, 5, 6]),
        (4, [[1, 2, 3, 4, 5, 6, 7]], [4, 5, 6, 7]),
        (3, [[1], [], [2, 3, 4]], [2, 3, 4]),
        (1, [[1, 2], [3]], [3]),
    ],
)
def test_extend_table(capacity, batches, expected):
    ring = RingBuffer(capacity, np.int64)
    for batch in batches:
        ring.extend(np.array(batch, dtype=np.int64))
    assert ring.view().tolist() == expected


def test_view_is_read_only_and_copy_is_independent():
    ring = RingBuffer(4)
    ring.extend([1.0, 2.0])
    view = ring.view()
    with pytest.raises(ValueError):
        view[0] = 9.0
    copy = ring.copy()
    ring.append(3.0)
    assert copy.tolist() == [1.0, 2.0]
    copy[0] = 7.0  # writable, and not the ring's storage
    assert ring.view().tolist() == [1.0, 2.0, 3.0]


def test_replace_last_and_empty_errors():
    ring = RingBuffer(2)
    with pytest.raises(IndexError):
        ring.replace_last(1.0)
    with pytest.raises(IndexError):
        ring.last()
    ring.extend([1.0, 2.0, 3.0])
    ring.replace_last(9.0)
    assert ring.view().tolist() == [2.0, 9.0]
    with pytest.raises(ValueError):
        RingBuffer(0)


def test_storage_never_grows():
    ring = RingBuffer(100)
    before = ring.nbytes
    written: list[float] = []
    for start in range(0, 10_000, 7):
        batch = [float(v) for v in range(start, start + 7)]
        ring.extend(batch)
        written.extend(batch)
    assert ring.nbytes == before
    assert ring.view().tolist() == written[-100:]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(-1000, 1000)),
        st.tuples(st.just("extend"), st.lists(st.integers(-1000, 1000), max_size=25)),
        st.tuples(st.just("replace"), st.integers(-1000, 1000)),
        st.tuples(st.just("read"), st.integers(0, 30)),
        st.tuples(st.just("clear"), st.none()),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(capacity=st.integers(1, 12), ops=operations)
def test_ring_matches_deque_model(capacity, ops):
    ring = RingBuffer(capacity, np.int64)
    model: deque[int] = deque(maxlen=capacity)
    for op, arg in ops:
        if op == "append":
            ring.append(arg)
            model.append(arg)
        elif op == "extend":
            ring.extend(np.array(arg, dtype=np.int64))
            model.extend(arg)
        elif op == "replace" and model:
            ring.replace_last(arg)
            model[-1] = arg
        elif op == "clear":
            ring.clear()
            model.clear()
        elif op == "read":
            expected = list(model)[-arg:] if arg else []
            assert ring.view(arg).tolist() == expected
        assert len(ring) == len(model)
        assert ring.view().tolist() == list(model)


@settings(max_examples=80, deadline=None)
@given(capacity=st.integers(1, 10),
       rows=st.lists(st.tuples(st.integers(0, 10**12), st.floats(-1e6, 1e6, allow_nan=False)), max_size=40),
       chunk=st.integers(1, 7))
def test_column_ring_matches_deque_model(capacity, rows, chunk):
    ring = ColumnRing(capacity, {"ts_ms": np.int64, "price": np.float64})
    model: deque[tuple[int, float]] = deque(maxlen=capacity)
    for start in range(0, len(rows), chunk):
        batch = rows[start:start + chunk]
        if len(batch) == 1:
            ring.append(batch[0])
        else:
            ring.extend({"ts_ms": [r[0] for r in batch], "price": [r[1] for r in batch]})
        model.extend(batch)
        columns = ring.columns()
        assert columns["ts_ms"].tolist() == [r[0] for r in model]
        assert columns["price"].tolist() == [r[1] for r in model]
    if model:
        assert ring.last_row() == model[-1]


def test_column_ring_rejects_ragged_input():
    ring = ColumnRing(4, {"a": np.float64, "b": np.float64})
    with pytest.raises(ValueError):
        ring.extend({"a": [1.0, 2.0], "b": [1.0]})
    with pytest.raises(ValueError):
        ring.append((1.0,))


def test_an_unwritten_ring_reads_empty_and_counts_its_full_size():
    ring = RingBuffer(1000, np.int64)
    assert ring.nbytes == 2 * 1000 * 8  # the storage it will use, allocated on the first write
    assert ring.view().tolist() == [] and ring.copy(5).tolist() == [] and ring.dtype == np.int64
    with pytest.raises(IndexError):
        ring.last()
    ring.append(7)
    assert ring.view().tolist() == [7] and ring.nbytes == 2 * 1000 * 8
