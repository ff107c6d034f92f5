"""The account figures that size a plan on a card, the way EXECUTE's size gate will.

The analysis is pure and synchronous, the broker is not: ``refresh(symbol)`` reads the account
(equity, currency) and the symbol's contract rules from the broker and fetches the conversion
prices ``core.money`` needs; ``sizing(symbol)`` then hands the analysis a ``PlanSizing`` with the
rate as it is at that moment (None and the reason when it is unknown or stale). Between
refreshes the last account figures are used (a WAIT re-check sizes with them).
"""

from __future__ import annotations

import logging

from core.analysis.inputs import PlanSizing
from core.execution import ContractSpec
from core.models import AccountInfo
from core.money import MoneyService, RateUnavailable
from core.ports import Broker, BrokerError

log = logging.getLogger("moneybot.sizing")


class SizingContext:
    def __init__(self, *, broker: Broker, money: MoneyService) -> None:
        self._broker = broker
        self._money = money
        self._account: AccountInfo | None = None
        self._specs: dict[str, ContractSpec] = {}

    async def refresh(self, symbol: str) -> None:
        """Read the account and ``symbol``'s contract from the broker and fetch its conversion prices;
        a broker that does not answer leaves the last figures (logged)."""
        try:
            self._account = await self._broker.account()
            self._specs[symbol] = await self._broker.contract_spec(symbol)
            await self._money.refresh(self._money.currencies(symbol)[1], self._account.currency, self._broker.quote)
        except (BrokerError, RateUnavailable) as e:
            log.warning("sizing figures for %s not refreshed: %s", symbol, e)

    def sizing(self, symbol: str) -> PlanSizing | None:
        """What sizes ``symbol``'s plan now; None before the broker was read once."""
        spec = self._specs.get(symbol)
        if self._account is None or spec is None:
            return None
        currency = self._account.currency
        try:
            rate, problem = self._money.quote_rate(symbol, currency), ""
        except RateUnavailable as e:
            rate, problem = None, e.message
        return PlanSizing(equity=self._account.equity, currency=currency, spec=spec, quote_to_account=rate,
                          problem=problem)
