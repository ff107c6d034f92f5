"""Binance base URLs (overridable through the environment so tests run against local servers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SPOT_WS_URL = "wss://stream.binance.com:9443"
FUTURES_WS_URL = "wss://fstream.binance.com"
SPOT_REST_URL = "https://api.binance.com"
FUTURES_REST_URL = "https://fapi.binance.com"


@dataclass(frozen=True, slots=True)
class BinanceEndpoints:
    """Base URLs without a trailing slash; the adapters append the documented paths.

    Futures websockets are routed since 2026-04-23: depth on ``<futures_ws_url>/public``,
    aggTrade and klines on ``<futures_ws_url>/market``.
    """

    spot_ws_url: str = SPOT_WS_URL
    futures_ws_url: str = FUTURES_WS_URL
    spot_rest_url: str = SPOT_REST_URL
    futures_rest_url: str = FUTURES_REST_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> BinanceEndpoints:
        """Read BINANCE_WS_URL, BINANCE_FUTURES_WS_URL, BINANCE_REST_URL, BINANCE_FUTURES_REST_URL."""

        def pick(name: str, default: str) -> str:
            value = (environ.get(name) or "").strip()
            return value.rstrip("/") if value else default

        return cls(
            spot_ws_url=pick("BINANCE_WS_URL", SPOT_WS_URL),
            futures_ws_url=pick("BINANCE_FUTURES_WS_URL", FUTURES_WS_URL),
            spot_rest_url=pick("BINANCE_REST_URL", SPOT_REST_URL),
            futures_rest_url=pick("BINANCE_FUTURES_REST_URL", FUTURES_REST_URL),
        )

    @classmethod
    def local(cls, ws_url: str, rest_url: str = "") -> BinanceEndpoints:
        """Every market on one local server (tests)."""
        return cls(ws_url, ws_url, rest_url or SPOT_REST_URL, rest_url or FUTURES_REST_URL)
