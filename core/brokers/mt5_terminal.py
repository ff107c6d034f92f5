"""One MetaTrader 5 terminal session: loading the API, one worker thread, symbol names, our records.

The API is imported lazily in ``connect()``: the ``MetaTrader5`` package on Windows,
``mt5linux.MetaTrader5(host, port)`` (an RPyC bridge to a Windows Python) elsewhere; tests pass a
``module_loader`` returning a fake. Every call runs on one dedicated worker thread (the package is
a blocking, single-connection C extension). Nothing here locks: ``Mt5Broker`` holds its lock
around each operation and calls these in sequence.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from core.brokers import mt5_requests as rq
from core.brokers.mt5_requests import Mt5Symbol, as_dict
from core.models import PendingOrder, Position
from core.ports import BrokerError

ModuleLoader = Callable[["Mt5Settings"], Any]


@dataclass(frozen=True, slots=True)
class Mt5Settings:
    host: str = "localhost"  # mt5linux bridge (MT5_HOST / MT5_PORT)
    port: int = 18812
    login: int | None = None  # MT5_LOGIN / MT5_PASSWORD / MT5_SERVER / MT5_PATH
    password: str = ""
    server: str = ""
    path: str = ""
    magic: int = 240_501
    deviation_points: int = 20  # for closes; opens use the intent's max_deviation_points
    symbol_map: Mapping[str, str] = field(default_factory=dict)  # trader symbol -> broker name
    symbol_suffix: str = ""  # e.g. "m" for XAUUSDm, used when symbol_map has no entry
    comment_max_chars: int = 31
    price_retries: int = 3  # requote / price changed / price off
    initialize_timeout_ms: int = 60_000
    call_timeout_s: float = 30.0
    server_time_offset_ms: int = 0  # broker time minus UTC, subtracted from MT5 timestamps
    use_bridge: bool | None = None  # None: mt5linux everywhere but Windows


def load_terminal_module(settings: Mt5Settings) -> Any:
    """The real MetaTrader5 module (Windows) or an mt5linux bridge object (elsewhere)."""
    bridge = settings.use_bridge if settings.use_bridge is not None else sys.platform != "win32"
    try:
        if not bridge:
            import MetaTrader5  # type: ignore[import-not-found]

            return MetaTrader5
        from mt5linux import MetaTrader5 as Bridge  # type: ignore[import-not-found]
    except ImportError as e:
        package = "mt5linux" if bridge else "MetaTrader5"
        raise BrokerError(f"BROKER=mt5 needs the {package} package: pip install {package}") from e
    return Bridge(host=settings.host, port=settings.port)


class Mt5Terminal:
    def __init__(self, settings: Mt5Settings, module_loader: ModuleLoader | None = None) -> None:
        self.settings = settings
        self.warnings: list[str] = []
        self._loader = module_loader or load_terminal_module
        self._executor: ThreadPoolExecutor | None = None
        self._mt5: Any = None
        self._connected = False
        self._symbols: dict[str, Mt5Symbol] = {}  # trader symbol -> resolved symbol
        self._trader_names: dict[str, str] = {}  # broker name -> trader symbol

    # ------------------------------------------------------------------ connection

    async def connect(self) -> None:
        """Initialise (and log in); a second call reconnects: shutdown() first, as the API wants."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mt5")
        if self._mt5 is None:
            self._mt5 = await self._run(self._loader, self.settings)
        else:
            await self.call("shutdown")
            self._connected = False
        s = self.settings
        login = {"login": int(s.login), "password": s.password, "server": s.server} if s.login else {}
        path = [s.path] if s.path else []
        if not await self.call("initialize", *path, timeout=s.initialize_timeout_ms, **login):
            code, description = await self.call("last_error")
            raise BrokerError(f"MetaTrader 5 did not start: {description} (error {code})", code=code,
                              retryable=True)
        self._connected = True
        self.warnings = await self._startup_warnings()

    async def ensure(self) -> None:
        if not self._connected:
            await self.connect()

    async def close(self) -> None:
        if self._mt5 is not None and self._connected:
            await self.call("shutdown")
        self._connected = False
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def call(self, function: str, *args: Any, **kwargs: Any) -> Any:
        return await self._run(getattr(self._mt5, function), *args, **kwargs)

    async def error(self, what: str) -> BrokerError:
        """The error for a call that returned None, from ``last_error()``; IPC errors mean reconnect."""
        code, description = await self.call("last_error")
        lost = code <= -10000
        if lost:
            self._connected = False
        return BrokerError(f"{what} failed: MetaTrader 5 did not take the request ({description}, "
                           f"error {code})", code=code, retryable=lost)

    async def _run(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, functools.partial(function, *args, **kwargs))
        try:
            return await asyncio.wait_for(future, self.settings.call_timeout_s)
        except TimeoutError:
            self._connected = False
            raise BrokerError("MetaTrader 5 did not answer in time", retryable=True) from None

    async def _startup_warnings(self) -> list[str]:
        warnings = []
        terminal = await self.call("terminal_info")
        if terminal is not None and not as_dict(terminal).get("trade_allowed", True):
            warnings.append("Algo Trading is off in the MetaTrader 5 terminal: orders will be refused")
        account = await self.call("account_info")
        if account is not None and not as_dict(account).get("trade_expert", True):
            warnings.append("this account does not allow trading by experts/API")
        return warnings

    # ------------------------------------------------------------------ symbols and quotes

    async def symbol(self, trader_symbol: str) -> Mt5Symbol:
        """The broker's symbol for a trader symbol: the map, else symbol + suffix, else a tradable
        name starting with it; selected into Market Watch; cached."""
        cached = self._symbols.get(trader_symbol)
        if cached is not None:
            return cached
        name = self.settings.symbol_map.get(trader_symbol) or trader_symbol + self.settings.symbol_suffix
        info = await self.call("symbol_info", name) or await self._discover(trader_symbol)
        if info is None:
            raise BrokerError(f"{trader_symbol} is not offered by this MetaTrader 5 account "
                              f"(looked for {name})")
        symbol = rq.symbol_from_info(trader_symbol, info)
        if not symbol.visible and not await self.call("symbol_select", symbol.name, True):
            raise BrokerError(f"could not add {symbol.name} to Market Watch")
        self._symbols[trader_symbol] = symbol
        self._trader_names[symbol.name] = trader_symbol
        return symbol

    async def _discover(self, trader_symbol: str) -> Any:
        for info in await self.call("symbols_get", group=f"*{trader_symbol}*") or ():
            row = as_dict(info)
            tradable = row.get("trade_mode") == rq.SYMBOL_TRADE_MODE_FULL
            if tradable and str(row["name"]).startswith(trader_symbol):
                return info
        return None

    def trader_symbol(self, broker_name: str) -> str:
        if broker_name in self._trader_names:
            return self._trader_names[broker_name]
        for trader, name in self.settings.symbol_map.items():
            if name == broker_name:
                return trader
        suffix = self.settings.symbol_suffix
        return broker_name[: -len(suffix)] if suffix and broker_name.endswith(suffix) else broker_name

    async def tick(self, symbol: Mt5Symbol) -> tuple[float, float, int]:
        """(bid, ask, ts_ms in UTC)."""
        tick = await self.call("symbol_info_tick", symbol.name)
        if tick is None:
            raise BrokerError(f"no quotes for {symbol.spec.symbol} (market closed or symbol unavailable)",
                              code=rq.TRADE_RETCODE_PRICE_OFF, retryable=True)
        row = as_dict(tick)
        ts_ms = int(row["time_msc"]) - self.settings.server_time_offset_ms
        return float(row["bid"]), float(row["ask"]), ts_ms

    # ------------------------------------------------------------------ our records

    async def own(self, function: str) -> list[dict[str, Any]]:
        """Rows of ``positions_get`` / ``orders_get`` carrying our magic number."""
        rows = await self.call(function)
        if rows is None:
            raise await self.error(f"reading {function.removesuffix('_get')}")
        return [row for row in map(as_dict, rows) if int(row.get("magic", 0)) == self.settings.magic]

    async def by_ticket(self, function: str, ticket: int) -> dict[str, Any] | None:
        rows = await self.call(function, ticket=int(ticket)) or ()
        return as_dict(rows[0]) if rows else None

    def position_of(self, row: Mapping[str, Any]) -> Position:
        symbol = self.trader_symbol(row["symbol"])
        return rq.position_from_mt5(row, symbol, self.settings.server_time_offset_ms)

    def order_of(self, row: Mapping[str, Any]) -> PendingOrder | None:
        return rq.order_from_mt5(row, self.trader_symbol(row["symbol"]))
