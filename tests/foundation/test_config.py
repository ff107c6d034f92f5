import pytest

from bot.config import ConfigError, load_settings


def test_defaults_use_sqlite_under_the_data_dir(tmp_path):
    s = load_settings({"MONEYBOT_DATA_DIR": str(tmp_path)})
    assert s.async_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/moneybot.db"
    assert s.broker == "paper" and s.market_feed == "auto"
    assert s.symbol_list[:3] == ["BTCUSD", "XAUUSD", "EURUSD"]


@pytest.mark.parametrize("name, value, words", [
    ("TELEGRAM_BOT_TOKEN", "not a token", "TELEGRAM_BOT_TOKEN: must look like"),
    ("TELEGRAM_ADMIN_IDS", "12,abc", "TELEGRAM_ADMIN_IDS: must be comma-separated numeric"),
    ("TELEGRAM_API_BASE", "ftp://x", "TELEGRAM_API_BASE: must be an http"),
    ("MARKET_FEED", "bogus", "MARKET_FEED: must be auto, live, sim or replay"),
    ("BROKER", "ib", "BROKER: must be paper or mt5"),
    ("DATABASE_URL", "mysql://x", "DATABASE_URL: must be sqlite"),
    ("REPLAY_SPEED", "-3", "REPLAY_SPEED: must be a positive number"),
    ("WEBHOOK_PORT", "99999", "WEBHOOK_PORT"),
])
def test_a_bad_value_is_one_clear_line(name, value, words):
    with pytest.raises(ConfigError) as info:
        load_settings({name: value})
    message = str(info.value)
    assert words in message and "\n" not in message


def test_yaml_sections_and_env_precedence(tmp_path):
    cfg = tmp_path / "moneybot.yaml"
    cfg.write_text("telegram:\n  admin_ids: [5, 6]\nexchange:\n  market_feed: sim\n"
                   "broker:\n  kind: paper\nrisk:\n  min_confidence: 70\n")
    s = load_settings({"MONEYBOT_CONFIG": str(cfg), "MARKET_FEED": "live"})
    assert s.admin_ids == [5, 6]
    assert s.market_feed == "live"  # the environment beats the file
    assert s.tunable_overrides == {"risk.min_confidence": 70}


@pytest.mark.parametrize("body, words", [
    ("nonsense: {a: 1}\n", "unknown section 'nonsense'"),
    ("telegram:\n  colour: red\n", "telegram.colour is unknown"),
    ("telegram: [1\n", "not valid YAML"),
])
def test_bad_yaml_is_one_clear_line(tmp_path, body, words):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(body)
    with pytest.raises(ConfigError, match=words):
        load_settings({"MONEYBOT_CONFIG": str(cfg)})


def test_postgres_url_is_made_async():
    s = load_settings({"DATABASE_URL": "postgresql://u@h/db"})
    assert s.async_database_url == "postgresql+asyncpg://u@h/db"

