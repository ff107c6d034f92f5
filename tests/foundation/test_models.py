"""Core models."""


def test_candle_arrays_until_uses_calendar_months():
    from datetime import UTC, datetime

    from core.models import Candle, CandleArrays

    def ms(y: int, m: int, d: int = 1) -> int:
        return int(datetime(y, m, d, tzinfo=UTC).timestamp() * 1000)

    months = [Candle("X", "1M", ms(2024, m), 1, 1, 1, 1, 1) for m in (1, 2, 3)]
    arrays = CandleArrays.from_candles("X", "1M", months)
    # January (31 days) is not closed on Jan 31 (a 30-day month would say it was), and is on Feb 1
    assert len(arrays.until(ms(2024, 1, 31))) == 0
    assert len(arrays.until(ms(2024, 2, 1))) == 1
    assert len(arrays.until(ms(2024, 3, 1))) == 2  # February 2024 has 29 days
