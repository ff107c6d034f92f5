"""Trader symbols, the Binance market tracking each one, and the broker's name for it.

The trader's symbol (``BTCUSD``, ``XAUUSD``) is the canonical name everywhere in core. Binance
names (``BTCUSDT`` spot, ``XAUUSDT`` futures) and broker names (``BTCUSDc``) are translated at
the edges with this map. A symbol Binance does not list (``GBPUSD``) still works wherever the
broker serves its data; it simply has no order flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class BinanceMarket(StrEnum):
    SPOT = "spot"
    FUTURES = "futures"  # USD-M perpetual


class AssetClass(StrEnum):
    CRYPTO = "crypto"
    METAL = "metal"
    FX = "fx"
    INDEX = "index"
    OTHER = "other"


class SymbolConfigError(ValueError):
    """A bad symbol configuration; the message says which entry and why."""


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    symbol: str  # trader symbol, upper case
    binance_symbol: str | None  # None: Binance lists no market for it
    binance_market: BinanceMarket | None
    broker_symbol: str
    aliases: tuple[str, ...] = ()
    asset_class: AssetClass = AssetClass.OTHER
    price_digits: int = 2
    base_currency: str = ""  # "" means the symbol's first three letters (BTCUSD -> BTC)
    quote_currency: str = ""  # "" means letters four to six (USDJPY -> JPY); P/L is in this currency

    @property
    def has_binance(self) -> bool:
        return self.binance_symbol is not None

    @property
    def currencies(self) -> tuple[str, str]:
        """(base, quote): configured, else read from a six-letter name; "" where neither says."""
        six = len(self.symbol) == 6 and self.symbol.isalpha()
        base = self.base_currency or (self.symbol[:3] if six else "")
        quote = self.quote_currency or (self.symbol[3:] if six else "")
        return base.upper(), quote.upper()


# symbol, binance symbol, market, aliases, asset class, digits
_DEFAULTS: tuple[tuple[str, str | None, BinanceMarket | None, tuple[str, ...], AssetClass, int], ...] = (
    ("BTCUSD", "BTCUSDT", BinanceMarket.SPOT, ("btc", "bitcoin"), AssetClass.CRYPTO, 2),
    ("XAUUSD", "XAUUSDT", BinanceMarket.FUTURES, ("gold", "xau"), AssetClass.METAL, 2),
    ("EURUSD", "EURUSDT", BinanceMarket.SPOT, ("eur", "euro"), AssetClass.FX, 5),
    ("GBPUSD", None, None, ("cable",), AssetClass.FX, 5),
    ("USDJPY", None, None, (), AssetClass.FX, 3),
    ("GBPJPY", None, None, (), AssetClass.FX, 3),
    ("EURJPY", None, None, (), AssetClass.FX, 3),
)

DEFAULT_SYMBOLS: tuple[str, ...] = tuple(row[0] for row in _DEFAULTS)


def default_specs(broker_suffix: str = "") -> list[SymbolSpec]:
    return [
        SymbolSpec(symbol, binance, market, symbol + broker_suffix, aliases, asset_class, digits)
        for symbol, binance, market, aliases, asset_class, digits in _DEFAULTS
    ]


def default_symbol_map(broker_suffix: str = "") -> SymbolMap:
    """BTCUSD, XAUUSD, EURUSD, GBPUSD, USDJPY, GBPJPY, EURJPY; broker names get ``broker_suffix``."""
    return SymbolMap(default_specs(broker_suffix))


class SymbolMap:
    """Two-way, case-insensitive translation between trader, Binance and broker names."""

    def __init__(self, specs: Iterable[SymbolSpec]) -> None:
        self._specs: dict[str, SymbolSpec] = {}
        self._lookup: dict[str, str] = {}  # lower-case name/alias/binance/broker -> symbol
        self._by_binance: dict[tuple[str, BinanceMarket], str] = {}
        self._by_broker: dict[str, str] = {}
        for spec in specs:
            self._add(spec)

    def _add(self, spec: SymbolSpec) -> None:
        if spec.symbol in self._specs:
            raise SymbolConfigError(f"symbol {spec.symbol} is listed twice")
        if (spec.binance_symbol is None) != (spec.binance_market is None):
            raise SymbolConfigError(f"{spec.symbol}: give both binance_symbol and binance_market, or neither")
        self._specs[spec.symbol] = spec
        names = [spec.symbol, spec.broker_symbol, *spec.aliases]
        if spec.binance_symbol is not None and spec.binance_market is not None:
            names.append(spec.binance_symbol)
            self._by_binance[(spec.binance_symbol.upper(), spec.binance_market)] = spec.symbol
        self._by_broker[spec.broker_symbol.lower()] = spec.symbol
        for name in names:
            key = name.strip().lower()
            owner = self._lookup.get(key)
            if owner is not None and owner != spec.symbol:
                raise SymbolConfigError(f"name {name!r} is used by both {owner} and {spec.symbol}")
            self._lookup[key] = spec.symbol

    def symbols(self) -> list[str]:
        return list(self._specs)

    def specs(self) -> list[SymbolSpec]:
        return list(self._specs.values())

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._specs

    def resolve(self, text: str) -> str | None:
        """Trader symbol for anything a user may type: ``btc``, ``Gold``, ``BTCUSDT``, ``btcusdc``."""
        return self._lookup.get(text.strip().lstrip("/$#").lower())

    def spec(self, symbol: str) -> SymbolSpec:
        try:
            return self._specs[symbol]
        except KeyError:
            resolved = self.resolve(symbol)
            if resolved is None:
                raise KeyError(f"unknown symbol {symbol!r}; known: {', '.join(self._specs)}") from None
            return self._specs[resolved]

    def to_binance(self, symbol: str) -> tuple[str, BinanceMarket] | None:
        spec = self._specs.get(symbol)
        if spec is None or spec.binance_symbol is None or spec.binance_market is None:
            return None
        return spec.binance_symbol, spec.binance_market

    def from_binance(self, binance_symbol: str, market: BinanceMarket | str | None = None) -> str:
        """Trader symbol for a Binance stream's symbol; unknown ones pass through upper-cased."""
        upper = binance_symbol.upper()
        if market is not None:
            found = self._by_binance.get((upper, BinanceMarket(market)))
            if found is not None:
                return found
            return upper
        for candidate in BinanceMarket:
            found = self._by_binance.get((upper, candidate))
            if found is not None:
                return found
        return upper

    def binance_symbols(self, market: BinanceMarket | str | None = None) -> list[tuple[str, BinanceMarket]]:
        """Every (binance_symbol, market) pair the feed should subscribe to."""
        wanted = None if market is None else BinanceMarket(market)
        return [key for key in self._by_binance if wanted is None or key[1] is wanted]

    def to_broker(self, symbol: str) -> str:
        return self.spec(symbol).broker_symbol

    def from_broker(self, name: str) -> str | None:
        return self._by_broker.get(name.strip().lower())

    def has_order_flow(self, symbol: str) -> bool:
        spec = self._specs.get(symbol)
        return spec is not None and spec.binance_symbol is not None

    def order_flow_note(self, symbol: str) -> str | None:
        """A plain sentence when ``symbol`` has no order flow, else None."""
        if self.has_order_flow(symbol):
            return None
        return (f"No order flow for {symbol}: Binance lists no market for it, "
                "so analysis uses the broker's prices only.")


