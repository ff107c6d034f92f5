"""Sequence checks on decoded market events: missed trades, books going back, skipped bars."""

from __future__ import annotations

from core.models import BookSnapshot, Candle, MarketEvent, StreamKind, Trade, interval_ms


class GapDetector:
    """Remembers the last id/time per symbol and stream and says when a sequence broke.

    - trades: the aggregate-trade id must be the previous id + 1 (older ids are duplicates);
    - books: ``last_update_id`` must never go backwards;
    - klines: the open time may not jump by more than 1.5 intervals (one bar or more missing;
      the slack absorbs calendar months, whose nominal length is 30 days).
    """

    def __init__(self) -> None:
        self._trade_id: dict[str, int] = {}
        self._book_id: dict[str, int] = {}
        self._kline_open: dict[tuple[str, str], int] = {}

    def check(self, event: MarketEvent) -> tuple[StreamKind, str] | None:
        """The stream kind and a readable detail when ``event`` breaks its sequence, else None."""
        if type(event) is Trade:
            return self._trade(event)
        if type(event) is BookSnapshot:
            return self._book(event)
        if type(event) is Candle:
            return self._kline(event)
        return None

    def _trade(self, trade: Trade) -> tuple[StreamKind, str] | None:
        last = self._trade_id.get(trade.symbol)
        if last is not None and trade.trade_id <= last:
            return None  # a duplicate after a reconnect: nothing was missed
        self._trade_id[trade.symbol] = trade.trade_id
        if last is None or trade.trade_id == last + 1:
            return None
        missing = trade.trade_id - last - 1
        return StreamKind.TRADE, f"{missing} trade(s) missed: id {last} -> {trade.trade_id}"

    def _book(self, book: BookSnapshot) -> tuple[StreamKind, str] | None:
        last = self._book_id.get(book.symbol)
        self._book_id[book.symbol] = book.last_update_id
        if last is None or book.last_update_id >= last:
            return None
        return StreamKind.DEPTH, f"book update id went backwards: {last} -> {book.last_update_id}"

    def _kline(self, candle: Candle) -> tuple[StreamKind, str] | None:
        key = (candle.symbol, candle.interval)
        last = self._kline_open.get(key)
        if last is not None and candle.open_time_ms <= last:
            return None
        self._kline_open[key] = candle.open_time_ms
        if last is None:
            return None
        step_ms = interval_ms(candle.interval)
        if candle.open_time_ms - last <= step_ms * 3 // 2:
            return None
        missing = (candle.open_time_ms - last) // step_ms - 1
        return StreamKind.KLINE, f"{candle.interval} kline jumped {missing} bar(s): {last} -> {candle.open_time_ms}"
