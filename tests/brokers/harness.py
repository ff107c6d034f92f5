"""Both brokers set up on the same EURUSD contract, so one test can run against either."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.brokers.mt5 import Mt5Broker, Mt5Settings
from core.brokers.paper import PaperBroker, PaperParams
from core.execution import ContractSpec
from core.ports import Broker, FixedClock
from tests.brokers.fake_mt5 import FakeMt5, loader_for

BID, ASK = 1.10000, 1.10010
BALANCE = 10_000.0
EURUSD = ContractSpec("EURUSD", digits=5, contract_size=100_000.0, volume_min=0.01, volume_max=500.0,
                    volume_step=0.01)
MAGIC = 777


@dataclass
class Harness:
    """A broker plus a way to move its market."""

    name: str
    broker: Broker
    prices: dict[str, tuple[float, float]]
    fake: FakeMt5 | None = None

    def set_price(self, bid: float, ask: float, symbol: str = "EURUSD") -> None:
        self.prices[symbol] = (bid, ask)
        if self.fake is not None:
            self.fake.set_tick(symbol, bid, ask)
        else:
            self.broker.on_price(symbol, bid, ask, 1_700_000_000_000)  # type: ignore[attr-defined]


def paper_harness(state_path: Path | None = None, clock: FixedClock | None = None) -> Harness:
    prices = {"EURUSD": (BID, ASK)}
    params = PaperParams(starting_balance=BALANCE, spread_bps=0.0, slippage_bps=0.0, specs={"EURUSD": EURUSD})
    broker = PaperBroker(prices.get, clock or FixedClock(), state_path, params)
    return Harness("paper", broker, prices)


async def mt5_harness(fake: FakeMt5 | None = None, **settings: object) -> Harness:
    fake = fake or FakeMt5(balance=BALANCE)
    if "EURUSD" not in fake.symbols:
        fake.add_symbol("EURUSD", bid=BID, ask=ASK)
    broker = Mt5Broker(Mt5Settings(magic=MAGIC, **settings),
                       module_loader=loader_for(fake),  # type: ignore[arg-type]
                       clock=FixedClock())
    await broker.connect()
    return Harness("mt5", broker, {"EURUSD": (BID, ASK)}, fake)
