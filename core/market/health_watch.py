"""Feed health transitions as events: OK -> DEGRADED -> STALE -> OK, per symbol.

``FeedHealth`` classifies on demand; ``HealthWatch.check`` (a one-second job) compares each
symbol's status with the last one seen and publishes ``FeedHealthChanged`` when it moved.
Symbols without Binance order flow are not watched (their prices come from elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable

from core.bus import EventBus
from core.events import FeedHealthChanged
from core.market.health import FeedHealth, HealthStatus
from core.ports import Clock


class HealthWatch:
    def __init__(self, health: FeedHealth, bus: EventBus, clock: Clock, symbols: Iterable[str]) -> None:
        self._health = health
        self._bus = bus
        self._clock = clock
        self._last: dict[str, HealthStatus] = {symbol: HealthStatus.OK for symbol in symbols}

    def check(self) -> list[FeedHealthChanged]:
        now = self._clock.now_ms()
        changes = []
        for symbol, before in self._last.items():
            status, reason = self._health.status(symbol)
            if status is before:
                continue
            self._last[symbol] = status
            change = FeedHealthChanged(ts_ms=now, symbol=symbol, old_status=before.value, new_status=status.value,
                                       reason=reason)
            self._bus.publish(change)
            changes.append(change)
        return changes

    def last(self) -> dict[str, HealthStatus]:
        return dict(self._last)
