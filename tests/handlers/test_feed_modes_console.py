"""MARKET_FEED modes through the console: replay of the shared recordings, and `auto` falling back
loudly to the simulator when Binance cannot be reached."""

import gzip
import socket
import subprocess

import orjson

from tests.conftest import run_moneybot
from tests.paths import BINANCE_DATA

DEPTH = BINANCE_DATA / "depth" / "derived_depth20_100ms_BTCUSDT_20240808T2354-20240809T0005.txt.gz"


def _chat(tmp_path, stdin: str, **env: str) -> subprocess.CompletedProcess:
    return run_moneybot(tmp_path / "data", stdin, "chat", **env)


def _last_mid() -> float:
    with gzip.open(DEPTH, "rb") as f:
        last = f.read().rstrip().rsplit(b"\n", 1)[-1]
    book = orjson.loads(last.split(b" ", 1)[1])["data"]
    return (float(book["bids"][0][0]) + float(book["asks"][0][0])) / 2


def test_replay_of_a_recording_serves_its_last_price(tmp_path):
    result = _chat(tmp_path, "/price BTCUSD\n/health\n/analyse BTCUSD\n", MARKET_FEED=f"replay:{DEPTH}",
                   REPLAY_SPEED="max")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "BTCUSD" in out and "[REPLAY]" in out
    assert f"{_last_mid():,.2f}" in out  # the replay ran to the end and kept the last book
    # ages on the recording's own clock, and when it was recorded (not "178830384.2 s old")
    assert "replayed data recorded 2024-08-09 00:05:04 UTC, 0.0 s before the replay's latest message" in out
    assert "the replay's clock is at 2024-08-09 00:05:04 UTC" in out and "depth: 10.0/s, last 0.0s ago" in out
    assert "Not ready: BTCUSD" in out and "history" in out  # no higher-timeframe history offline


def test_auto_falls_back_to_the_simulator_when_binance_is_unreachable(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _chat(tmp_path, "/start\n/price BTCUSD\n", MARKET_FEED="auto", BINANCE_WS_URL=f"ws://127.0.0.1:{port}",
                   BINANCE_FUTURES_WS_URL=f"ws://127.0.0.1:{port}", BINANCE_REST_URL=f"http://127.0.0.1:{port}",
                   BINANCE_FUTURES_REST_URL=f"http://127.0.0.1:{port}")
    assert result.returncode == 0, result.stderr
    assert "SIMULATED (Binance unreachable at start)" in result.stdout
    assert "[SIMULATED]" in result.stdout
    assert "falling back to the SIMULATED market" in result.stderr
