"""Which transport types exist, and how one ``[transports.NAME]`` table becomes a transport.

Each transport module registers its own factory with :func:`register`: the type name, the options
it takes and an ``async`` function that reads them (through :class:`Options`, which refuses an
option the type does not know) and builds the transport. The modules of this package are found
the way :mod:`mailfate.bounce.registry` finds parsers: adding a transport is adding a module;
nothing else changes. The runtime calls :func:`build_transport` with a :class:`TransportContext`:
what a factory needs from the process and may not build itself (the embedded simulator is started
by the runtime — delivery does not import the receiver).

``config.TRANSPORT_TYPES`` names the same types for the settings' load-time check, because the
configuration (a lower floor) may not import delivery; the contract suite holds the two equal.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.asyncresolver

from mailfate.config import TransportSettings
from mailfate.delivery.transports.base import Transport
from mailfate.errors import ConfigError

__all__ = [
    "Options",
    "StartSimulator",
    "TransportContext",
    "TransportFactory",
    "TransportType",
    "build_transport",
    "register",
    "registered_types",
    "transport_type",
]

StartSimulator = Callable[[str | None], Awaitable[tuple[str, int]]]
"""Start the embedded simulator with a configuration file (None: the packaged one); its address."""


@dataclass(frozen=True, slots=True)
class TransportContext:
    """What the process hands every factory; each takes what it needs."""

    source: str = ""
    """The configuration file (or "defaults"), named in the errors."""
    start_simulator: StartSimulator | None = None
    """For a ``simulator`` transport with no host; None: this process cannot start one."""
    resolver: dns.asyncresolver.Resolver | None = None
    """The resolver for MX lookups when a transport names no ``nameserver`` (None: the system's)."""
    tls_context: ssl.SSLContext | None = None
    """Certificates to trust for a transport that verifies its server (None: the system's)."""
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    """Where ``*_env`` options are looked up."""


TransportFactory = Callable[["Options", TransportContext], Awaitable[Transport]]


@dataclass(frozen=True, slots=True)
class TransportType:
    name: str
    options: tuple[str, ...]
    factory: TransportFactory
    module: str


_TYPES: dict[str, TransportType] = {}
_DISCOVERED = False


def register(name: str, options: Sequence[str]) -> Callable[[TransportFactory], TransportFactory]:
    """Register the decorated ``async def build(options, context) -> Transport`` for type ``name``,
    taking exactly ``options`` (``type`` is the settings' own key and never one of them)."""

    def add(factory: TransportFactory) -> TransportFactory:
        known = _TYPES.get(name)
        if known is not None and known.module != factory.__module__:
            raise RuntimeError(
                f"transport type {name!r} registered twice: {known.module}, {factory.__module__}"
            )
        _TYPES[name] = TransportType(name, tuple(options), factory, factory.__module__)
        return factory

    return add


def _discover() -> None:
    """Import every module of this package once: each transport module registers itself."""
    global _DISCOVERED  # noqa: PLW0603 - discovered once per process
    if _DISCOVERED:
        return
    package = importlib.import_module(__name__.rpartition(".")[0])
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    _DISCOVERED = True


def registered_types() -> tuple[str, ...]:
    """Every transport type, sorted."""
    _discover()
    return tuple(sorted(_TYPES))


def transport_type(name: str) -> TransportType:
    """The registration of ``name``; a ``ConfigError`` listing the registered types otherwise."""
    _discover()
    found = _TYPES.get(name)
    if found is None:
        raise ConfigError(f"unknown transport type {name!r}; registered: {', '.join(registered_types())}")
    return found


async def build_transport(settings: TransportSettings, context: TransportContext) -> Transport:
    """The transport ``settings`` describe, built by its type's factory (options checked first)."""
    where = (
        f"{context.source}: transports.{settings.name}" if context.source else f"transports.{settings.name}"
    )
    try:
        kind = transport_type(settings.type)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return await kind.factory(Options(settings, kind.options, where), context)


class Options:
    """One transport's options, read with their checks; an option the type does not take is refused
    (a typo would otherwise be a silent default)."""

    def __init__(self, settings: TransportSettings, known: Sequence[str], where: str) -> None:
        self.name, self.type, self.where = settings.name, settings.type, where
        self.values = dict(settings.options)
        unknown = sorted(set(self.values) - set(known))
        if unknown:
            raise ConfigError(
                f"{where}: unknown option {unknown[0]!r} for a {settings.type} transport; "
                f"known: {', '.join(sorted(known))}"
            )

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}.{key} = {self.values.get(key)!r}: {problem}")

    def text(self, key: str, default: str = "") -> str:
        value = self.values.get(key, default)
        if isinstance(value, Mapping | list):
            raise self.error(key, "give a string")
        return str(value)

    def integer(self, key: str, default: int, *, low: int = 0, high: int | None = None) -> int:
        value = self.values.get(key, default)
        try:
            number = int(value) if not isinstance(value, bool | float) else None
        except (TypeError, ValueError):
            number = None
        if number is None or number < low or (high is not None and number > high):
            raise self.error(key, f"give a whole number from {low}" + (f" to {high}" if high else " up"))
        return number

    def rate(self, key: str, *, site: str | None = None) -> float | None:
        """Messages per second; absent or 0 is None (unlimited). ``site``: the one in ``sites``."""
        table = self.values if site is None else self.table("sites")[site]
        value = table.get(key)
        if not value:
            return None
        try:
            number = float(value) if not isinstance(value, bool) else -1.0
        except (TypeError, ValueError):
            number = -1.0
        if number < 0:
            path = key if site is None else f"sites.{site}.{key}"
            raise ConfigError(f"{self.where}.{path} = {value!r}: give messages per second (0: unlimited)")
        return number

    def choice(self, key: str, default: str, choices: Sequence[str]) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise self.error(key, " | ".join(choices))
        return value

    def table(self, key: str) -> Mapping[str, Any]:
        value = self.values.get(key, {})
        if not isinstance(value, Mapping):
            raise self.error(key, "give a table")
        return value
