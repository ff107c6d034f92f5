"""Bounded numpy ring buffers: fixed capacity, O(1) append, ordered (oldest-first) reads.

Storage is mirrored: every value is written twice, at ``i`` and ``i + capacity`` of an array
twice the capacity, so the newest ``n`` values are always one contiguous slice. Reads are
therefore zero-copy views (``view``) or one ``memcpy`` (``copy``); nothing ever grows.

A view aliases the storage: it is valid until the next write. Anything that keeps data past
the current call (another thread, a cache) must use ``copy``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np


def _check_capacity(capacity: int) -> int:
    if int(capacity) < 1:
        raise ValueError(f"ring capacity must be at least 1, got {capacity}")
    return int(capacity)


class RingBuffer:
    """A 1-D ring of ``capacity`` values of one numpy dtype.

    The storage is allocated on the first write, uninitialised (only written slots are ever
    read): a symbol has dozens of rings, most of which (higher timeframes of a symbol without
    history, say) may never be written, so creating them is nearly free. ``nbytes`` counts the
    full storage either way.
    """

    __slots__ = ("_buffer", "_dtype", "_capacity", "_head", "_size", "_total")

    def __init__(self, capacity: int, dtype: Any = np.float64) -> None:
        self._capacity = _check_capacity(capacity)
        self._dtype = np.dtype(dtype)
        self._buffer: np.ndarray | None = None
        self._head = 0  # index of the next write, in [0, capacity)
        self._size = 0
        self._total = 0

    def _storage(self) -> np.ndarray:
        buffer = self._buffer
        if buffer is None:
            buffer = self._buffer = np.empty(2 * self._capacity, dtype=self._dtype)
        return buffer

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def total_appended(self) -> int:
        """How many values were ever written (including the ones overwritten since)."""
        return self._total

    @property
    def nbytes(self) -> int:
        return 2 * self._capacity * self._dtype.itemsize

    def __len__(self) -> int:
        return self._size

    def append(self, value: Any) -> None:
        head = self._head
        buffer = self._buffer if self._buffer is not None else self._storage()
        buffer[head] = value
        buffer[head + self._capacity] = value
        self._head = head + 1 if head + 1 < self._capacity else 0
        if self._size < self._capacity:
            self._size += 1
        self._total += 1

    def extend(self, values: Iterable[Any] | np.ndarray) -> None:
        array = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=self._dtype)
        count = int(array.shape[0])
        if count == 0:
            return
        buffer = self._storage()
        capacity = self._capacity
        self._total += count
        if count >= capacity:
            tail = array[count - capacity:]
            buffer[:capacity] = tail
            buffer[capacity:] = tail
            self._head = 0
            self._size = capacity
            return
        head = self._head
        first = min(count, capacity - head)
        buffer[head:head + first] = array[:first]
        buffer[head + capacity:head + capacity + first] = array[:first]
        rest = count - first
        if rest:
            buffer[:rest] = array[first:]
            buffer[capacity:capacity + rest] = array[first:]
        self._head = (head + count) % capacity
        self._size = min(capacity, self._size + count)

    def replace_last(self, value: Any) -> None:
        """Overwrite the newest value (e.g. a corrected candle for the same open time)."""
        if not self._size:
            raise IndexError("replace_last on an empty ring")
        buffer = self._storage()
        index = self._head - 1 if self._head else self._capacity - 1
        buffer[index] = value
        buffer[index + self._capacity] = value

    def view(self, last: int | None = None) -> np.ndarray:
        """The newest ``last`` values (all by default), oldest first, as a read-only view."""
        count = self._size if last is None else max(0, min(int(last), self._size))
        end = self._head + self._capacity
        out = self._storage()[end - count:end] if count else np.empty(0, dtype=self._dtype)
        out.flags.writeable = False
        return out

    def copy(self, last: int | None = None) -> np.ndarray:
        """Like ``view`` but an independent, writable copy."""
        return self.view(last).copy()

    def last(self) -> Any:
        if not self._size:
            raise IndexError("last of an empty ring")
        return self._storage()[self._head + self._capacity - 1].item()

    def clear(self) -> None:
        self._head = 0
        self._size = 0


class ColumnRing:
    """Several equally long rings (one per named column) written row by row or in batches."""

    __slots__ = ("_columns", "_names", "_capacity")

    def __init__(self, capacity: int, columns: Mapping[str, Any]) -> None:
        self._capacity = _check_capacity(capacity)
        if not columns:
            raise ValueError("a ColumnRing needs at least one column")
        self._columns = {name: RingBuffer(self._capacity, dtype) for name, dtype in columns.items()}
        self._names = tuple(self._columns)

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def total_appended(self) -> int:
        return self._columns[self._names[0]].total_appended

    @property
    def nbytes(self) -> int:
        return sum(ring.nbytes for ring in self._columns.values())

    def __len__(self) -> int:
        return len(self._columns[self._names[0]])

    def append(self, row: Sequence[Any]) -> None:
        """Append one row given in column order."""
        if len(row) != len(self._names):
            raise ValueError(f"row has {len(row)} values, ring has {len(self._names)} columns")
        for ring, value in zip(self._columns.values(), row, strict=True):
            ring.append(value)

    def extend(self, columns: Mapping[str, Any]) -> None:
        """Append a batch given as ``{column: values}`` (every column, equal lengths)."""
        lengths = {len(columns[name]) for name in self._names}
        if len(lengths) != 1:
            raise ValueError(f"columns differ in length: {sorted(lengths)}")
        for name, ring in self._columns.items():
            ring.extend(columns[name])

    def replace_last(self, row: Sequence[Any]) -> None:
        for ring, value in zip(self._columns.values(), row, strict=True):
            ring.replace_last(value)

    def column(self, name: str, last: int | None = None) -> np.ndarray:
        """Read-only view of one column (valid until the next write)."""
        return self._columns[name].view(last)

    def columns(self, last: int | None = None, *, copy: bool = True) -> dict[str, np.ndarray]:
        return {name: (ring.copy(last) if copy else ring.view(last)) for name, ring in self._columns.items()}

    def last_row(self) -> tuple[Any, ...]:
        return tuple(ring.last() for ring in self._columns.values())

    def clear(self) -> None:
        for ring in self._columns.values():
            ring.clear()
