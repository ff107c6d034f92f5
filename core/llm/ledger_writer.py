"""Ledger writes off the verdict's path: batched, in order, on one task held here, retried.

The trader sees the verdict as soon as the model answers; its ledger rows follow in one
transaction a moment later (after ``linger_s``, or at once on ``flush``), so the write never
competes with the card edit for the database. Spend is counted in memory at once
(``BudgetGuard.record``) and answers are cached in memory at once, so nothing waits for the
write. ``flush`` returns when everything submitted before it is on disk (end of an update,
shutdown, tests).
"""

from __future__ import annotations

import asyncio
import logging

from core.llm.ports import Prompt
from core.llm.records import AiLedger, CallRecord, ReviewRecord

log = logging.getLogger("moneybot.ai.ledger")
ATTEMPTS = 3
RETRY_S = 0.5


class LedgerWriter:
    def __init__(self, ledger: AiLedger, *, linger_s: float = 0.25) -> None:
        self._ledger = ledger
        self._linger_s = linger_s
        self._calls: list[tuple[CallRecord, Prompt]] = []
        self._reviews: list[ReviewRecord] = []
        self._submitted = 0
        self._written = 0
        self._pending: asyncio.Event | None = None  # something waits to be written
        self._now: asyncio.Event | None = None  # someone flushes: do not linger
        self._done: asyncio.Condition | None = None  # a batch was written
        self._task: asyncio.Task | None = None

    def add_call(self, record: CallRecord, prompt: Prompt) -> None:
        self._calls.append((record, prompt))
        self._submitted_one()

    def add_review(self, record: ReviewRecord) -> None:
        self._reviews.append(record)
        self._submitted_one()

    async def flush(self) -> None:
        target = self._submitted
        if self._written >= target or self._now is None or self._done is None:
            return
        self._now.set()
        async with self._done:
            await self._done.wait_for(lambda: self._written >= target)

    async def close(self) -> None:
        await self.flush()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def _submitted_one(self) -> None:
        self._submitted += 1
        if self._pending is None:
            self._pending, self._now, self._done = asyncio.Event(), asyncio.Event(), asyncio.Condition()
        self._pending.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ai-ledger-writer")

    async def _run(self) -> None:
        assert self._pending is not None and self._now is not None and self._done is not None
        while True:
            await self._pending.wait()
            try:
                await asyncio.wait_for(self._now.wait(), self._linger_s)
            except TimeoutError:
                pass
            self._pending.clear()
            self._now.clear()
            calls, reviews, count = self._calls, self._reviews, self._submitted - self._written
            self._calls, self._reviews = [], []
            await self._write(calls, reviews)
            async with self._done:
                self._written += count
                self._done.notify_all()

    async def _write(self, calls: list[tuple[CallRecord, Prompt]], reviews: list[ReviewRecord]) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await self._ledger.add_records(calls, reviews)
                return
            except Exception:  # noqa: BLE001 - retried, then logged loudly (the spend is already counted)
                if attempt == ATTEMPTS:
                    log.exception("AI ledger write of %d calls and %d reviews failed for good", len(calls),
                                  len(reviews))
                else:
                    await asyncio.sleep(RETRY_S * attempt)
