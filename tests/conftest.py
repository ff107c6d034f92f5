"""Shared fixtures: settings on a temp SQLite database, the runtime, the real dispatcher, and a
RecordingSession (our double at aiogram's session boundary) that records every Bot API call."""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from aiogram.methods import TelegramMethod
from sqlalchemy import text

from bot.config import load_settings
from bot.console import ConsoleSession, ConsoleUser
from bot.runtime import build_runtime
from bot.telegram import make_bot
from core.ports import FixedClock
from db.engine import make_engine

ADMIN_ID = 111
STRANGER_ID = 999
# Runtime settings under which any direction becomes a plan, so every card carries buttons.
LOOSE_SETTINGS = ("signal.direction_threshold 0", "signal.min_risk_reward 0.5", "risk.min_confidence 0")
_APP_ENV_PREFIXES = ("TELEGRAM_", "MONEYBOT_", "DATABASE_", "BINANCE_", "MARKET_", "REPLAY_", "OPENAI_", "LLM_")


def app_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment without the app's own variables, plus a data dir and the simulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_APP_ENV_PREFIXES)}
    env.update({"MONEYBOT_DATA_DIR": str(data_dir), "MARKET_FEED": "sim", **extra})
    return env


def run_moneybot(data_dir: Path, stdin: str, *argv: str, **env: str) -> subprocess.CompletedProcess:
    """`python -m bot ARGV` with ``stdin`` piped in, to completion."""
    from tests.paths import REPO

    return subprocess.run([sys.executable, "-m", "bot", *argv], input=stdin, capture_output=True, text=True,
                          cwd=REPO, env=app_env(data_dir, **env), timeout=180)


class RecordingSession(ConsoleSession):
    """Answers like Telegram would and records every method the bot called."""

    def __init__(self, files_dir: Path) -> None:
        super().__init__(io.StringIO(), files_dir)
        self.calls: list[TelegramMethod] = []

    async def make_request(self, bot, method, timeout=None):
        self.calls.append(method)
        return await super().make_request(bot, method, timeout)

    def sent(self, kind: type) -> list:
        return [c for c in self.calls if isinstance(c, kind)]

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[TelegramMethod]:
        return self.calls[mark:]


def make_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"MONEYBOT_DATA_DIR": str(tmp_path / "data"), "TELEGRAM_ADMIN_IDS": str(ADMIN_ID),
           "MARKET_FEED": "sim"}
    env.update(extra)
    return env


@pytest.fixture
def settings(tmp_path):
    return load_settings(make_env(tmp_path))


@pytest.fixture
def clock():
    return FixedClock(1_763_000_000_000)


@pytest.fixture
def tg(tmp_path):
    """(RecordingSession, Bot): the Telegram side every runtime is built with."""
    session = RecordingSession(tmp_path / "photos")
    return session, make_bot("42:TEST-token", session=session)


@pytest.fixture
async def runtime(settings, clock, tg):
    """The app on a temp SQLite database and the seeded simulator, its clock fixed."""
    rt = await build_runtime(settings, tg[1], clock=clock, run_jobs=False)  # tests drive the jobs themselves
    yield rt
    await rt.close()


def warm_market(runtime, clock: FixedClock, seconds: float = 90.0) -> None:
    """Fast-forward the simulated market and move the clock to its time (fresh data)."""
    feed = runtime.services.market_feed
    end_ms = clock.now_ms() + int(seconds * 1000)
    while feed.simulator.now_ms < end_ms:  # a second at a time, the clock keeping pace
        feed.run_until(feed.simulator.now_ms + 1000)
        clock.set(feed.simulator.now_ms)


class Chat:
    """Drives the real dispatcher as Telegram users would."""

    def __init__(self, dp, bot, session: RecordingSession) -> None:
        self.dp, self.bot, self.session = dp, bot, session
        self._users: dict[int, ConsoleUser] = {}

    def user(self, user_id: int) -> ConsoleUser:
        return self._users.setdefault(user_id, ConsoleUser(user_id, first_name=f"U{user_id}"))

    async def send(self, text: str, user_id: int = ADMIN_ID) -> list[TelegramMethod]:
        mark = self.session.mark()
        await self.dp.feed_update(self.bot, self.user(user_id).text_update(text))
        return self.session.since(mark)

    async def press(self, message: dict, data: str, user_id: int = ADMIN_ID) -> list[TelegramMethod]:
        mark = self.session.mark()
        await self.dp.feed_update(self.bot, self.user(user_id).press_update(message, data))
        return self.session.since(mark)

    async def texts(self, text: str, user_id: int = ADMIN_ID) -> list[str]:
        return [getattr(c, "text", None) or getattr(c, "caption", "") or "" for c in await self.send(text, user_id)
                if hasattr(c, "text") or hasattr(c, "caption")]


@pytest.fixture
async def chat(runtime, tg):
    session, bot = tg
    return Chat(runtime.dispatcher(), bot, session)


def postgres_url() -> str | None:
    return os.environ.get("MONEYBOT_TEST_POSTGRES_URL")


@pytest.fixture
async def postgres_database():
    base = postgres_url()
    if not base:
        pytest.skip("MONEYBOT_TEST_POSTGRES_URL not set: no PostgreSQL answered on 127.0.0.1:5432")
    name = f"moneybot_t_{secrets.token_hex(4)}"
    admin = make_engine(base)
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001 - report why, do not hide it
        await admin.dispose()
        pytest.fail(f"PostgreSQL at {base} answered but a test database could not be created: {e}")
    yield base.rsplit("/", 1)[0] + "/" + name
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()
