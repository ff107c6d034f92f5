"""Kill the bot between the order record and the broker call, and after the broker call: on restart
the state is reconciled with the broker and no order is lost or doubled."""

import json
import sqlite3
import subprocess

import pytest

from tests.conftest import LOOSE_SETTINGS, run_moneybot

LOOSEN = "".join(f"/set {setting}\n" for setting in LOOSE_SETTINGS)


def _chat(data_dir, stdin: str, **env: str) -> subprocess.CompletedProcess:
    return run_moneybot(data_dir, stdin, "chat", **env)


def _orders(data_dir) -> list[tuple[str, str, int | None]]:
    with sqlite3.connect(data_dir / "moneybot.db") as db:
        return db.execute("select approval_id, state, ticket from orders").fetchall()


def _approvals(data_dir) -> dict[str, str]:
    with sqlite3.connect(data_dir / "moneybot.db") as db:
        return dict(db.execute("select id, state from approvals").fetchall())


def _paper_positions(data_dir) -> list[dict]:
    path = data_dir / "paper_broker.json"
    return json.loads(path.read_text())["positions"] if path.exists() else []


@pytest.mark.slow
def test_crash_before_the_broker_call_places_nothing_and_says_so(tmp_path):
    data = tmp_path / "data"
    first = _chat(data, LOOSEN + "/analyse BTCUSD\n!EXECUTE\n", MONEYBOT_CRASH_AT="before_broker")
    assert first.returncode == 86, first.stdout + first.stderr
    [(approval_id, state, ticket)] = _orders(data)
    assert state == "submitting" and ticket is None
    assert _paper_positions(data) == []

    second = _chat(data, "/positions\n")
    assert second.returncode == 0, second.stderr
    assert "was NOT placed" in second.stdout and "No open positions" in second.stdout
    assert _orders(data) == [(approval_id, "failed", None)]
    assert _approvals(data)[approval_id] == "failed"


@pytest.mark.slow
def test_crash_after_the_broker_call_is_adopted_without_a_second_order(tmp_path):
    data = tmp_path / "data"
    first = _chat(data, LOOSEN + "/analyse BTCUSD\n!EXECUTE\n", MONEYBOT_CRASH_AT="after_broker")
    assert first.returncode == 86, first.stdout + first.stderr
    [(approval_id, state, _ticket)] = _orders(data)
    assert state == "submitting"
    [position] = _paper_positions(data)

    second = _chat(data, "/positions\n")
    assert second.returncode == 0, second.stderr
    assert "placed before the restart" in second.stdout
    assert f"#{position['ticket']}" in second.stdout
    assert _orders(data) == [(approval_id, "filled", position["ticket"])]
    assert _approvals(data)[approval_id] == "executed"
    assert len(_paper_positions(data)) == 1


@pytest.mark.slow
def test_console_analyse_execute_and_positions(tmp_path):
    data = tmp_path / "data"
    run = _chat(data, LOOSEN + "/analyse BTCUSD\n!EXECUTE\n!EXECUTE\n/positions\n")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "[1] EXECUTE  [2] WAIT  [3] REJECT" in out
    assert "[photo] " in out
    assert "EXECUTED: ticket" in out
    assert "No message with buttons to press." in out  # the executed card lost its buttons
    [position] = _paper_positions(data)
    assert f"#{position['ticket']} BTCUSD" in out