# ---------------------------------------------------------------------------- config parsing

_SPEC_KEYS = {"binance_symbol", "binance_market", "broker_symbol", "aliases", "asset_class", "price_digits",
              "base_currency", "quote_currency"}


def symbol_map_from_config(section: Mapping[str, Any] | None) -> SymbolMap:
    """Build a map from the ``symbols`` section of the config file (a parser over a small table).

    Shape (every key optional)::

        broker_suffix: "c"             # appended to trader symbols to get broker names
        enabled: [BTCUSD, XAUUSD]      # which symbols to keep (default: all defaults + added)
        symbols:                       # per-symbol overrides or new symbols
          XAUUSD: {broker_symbol: GOLD, aliases: [gold, xau]}
          US30: {binance_symbol: null, asset_class: index, price_digits: 1, quote_currency: USD}
    """
    section = dict(section or {})
    unknown = set(section) - {"broker_suffix", "enabled", "symbols"}
    if unknown:
        raise SymbolConfigError(f"unknown keys in symbols section: {', '.join(sorted(unknown))}")
    suffix = str(section.get("broker_suffix") or "")
    specs = {spec.symbol: spec for spec in default_specs(suffix)}
    for raw_symbol, raw in (section.get("symbols") or {}).items():
        symbol = str(raw_symbol).strip().upper()
        specs[symbol] = _spec_from_entry(symbol, raw or {}, specs.get(symbol), suffix)
    enabled = section.get("enabled")
    if enabled is not None:
        names = [str(name).strip().upper() for name in _as_list(enabled, "enabled")]
        missing = [name for name in names if name not in specs]
        if missing:
            raise SymbolConfigError(f"enabled lists unknown symbols: {', '.join(missing)}")
        specs = {name: specs[name] for name in names}
    return SymbolMap(specs.values())


