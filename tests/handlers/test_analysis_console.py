"""/analyse, /flow, /sr, /depth and a bad symbol piped into `python -m bot chat` on the simulator."""

import re
import time
from pathlib import Path

import pytest

from tests.conftest import run_moneybot

SCRIPT = "/analyse BTCUSD\n/flow BTCUSD\n/sr BTCUSD\n/depth BTCUSD\n/analyse NOPE\n"
PHOTO = re.compile(r"^\[photo\] (.+)$", re.MULTILINE)
MONEY = {"": 1.0, "k": 1e3, "M": 1e6}


@pytest.fixture(scope="module")
def console_run(tmp_path_factory) -> tuple[str, float]:
    data_dir = tmp_path_factory.mktemp("console") / "data"
    started_s = time.time()
    result = run_moneybot(data_dir, SCRIPT, "chat")
    assert result.returncode == 0, result.stderr
    return result.stdout, started_s


@pytest.fixture
def console_output(console_run) -> str:
    return console_run[0]


def _section(out: str, start: str, end: str) -> str:
    return out[out.index(start):out.index(end, out.index(start))]


def _money(text: str) -> float:
    number, suffix = re.fullmatch(r"[+-]?\$([\d.]+)([kM]?)", text).groups()
    return float(number) * MONEY[suffix]


def _rounding(text: str) -> float:
    """Half a unit of the last digit shown: how far the printed amount may be from the true one."""
    number, suffix = re.fullmatch(r"[+-]?\$([\d.]+)([kM]?)", text).groups()
    decimals = len(number.split(".")[1]) if "." in number else 0
    return 0.5 * 10 ** -decimals * MONEY[suffix]


def test_the_first_card_is_fresh_and_complete(console_run):
    console_output, started_s = console_run
    card = _section(console_output, "BTCUSD ", "[photo]")
    assert card.startswith("BTCUSD ") and "[SIMULATED]" in card
    # the simulator starts at the whole minute; the console must bring it up to the clock before
    # answering, so the first card's data is from after the process started, not up to a minute before
    hours, minutes, seconds = map(int, re.search(r"^Price [\d,.]+ · (\d\d):(\d\d):(\d\d) UTC", card,
                                                 re.MULTILINE).groups())
    card_s, started_of_day = hours * 3600 + minutes * 60 + seconds, int(started_s) % 86400
    assert (card_s - started_of_day) % 86400 < 600
    assert "s old (limit" not in card
    assert "Not ready" not in console_output
    for part in ("Zones (nearest)", "RSI: 1h", "Volume (1h):", "Order flow:", "Why: Signals net"):
        assert part in card
    assert len([line for line in card.splitlines() if line.startswith("Why:")]) == 1  # one paragraph
    price = float(re.search(r"^Price ([\d,.]+)", card, re.MULTILINE).group(1).replace(",", ""))
    zones = re.findall(r"^([SR]) ([\d,.]+)–([\d,.]+) \((inside|at the edge|[+-][\d.]+%)\)", card, re.MULTILINE)
    assert zones
    for kind, low, high, where in zones:
        low, high = float(low.replace(",", "")), float(high.replace(",", ""))
        if where.endswith("%"):
            edge = high if kind == "S" else low
            assert float(where[:-1]) == pytest.approx((edge - price) / price * 100, abs=0.006)
            assert (edge < price) if kind == "S" else (edge > price)


def test_flow_numbers_add_up(console_output):
    flow = _section(console_output, "BTCUSD order flow", "[photo]")
    buy, sell, share, delta = re.search(r"pressure: buy (\$[\d.]+[kM]?) / sell (\$[\d.]+[kM]?) \((\d+)% buy, "
                                        r"delta ([+-]\$[\d.]+[kM]?)", flow).groups()
    slack = _rounding(buy) + _rounding(sell) + _rounding(delta)  # each amount is printed rounded
    buy, sell = _money(buy), _money(sell)
    assert int(share) == pytest.approx(100 * buy / (buy + sell), abs=1.5)
    assert _money(delta) * (1 if delta[0] == "+" else -1) == pytest.approx(buy - sell, abs=slack)
    assert "Large trades:" in flow and "Book imbalance (top 10):" in flow


def test_each_command_sends_its_chart_as_a_real_png(console_output):
    photos = PHOTO.findall(console_output)
    assert [Path(p).name.split("-", 2)[2] for p in photos] == [
        "BTCUSD-sr.png", "BTCUSD-depth.png", "BTCUSD-sr.png", "BTCUSD-depth.png"]
    for path in photos:
        data = Path(path).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    zones = _section(console_output, "BTCUSD support / resistance", "[photo]")
    assert "▸ price" in zones
    order = [console_output.index(s) for s in ("Zones (nearest)", "BTCUSD order flow", "BTCUSD support / resistance")]
    assert order == sorted(order)


def test_a_bad_symbol_gets_one_clear_line(console_output):
    tail = console_output[console_output.rindex("[photo]"):].strip().splitlines()
    answer = [line for line in tail[1:] if line.strip()]
    assert answer == ["Unknown symbol NOPE. Valid symbols: BTCUSD, XAUUSD, EURUSD, GBPUSD, USDJPY, GBPJPY, "
                      "EURJPY."]
