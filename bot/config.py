"""Start-up configuration: environment variables, ``.env`` and an optional YAML file.

Precedence (highest first): environment, ``.env``, the YAML file named by ``MONEYBOT_CONFIG``,
the embedded defaults. Runtime-tunable thresholds (``core.tunables``) can also be given in the
YAML file under their group (``risk:``, ``orderflow:``, ``sr:`` ...) and are then overridden by
what an admin sets with ``/set``.

A bad value stops start-up with ``ConfigError``: one line naming the setting and what is allowed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

# YAML sections and which top-level settings they hold (section key -> setting name).
YAML_SECTIONS: dict[str, dict[str, str]] = {
    "telegram": {"bot_token": "telegram_bot_token", "api_base": "telegram_api_base",
                 "admin_ids": "telegram_admin_ids", "webhook_url": "telegram_webhook_url",
                 "webhook_secret": "telegram_webhook_secret", "webhook_host": "webhook_host",
                 "webhook_port": "webhook_port"},
    "exchange": {"market_feed": "market_feed", "symbols": "symbols", "ws_url": "binance_ws_url",
                 "futures_ws_url": "binance_futures_ws_url", "rest_url": "binance_rest_url",
                 "futures_rest_url": "binance_futures_rest_url", "replay_speed": "replay_speed",
                 "replay_loop": "replay_loop", "sim_seed": "sim_seed"},
    "broker": {"kind": "broker", "symbol_suffix": "broker_symbol_suffix", "mt5_host": "mt5_host",
               "mt5_port": "mt5_port", "mt5_login": "mt5_login", "mt5_server": "mt5_server",
               "mt5_path": "mt5_path", "paper_balance_usd": "paper_balance_usd"},
    "llm": {"api_key": "openai_api_key", "base_url": "openai_base_url", "screener_model": "llm_screener_model",
            "validator_model": "llm_validator_model", "prices": "llm_prices"},
    "database": {"url": "database_url"},
}
# Sections whose keys are runtime tunables ("<group>.<key>"); YAML group -> tunable group.
TUNABLE_SECTIONS = {"risk": "risk", "alerts": "alerts", "sr_detector": "sr", "sr": "sr",
                    "orderflow": "orderflow", "signal": "signal", "exits": "exits", "feed": "feed",
                    "learning_agent": "learning", "approvals": "approvals", "price_sync": "price_sync",
                    "ai": "ai"}

_FEED_RE = re.compile(r"^(auto|live|sim|replay:.+)$")


class ConfigError(Exception):
    """One readable line naming the bad setting and what is allowed."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      populate_by_name=True)

    telegram_bot_token: str = ""
    telegram_api_base: str = ""
    telegram_admin_ids: str = ""
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    webhook_host: str = Field("0.0.0.0", validation_alias=AliasChoices("WEBHOOK_HOST", "webhook_host"))
    webhook_port: int = Field(8080, ge=1, le=65535)
    moneybot_data_dir: Path = Path("./data")
    database_url: str = ""
    market_feed: str = "auto"
    symbols: str = "BTCUSD,XAUUSD,EURUSD,GBPUSD,USDJPY,GBPJPY,EURJPY"
    broker: str = "paper"
    broker_symbol_suffix: str = ""
    paper_balance_usd: float = Field(10_000.0, gt=0)
    mt5_host: str = "127.0.0.1"
    mt5_port: int = Field(18812, ge=1, le=65535)
    mt5_login: int = 0
    mt5_password: str = ""
    mt5_server: str = ""
    mt5_path: str = ""
    openai_api_key: str = ""
    openai_base_url: str = ""
    llm_screener_model: str = "gpt-4.1-mini"  # fast and cheap: screens every setup
    llm_validator_model: str = "gpt-5"  # deep reasoning: only for strong setups
    llm_prices: str = ""  # "model=input/cached/output;..." USD per 1M tokens, added to the defaults
    binance_ws_url: str = "wss://stream.binance.com:9443"
    binance_futures_ws_url: str = "wss://fstream.binance.com"
    binance_rest_url: str = "https://api.binance.com"
    binance_futures_rest_url: str = "https://fapi.binance.com"
    replay_speed: str = "1"
    replay_loop: bool = False
    sim_seed: int = 7
    log_level: str = "INFO"
    # Values for runtime tunables from the YAML file ("group.name" -> raw value).
    tunable_overrides: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource):
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    @field_validator("telegram_bot_token")
    @classmethod
    def _token(cls, v: str) -> str:
        v = v.strip()
        if v and not re.fullmatch(r"\d+:[\w-]+", v):
            raise ValueError("must look like 123456789:ABC-def (digits, a colon, then letters)")
        return v

    @field_validator("telegram_admin_ids")
    @classmethod
    def _admins(cls, v: str) -> str:
        parts = [p.strip() for p in str(v).replace(";", ",").split(",") if p.strip()]
        for p in parts:
            if not re.fullmatch(r"-?\d+", p):
                raise ValueError(f"must be comma-separated numeric Telegram user ids; {p!r} is not a number")
        return ",".join(parts)

    @field_validator("telegram_api_base", "telegram_webhook_url", "openai_base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if v and not re.match(r"^https?://", v):
            raise ValueError("must be an http:// or https:// URL")
        return v

    @field_validator("llm_screener_model", "llm_validator_model")
    @classmethod
    def _model(cls, v: str) -> str:
        v = v.strip()
        if not re.fullmatch(r"[\w.:/@-]{1,96}", v):
            raise ValueError("must be a model name such as gpt-4.1-mini or llama3.1:8b")
        return v

    @field_validator("llm_prices")
    @classmethod
    def _prices(cls, v: str) -> str:
        from core.llm.prices import parse_prices

        parse_prices(v)  # PriceError (a ValueError) names the bad entry
        return v.strip()

    @field_validator("market_feed")
    @classmethod
    def _feed(cls, v: str) -> str:
        v = v.strip()
        if not _FEED_RE.match(v.lower() if not v.lower().startswith("replay:") else "replay:x"):
            raise ValueError("must be auto, live, sim or replay:FILE[,FILE...]")
        return v if v.lower().startswith("replay:") else v.lower()

    @field_validator("broker")
    @classmethod
    def _broker(cls, v: str) -> str:
        v = v.strip().lower()
        if v not in ("paper", "mt5"):
            raise ValueError("must be paper or mt5")
        return v

    @field_validator("replay_speed")
    @classmethod
    def _speed(cls, v: str) -> str:
        v = str(v).strip().lower()
        if v != "max":
            try:
                if float(v) <= 0:
                    raise ValueError
            except ValueError:
                raise ValueError("must be a positive number (1, 10, ...) or max") from None
        return v

    @field_validator("database_url")
    @classmethod
    def _db(cls, v: str) -> str:
        v = v.strip()
        if v and not re.match(r"^(sqlite(\+aiosqlite)?|postgres(ql)?(\+asyncpg)?)://", v):
            raise ValueError("must be sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.strip().upper()
        if v not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return v

    # ------------------------------------------------------------------ derived values

    @property
    def admin_ids(self) -> list[int]:
        return [int(p) for p in self.telegram_admin_ids.split(",") if p]

    @property
    def ai_enabled(self) -> bool:
        """The AI commands work with a key (any non-empty value does for a local server)."""
        return bool(self.openai_api_key.strip())

    @property
    def symbol_list(self) -> list[str]:
        return [s.strip().upper() for s in self.symbols.split(",") if s.strip()]

    @property
    def async_database_url(self) -> str:
        url = self.database_url or f"sqlite+aiosqlite:///{(self.moneybot_data_dir / 'moneybot.db').resolve()}"
        url = re.sub(r"^sqlite://", "sqlite+aiosqlite://", url)
        url = re.sub(r"^postgres(ql)?://", "postgresql+asyncpg://", url)
        return url


def _read_yaml(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Flatten the YAML file into (settings fields, tunable overrides)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"MONEYBOT_CONFIG: file {path} does not exist") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"MONEYBOT_CONFIG: {path} is not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"MONEYBOT_CONFIG: {path} must hold sections like telegram:, exchange:, risk:")
    fields: dict[str, Any] = {}
    tunables: dict[str, Any] = {}
    for section, body in raw.items():
        if not isinstance(body, dict):
            raise ConfigError(f"MONEYBOT_CONFIG: section {section!r} must be a mapping of key: value")
        if section in YAML_SECTIONS:
            for key, value in body.items():
                name = YAML_SECTIONS[section].get(key)
                if name is None:
                    allowed = ", ".join(YAML_SECTIONS[section])
                    raise ConfigError(f"MONEYBOT_CONFIG: {section}.{key} is unknown; allowed: {allowed}")
                if isinstance(value, list):
                    value = ",".join(str(v) for v in value)
                fields[name] = value
        elif section in TUNABLE_SECTIONS:
            for key, value in body.items():
                tunables[f"{TUNABLE_SECTIONS[section]}.{key}"] = value
        else:
            allowed = ", ".join([*YAML_SECTIONS, *TUNABLE_SECTIONS])
            raise ConfigError(f"MONEYBOT_CONFIG: unknown section {section!r}; allowed: {allowed}")
    return fields, tunables


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings or raise ConfigError with one readable line."""
    environ = os.environ if env is None else env
    yaml_fields: dict[str, Any] = {}
    tunables: dict[str, Any] = {}
    if environ.get("MONEYBOT_CONFIG"):
        yaml_fields, tunables = _read_yaml(environ["MONEYBOT_CONFIG"])
    # Environment and .env beat the YAML file: pass YAML values only where the env is silent.
    env_names = {k.upper() for k in environ}
    init = {k: v for k, v in yaml_fields.items() if k.upper() not in env_names}
    init.update(overrides)
    try:
        if env is None:
            settings = Settings(**init, tunable_overrides=tunables)
        else:
            settings = _settings_from_mapping(env, init, tunables)
    except ValidationError as e:
        err = e.errors()[0]
        name = str(err["loc"][0]).upper() if err.get("loc") else "configuration"
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name}: {msg}") from None
    return settings


def _settings_from_mapping(env: dict[str, str], init: dict[str, Any], tunables: dict[str, Any]) -> Settings:
    fields = {name: env[name.upper()] for name in Settings.model_fields if name.upper() in env}
    fields.update(init)
    return Settings(_env_file=None, **fields, tunable_overrides=tunables)
