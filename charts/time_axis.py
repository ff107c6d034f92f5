"""UTC time ticks at round times (every 4 h, every day, every month...) with short labels."""

from __future__ import annotations

from datetime import UTC, datetime

_SECOND_MS = 1_000
_MINUTE_MS = 60 * _SECOND_MS
_HOUR_MS = 60 * _MINUTE_MS
_DAY_MS = 24 * _HOUR_MS

# Fixed-length steps, epoch aligned (so day steps fall on 00:00 UTC); months are handled apart.
_FIXED_STEPS_MS: tuple[int, ...] = (
    _SECOND_MS, 5 * _SECOND_MS, 15 * _SECOND_MS, 30 * _SECOND_MS,
    _MINUTE_MS, 5 * _MINUTE_MS, 15 * _MINUTE_MS, 30 * _MINUTE_MS,
    _HOUR_MS, 2 * _HOUR_MS, 3 * _HOUR_MS, 4 * _HOUR_MS, 6 * _HOUR_MS, 12 * _HOUR_MS,
    _DAY_MS, 2 * _DAY_MS, 7 * _DAY_MS, 14 * _DAY_MS,
)
_MONTH_STEPS: tuple[int, ...] = (1, 2, 3, 6, 12, 24, 60)


def utc_text(ts_ms: int, fmt: str = "%d %b %Y %H:%M UTC") -> str:
    """Format epoch milliseconds as UTC text."""
    return datetime.fromtimestamp(ts_ms / 1000.0, tz=UTC).strftime(fmt)


def time_ticks(start_ms: int, end_ms: int, max_ticks: int = 6) -> list[tuple[int, str]]:
    """Round UTC times inside [start_ms, end_ms] (at most ``max_ticks``) with their labels."""
    if end_ms < start_ms:
        start_ms, end_ms = end_ms, start_ms
    span_ms = end_ms - start_ms
    if span_ms == 0:
        return [(start_ms, _fixed_label(start_ms, _MINUTE_MS))]
    for step_ms in _FIXED_STEPS_MS:
        if span_ms // step_ms + 1 <= max_ticks:
            first = -(-start_ms // step_ms) * step_ms
            return [(ts, _fixed_label(ts, step_ms)) for ts in range(first, end_ms + 1, step_ms)]
    for months in _MONTH_STEPS:
        ticks = _month_ticks(start_ms, end_ms, months)
        if len(ticks) <= max_ticks:
            return ticks
    return _month_ticks(start_ms, end_ms, 12 * max(1, span_ms // (365 * _DAY_MS * max_ticks) + 1))


def _fixed_label(ts_ms: int, step_ms: int) -> str:
    if step_ms >= _DAY_MS or ts_ms % _DAY_MS == 0:
        return utc_text(ts_ms, "%d %b")
    if step_ms < _MINUTE_MS:
        return utc_text(ts_ms, "%H:%M:%S")
    return utc_text(ts_ms, "%H:%M")


def _month_ticks(start_ms: int, end_ms: int, months: int) -> list[tuple[int, str]]:
    start = datetime.fromtimestamp(start_ms / 1000.0, tz=UTC)
    index = start.year * 12 + start.month - 1  # months since year 0
    if start != datetime(start.year, start.month, 1, tzinfo=UTC):
        index += 1
    index = -(-index // months) * months
    fmt = "%Y" if months >= 12 else "%b %Y"
    ticks: list[tuple[int, str]] = []
    while True:
        moment = datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
        ts_ms = int(moment.timestamp() * 1000)
        if ts_ms > end_ms:
            return ticks
        ticks.append((ts_ms, moment.strftime(fmt)))
        index += months
