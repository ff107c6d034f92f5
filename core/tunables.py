"""Runtime-tunable settings: typed definitions, validation and a value store.

Each feature declares its thresholds as a tuple of ``Tunable`` named ``TUNABLES`` in its own
module; ``core.tunables.catalog()`` gathers them. Values live in a ``TunableValues`` object: the
defaults, overridden by the config file (YAML), overridden by what admins set in chat (persisted
in the database by ``db/settings.py`` with an audit trail).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from functools import partial
from typing import Any, TypeVar

P = TypeVar("P")


# Settings that were merged into another (one setting per concept): old name -> the one that governs now.
RETIRED: dict[str, str] = {"signal.min_confidence": "risk.min_confidence",
                           "signal.max_spread_bps": "risk.max_spread_bps",
                           "signal.risk_per_trade_pct": "risk.risk_per_trade_pct"}


class TunableError(ValueError):
    """An unknown name or a bad value; the message lists what is allowed."""


_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


@dataclass(frozen=True, slots=True)
class Tunable:
    name: str  # dotted: "<group>.<name>", e.g. "orderflow.whale_tier_large_usd"
    type: type  # int, float, bool or str
    default: Any
    description: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    restart_only: bool = False  # read once at start: /set stores it and says it applies after a restart

    @property
    def group(self) -> str:
        return self.name.split(".", 1)[0]

    def allowed(self) -> str:
        if self.type is bool:
            return "true or false"
        if self.choices:
            return "one of " + ", ".join(self.choices)
        kind = {int: "a whole number", float: "a number", str: "text"}[self.type]
        if self.min is not None and self.max is not None:
            return f"{kind} from {_fmt(self.min)} to {_fmt(self.max)}"
        if self.min is not None:
            return f"{kind} of at least {_fmt(self.min)}"
        if self.max is not None:
            return f"{kind} of at most {_fmt(self.max)}"
        return kind

    def parse(self, raw: Any) -> Any:
        """Turn text (or a YAML value) into a checked value, or raise TunableError."""
        text = str(raw).strip()
        try:
            if self.type is bool:
                if isinstance(raw, bool):
                    value: Any = raw
                elif text.lower() in _TRUE:
                    value = True
                elif text.lower() in _FALSE:
                    value = False
                else:
                    raise ValueError
            elif self.type is int:
                value = int(text.replace("_", ""))
            elif self.type is float:
                value = float(text.replace("_", "").rstrip("%"))
                if value != value or value in (float("inf"), float("-inf")):
                    raise ValueError
            else:
                value = text
        except ValueError:
            raise TunableError(f"{self.name} must be {self.allowed()}; got {text[:40]!r}") from None
        if self.choices and str(value) not in self.choices:
            raise TunableError(f"{self.name} must be {self.allowed()}; got {text[:40]!r}")
        if self.type in (int, float):
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                raise TunableError(f"{self.name} must be {self.allowed()}; got {text[:40]!r}")
        return value

    def render(self, value: Any) -> str:
        if self.type is bool:
            return "true" if value else "false"
        if self.type is float:
            return _fmt(value)
        return str(value)


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:,.0f}"


class TunableValues:
    """Current values of every tunable, typed; the single place code reads thresholds from."""

    def __init__(self, tunables: Iterable[Tunable]) -> None:
        self._defs: dict[str, Tunable] = {}
        for t in tunables:
            if t.name in self._defs:
                raise ValueError(f"tunable {t.name} declared twice")
            t.parse(t.default)  # a default outside its own range is a programming error
            self._defs[t.name] = t
        self._values: dict[str, Any] = {name: t.default for name, t in self._defs.items()}
        self.version = 0  # moves on every change; bound params are rebuilt when it moved
        self._bound: dict[tuple[type, str], tuple[int, Any]] = {}

    def definitions(self) -> list[Tunable]:
        return sorted(self._defs.values(), key=lambda t: t.name)

    def definition(self, name: str) -> Tunable:
        try:
            return self._defs[name]
        except KeyError:
            raise TunableError(self._unknown(name)) from None

    def _unknown(self, name: str) -> str:
        if name in RETIRED:
            return f"{name} was merged into {RETIRED[name]} (one setting per gate); set that one instead."
        close = [n for n in self._defs if name.split(".")[-1] in n or n.split(".")[-1] in name]
        hint = f" Did you mean: {', '.join(sorted(close)[:5])}?" if close else ""
        groups = sorted({t.group for t in self._defs.values()})
        return f"unknown setting {name!r}.{hint} Groups: {', '.join(groups)} (see /settings)."

    def get(self, name: str) -> Any:
        if name not in self._values:
            raise TunableError(self._unknown(name))
        return self._values[name]

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def set(self, name: str, raw: Any) -> Any:
        value = self.definition(name).parse(raw)
        if self._values[name] != value:
            self._values[name] = value
            self.version += 1
        return value

    def params(self, cls: type[P], group: str) -> P:
        """The ``<group>.*`` settings as a ``cls`` params object, current (cached until a change)."""
        key = (cls, group)
        cached = self._bound.get(key)
        if cached is None or cached[0] != self.version:
            cached = (self.version, params_from_values(cls, group, self._values))
            self._bound[key] = cached
        return cached[1]

    def binding(self, cls: type[P], group: str) -> Callable[[], P]:
        """A callable giving the current ``cls`` params of ``group``: read it at the moment of use."""
        return partial(self.params, cls, group)

    def apply(self, overrides: Mapping[str, Any]) -> list[str]:
        """Apply many raw values; returns the errors (bad ones are skipped, good ones kept)."""
        errors = []
        for name, raw in overrides.items():
            try:
                self.set(name, raw)
            except TunableError as e:
                errors.append(str(e))
        return errors

    def snapshot(self) -> dict[str, Any]:
        return dict(self._values)


def params_source(params: P | Callable[[], P] | None, default: Callable[[], P]) -> Callable[[], P]:
    """Accept fixed params (tests) or a live source (``TunableValues.binding``): always a callable."""
    if params is None:
        fixed = default()
        return lambda: fixed
    if callable(params):
        return params
    return lambda: params


def params_from_values(cls: type[P], group: str, values: Mapping[str, Any] | TunableValues) -> P:
    """A params dataclass from the ``<group>.<field>`` tunables; fields without one keep their default."""
    found = values.snapshot() if isinstance(values, TunableValues) else values
    return cls(**{f.name: found[f"{group}.{f.name}"] for f in fields(cls) if f"{group}.{f.name}" in found})


def catalog() -> list[Tunable]:
    """Every tunable the app knows: the ``TUNABLES`` of every module under ``core``."""
    import importlib
    import pkgutil

    import core

    found: list[Tunable] = []
    for info in sorted(pkgutil.walk_packages(core.__path__, "core."), key=lambda m: m.name):
        module = importlib.import_module(info.name)
        found.extend(getattr(module, "TUNABLES", ()))
    return found
