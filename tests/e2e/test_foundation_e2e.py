"""`moneybot run` over HTTP against the Telegram emulator: start, help, refusal, allow, set."""

import pytest

from tests.e2e.conftest import ADMIN

pytestmark = pytest.mark.e2e
STRANGER = 424242


def _ask(emu, user_id: int, text: str, timeout: float = 30) -> dict:
    mark = emu.send_text(chat_id=user_id, user_id=user_id, text=text)
    [reply] = emu.wait_for_bot_messages(user_id, since=mark, timeout=timeout)
    return reply


def test_admin_start_help_refusal_allow_and_set(tgemu, moneybot):
    bot = moneybot()
    start = _ask(tgemu, ADMIN, "/start")
    assert "you are <b>admin</b>" in start["text"]
    help_text = _ask(tgemu, ADMIN, "/help")["text"]
    assert "<b>Admin</b>" in help_text and "/allow" in help_text

    refused = _ask(tgemu, STRANGER, "/start")["text"]
    assert f"<code>{STRANGER}</code>" in refused

    assert "is now <b>viewer</b>" in _ask(tgemu, ADMIN, f"/allow {STRANGER} viewer")["text"]
    welcome = _ask(tgemu, STRANGER, "/start")["text"]
    assert "you are <b>viewer</b>" in welcome and "/allow" not in welcome

    assert "→ <b>false</b>" in _ask(tgemu, ADMIN, "/set bot.reply_chart false")["text"]
    bad = _ask(tgemu, ADMIN, "/set bot.reply_chart 12")["text"]
    assert "Not changed" in bad and "true or false" in bad
    menus = tgemu.calls("setMyCommands")
    assert menus, "the command menu was never set"
    assert not tgemu.failed_calls(), tgemu.failed_calls()
    assert bot.proc.poll() is None


def test_webhook_mode_checks_the_secret_token(tgemu, tmp_path):
    import json
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    from tests.conftest import app_env
    from tests.e2e.conftest import TOKEN, _free_port
    from tests.paths import REPO

    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"
    env = app_env(tmp_path / "data", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=tgemu.base_url,
                  TELEGRAM_ADMIN_IDS=str(ADMIN), TELEGRAM_WEBHOOK_URL=url, TELEGRAM_WEBHOOK_SECRET="s3cret",
                  WEBHOOK_HOST="127.0.0.1", WEBHOOK_PORT=str(port))
    log = (tmp_path / "webhook.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        update = {"update_id": 1, "message": {"message_id": 1, "date": int(time.time()), "text": "/start",
                  "chat": {"id": ADMIN, "type": "private"}, "from": {"id": ADMIN, "is_bot": False, "first_name": "A"},
                  "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}

        def post(secret: str | None) -> int:
            headers = {"Content-Type": "application/json"}
            if secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = secret
            request = urllib.request.Request(url, json.dumps(update).encode(), headers)
            try:
                return urllib.request.urlopen(request, timeout=5).status
            except urllib.error.HTTPError as e:
                return e.code

        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status = post("wrong")
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, (tmp_path / "webhook.log").read_text()
                time.sleep(0.3)
        assert status == 401
        mark = tgemu.marker()
        assert post("s3cret") == 200
        [reply] = tgemu.wait_for_bot_messages(ADMIN, since=mark, timeout=30)
        assert "you are <b>admin</b>" in reply["text"]
        assert any(c["params"].get("url") == url for c in tgemu.calls("setWebhook"))
        seq = tgemu.last_call_seq()
        proc.terminate()
        proc.wait(timeout=10)
        assert tgemu.calls("deleteWebhook", since=seq), "a stopped webhook bot must remove its webhook"
    finally:
        if proc.poll() is None:
            proc.kill()
        urllib.request.urlopen(f"{tgemu.base_url}/bot{TOKEN}/deleteWebhook", timeout=5)
