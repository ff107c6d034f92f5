"""The AI as the signal pipeline's screening stage (``core.signals.ScreeningStage``).

``SignalService.issue`` asks ``wants`` (a trader asked with /ai, or ``ai.auto_screen`` lists the
symbol) and then runs ``screen`` on a task of its own, after the card is out: the review is
made, published (``SignalScreened``) and handed to the ``ReviewPresenter`` (the bot edits the
card in place). The card is never delayed and never hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from core.events import SignalIssued
from core.llm.review import AiReview, AiReviewer, auto_screens
from core.llm.summary import SummaryContext
from core.market.price_sync import PriceSync
from core.market.symbols import SymbolMap
from core.ports import Clock
from core.tunables import TunableValues


class ReviewPresenter(Protocol):
    """Shows a finished review on its card (the bot renders and edits it)."""

    async def present(self, issued: SignalIssued, review: AiReview) -> None: ...


def summary_context(symbol: str, *, symbol_map: SymbolMap, price_sync: PriceSync | None, tunables: TunableValues,
                    clock: Clock) -> SummaryContext:
    """Precision, broker basis and the plan rules the AI is told about (no account or user facts)."""
    basis_bps = None
    if price_sync is not None and not price_sync.is_identity:
        basis = price_sync.basis(symbol, clock.now_ms())
        basis_bps = basis.median_difference_bps if basis is not None and basis.stable else None
    return SummaryContext(symbol_map.spec(symbol).price_digits, basis_bps, tunables["signal.min_risk_reward"])


class AiScreening:
    def __init__(self, *, reviewer: AiReviewer, tunables: TunableValues, context: Callable[[str], SummaryContext],
                 presenter: ReviewPresenter | None = None) -> None:
        self._reviewer = reviewer
        self._tunables = tunables
        self._context = context
        self._presenter = presenter

    def wants(self, issued: SignalIssued, *, requested: bool) -> bool:
        return requested or auto_screens(self._tunables, issued.symbol)

    async def screen(self, issued: SignalIssued) -> None:
        evaluation = issued.evaluation
        if evaluation is None or evaluation.analysis is None:
            return
        review = await self._reviewer.review(evaluation.analysis, self._context(issued.symbol),
                                             signal_id=issued.approval_id, chat_id=issued.chat_id)
        if self._presenter is not None:
            await self._presenter.present(issued, review)
