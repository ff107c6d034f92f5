"""End-to-end fixtures: the tgemu Telegram Bot API emulator and `moneybot run` against it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import app_env
from tests.paths import REPO, TGEMU

TOKEN = "123456:TEST-token"
ADMIN = 111


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tgemu():
    if not (TGEMU / "tgclient.py").exists():
        pytest.skip(f"the tgemu harness is not at {TGEMU}")
    if shutil.which("node") is None:
        pytest.skip("node is not installed, so the Telegram emulator cannot run")
    sys.path.insert(0, str(TGEMU))
    import tgclient

    port = _free_port()
    pid = tgclient.start_emulator(port)
    emu = tgclient.TgEmu(f"http://127.0.0.1:{port}", TOKEN)
    yield emu
    tgclient.stop_emulator(pid)


class BotProcess:
    def __init__(self, proc: subprocess.Popen, log: Path) -> None:
        self.proc, self.log = proc, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def moneybot(tgemu, tmp_path):
    """`moneybot run` in long-polling mode against the emulator; yields after it answers."""
    procs: list[BotProcess] = []

    def start(**extra: str) -> BotProcess:
        env = app_env(tmp_path / "data", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=tgemu.base_url,
                      TELEGRAM_ADMIN_IDS=str(ADMIN), PYTHONUNBUFFERED="1", **extra)
        log = tmp_path / f"bot-{len(procs)}.log"
        seq = tgemu.last_call_seq()  # the emulator outlives each test: only this bot's polls count
        proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=REPO, env=env,
                                stdout=log.open("w"), stderr=subprocess.STDOUT)
        bot = BotProcess(proc, log)
        procs.append(bot)
        _wait_until_polling(tgemu, bot, since=seq)
        return bot

    yield start
    for bot in procs:
        bot.proc.terminate()
        try:
            bot.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            bot.proc.kill()


def _wait_until_polling(emu, bot: BotProcess, since: int, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if bot.proc.poll() is not None:
            raise AssertionError(f"moneybot exited early:\n{bot.output()}")
        if emu.calls("getUpdates", since):
            return
        time.sleep(0.2)
    raise AssertionError(f"moneybot never polled the emulator:\n{bot.output()}")
