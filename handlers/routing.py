"""RouterSpec: a feature module's handlers, registered once at import, built into a fresh Router on demand.

aiogram lets a Router belong to one parent only, so module-level routers cannot be attached to
a second dispatcher (tests, console and webhook in one process). Each feature module declares
its handlers on a ``RouterSpec`` with the usual decorators; ``make()`` builds a new ``Router``
with them every time a dispatcher is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router

Handler = Callable[..., Any]


class RouterSpec:
    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: list[tuple[str, tuple[Any, ...], dict[str, Any], Handler]] = []

    def _register(self, observer: str, filters: tuple[Any, ...], kwargs: dict[str, Any]) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self._entries.append((observer, filters, kwargs, handler))
            return handler

        return decorator

    def message(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self._register("message", filters, kwargs)

    def callback_query(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self._register("callback_query", filters, kwargs)

    def errors(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        return self._register("errors", filters, kwargs)

    def make(self) -> Router:
        router = Router(name=self.name)
        for observer, filters, kwargs, handler in self._entries:
            getattr(router, observer)(*filters, **kwargs)(handler)
        return router