def _spec_from_entry(symbol: str, raw: Mapping[str, Any], base: SymbolSpec | None, suffix: str) -> SymbolSpec:
    if not isinstance(raw, Mapping):
        raise SymbolConfigError(f"{symbol}: expected a mapping of settings, got {type(raw).__name__}")
    unknown = set(raw) - _SPEC_KEYS
    if unknown:
        raise SymbolConfigError(f"{symbol}: unknown keys {', '.join(sorted(unknown))}; "
                                f"allowed: {', '.join(sorted(_SPEC_KEYS))}")
    spec = base or SymbolSpec(symbol, None, None, symbol + suffix)
    changes: dict[str, Any] = {}
    if "binance_symbol" in raw:
        binance = raw["binance_symbol"]
        changes["binance_symbol"] = None if binance in (None, "", "none") else str(binance).strip().upper()
        if changes["binance_symbol"] is None:
            changes["binance_market"] = None
        elif "binance_market" not in raw:
            changes["binance_market"] = spec.binance_market or BinanceMarket.SPOT
    if "binance_market" in raw and raw["binance_market"] not in (None, "", "none"):
        changes["binance_market"] = _choice(BinanceMarket, raw["binance_market"], symbol, "binance_market")
    if "broker_symbol" in raw:
        changes["broker_symbol"] = str(raw["broker_symbol"]).strip()
    if "aliases" in raw:
        changes["aliases"] = tuple(str(alias).strip().lower() for alias in _as_list(raw["aliases"], "aliases"))
    if "asset_class" in raw:
        changes["asset_class"] = _choice(AssetClass, raw["asset_class"], symbol, "asset_class")
    if "price_digits" in raw:
        digits = raw["price_digits"]
        if isinstance(digits, bool) or not str(digits).isdigit() or int(digits) > 10:
            raise SymbolConfigError(f"{symbol}: price_digits must be a whole number from 0 to 10")
        changes["price_digits"] = int(digits)
    for key in ("base_currency", "quote_currency"):
        if key in raw:
            code = str(raw[key] or "").strip().upper()
            if not (len(code) == 3 and code.isalpha()):
                raise SymbolConfigError(f"{symbol}: {key} must be a three-letter currency code; got {raw[key]!r}")
            changes[key] = code
    return replace(spec, **changes)


def _choice(enum: type[StrEnum], value: Any, symbol: str, key: str) -> Any:
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise SymbolConfigError(f"{symbol}: {key} must be one of {allowed}; got {value!r}") from None


def _as_list(value: Any, key: str) -> Sequence[Any]:
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    if isinstance(value, Sequence):
        return value
    raise SymbolConfigError(f"{key} must be a list")
