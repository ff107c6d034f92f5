"""EventBus: in-process publish/subscribe of domain events (``core.events``) with isolation.

- ``publish`` is synchronous and never waits: it appends the event to the bounded queue of every
  subscriber whose types match and returns (safe on the market-data hot path).
- Each subscriber has its own queue and its own task. A slow subscriber only fills its own queue;
  when the queue is full the *oldest* waiting event is dropped and counted. A subscriber that
  raises is logged and counted and goes on with the next event.
- ``stats()`` reports per subscriber: delivered, dropped, errors, queue depth and the publish to
  handling lag (p99 and max over the recent events), which ``/health`` shows.

Publish from another thread with ``publish_threadsafe`` (it hops to the bus's loop).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.events import Event

log = logging.getLogger("moneybot.bus")
Handler = Callable[[Any], Awaitable[None] | None]
LAG_WINDOW = 2048  # recent lags kept per subscriber for the percentiles


@dataclass(frozen=True, slots=True)
class SubscriberStats:
    name: str
    types: tuple[str, ...]
    delivered: int
    dropped: int
    errors: int
    queue_depth: int
    queue_limit: int
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    last_error: str = ""

    @property
    def healthy(self) -> bool:
        return self.dropped == 0 and self.queue_depth < self.queue_limit


class Subscription:
    """One subscriber: its queue, its worker task and its counters."""

    def __init__(self, name: str, handler: Handler, types: tuple[type[Event], ...], maxsize: int) -> None:
        self.name = name
        self.types = types
        self.maxsize = maxsize
        self._handler = handler
        self._queue: deque[tuple[Event, int]] = deque()
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self.delivered = 0
        self.dropped = 0
        self.errors = 0
        self.last_error = ""
        self._lags_ns: deque[int] = deque(maxlen=LAG_WINDOW)
        self._lag_max_ns = 0

    def offer(self, event: Event, now_ns: int) -> None:
        queue = self._queue
        if len(queue) >= self.maxsize:
            queue.popleft()
            self.dropped += 1
        queue.append((event, now_ns))
        wake = self._wake
        if wake is not None and not wake.is_set():
            wake.set()

    def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._idle = asyncio.Event()
            if self._queue:
                self._wake.set()
            else:
                self._idle.set()
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"bus:{self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def drain(self, timeout_s: float) -> bool:
        """Wait until the queue is empty and the handler idle; False on timeout."""
        if self._task is None or self._idle is None:
            return not self._queue
        try:
            async with asyncio.timeout(timeout_s):
                while self._queue or not self._idle.is_set():
                    await self._idle.wait()
                    await asyncio.sleep(0)
        except TimeoutError:
            return False
        return True

    async def _run(self) -> None:
        assert self._wake is not None and self._idle is not None
        queue = self._queue
        while True:
            if not queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            self._idle.clear()
            event, published_ns = queue.popleft()
            lag_ns = time.perf_counter_ns() - published_ns
            self._lags_ns.append(lag_ns)
            if lag_ns > self._lag_max_ns:
                self._lag_max_ns = lag_ns
            try:
                result = self._handler(event)
                if inspect.isawaitable(result):
                    await result
                self.delivered += 1
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - a failing subscriber must not stop the others
                self.errors += 1
                self.last_error = f"{type(e).__name__}: {e}"[:200]
                log.exception("subscriber %s failed on %s", self.name, type(event).__name__)
            if not queue:
                await asyncio.sleep(0)  # let the publisher run between bursts

    def stats(self) -> SubscriberStats:
        lags = sorted(self._lags_ns)

        def pct(q: float) -> float:
            if not lags:
                return 0.0
            return lags[min(len(lags) - 1, int(q * len(lags)))] / 1e6

        return SubscriberStats(self.name, tuple(t.__name__ for t in self.types), self.delivered, self.dropped,
                               self.errors, len(self._queue), self.maxsize, pct(0.5), pct(0.99),
                               self._lag_max_ns / 1e6, self.last_error)


class EventBus:
    def __init__(self, *, default_maxsize: int = 1000) -> None:
        self._default_maxsize = default_maxsize
        self._subscriptions: list[Subscription] = []
        self._routes: dict[type, tuple[Subscription, ...]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0

    def subscribe(self, name: str, handler: Handler, *types: type[Event], maxsize: int | None = None
                  ) -> Subscription:
        """Deliver events of ``types`` (default: every event) to ``handler`` on its own task."""
        if any(s.name == name for s in self._subscriptions):
            raise ValueError(f"a subscriber named {name!r} exists already")
        subscription = Subscription(name, handler, types or (Event,), maxsize or self._default_maxsize)
        self._subscriptions.append(subscription)
        self._routes.clear()
        if self._loop is not None:
            subscription.start()
        return subscription

    def wants(self, event_type: type[Event]) -> bool:
        """True when someone subscribes to this type (publishers may skip building the event)."""
        return bool(self._route(event_type))

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every matching subscriber's queue; never blocks. Call on the bus's loop."""
        self.published += 1
        route = self._routes.get(type(event))
        if route is None:
            route = self._route(type(event))
        if route:
            now_ns = time.perf_counter_ns()
            for subscription in route:
                subscription.offer(event, now_ns)

    def publish_threadsafe(self, event: Event) -> None:
        """``publish`` from a worker thread (evaluation off the loop)."""
        if self._loop is None:
            self.publish(event)
        else:
            self._loop.call_soon_threadsafe(self.publish, event)

    def _route(self, event_type: type) -> tuple[Subscription, ...]:
        route = tuple(s for s in self._subscriptions if issubclass(event_type, s.types))
        self._routes[event_type] = route
        return route

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for subscription in self._subscriptions:
            subscription.start()

    async def drain(self, timeout_s: float = 5.0) -> bool:
        """Wait until every subscriber has handled what was published (tests, shutdown)."""
        results = [await s.drain(timeout_s) for s in self._subscriptions]
        return all(results)

    async def stop(self, *, drain_s: float = 2.0) -> None:
        if self._loop is not None and drain_s > 0:
            await self.drain(drain_s)
        for subscription in self._subscriptions:
            await subscription.stop()
        self._loop = None

    def stats(self) -> list[SubscriberStats]:
        return [s.stats() for s in self._subscriptions]
