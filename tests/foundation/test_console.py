"""The console driven through a pipe, as a user would script it."""

import subprocess

from tests.conftest import run_moneybot


def _run(tmp_path, stdin: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run_moneybot(tmp_path / "data", stdin, *args, **env)


def test_piped_console_answers_each_line_and_exits_zero(tmp_path):
    result = _run(tmp_path, "/start\n/settings\n", "chat")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Welcome" in out and "you are admin" in out
    assert "Runtime settings" in out and "bot.reply_chart = true" in out
    assert "<b>" not in out  # HTML rendered away
    assert out.index("Welcome") < out.index("Runtime settings")


def test_run_without_a_token_starts_the_console_and_says_so(tmp_path):
    result = _run(tmp_path, "/help\n", "run")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert "no TELEGRAM_BOT_TOKEN" in first and "console" in first


def test_console_as_another_user_is_refused(tmp_path):
    result = _run(tmp_path, "/start\n", "chat", "--user-id", "4242")
    assert result.returncode == 0
    assert "Your Telegram id is 4242" in result.stdout


def test_bad_configuration_stops_with_one_line(tmp_path):
    result = _run(tmp_path, "", "chat", BROKER="ib")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["moneybot: configuration error: BROKER: must be paper or mt5"]
