"""Settings of the engine (``mailfate send``, ``worker``, ``trace``, ``queue``, ``demo``).

A TOML file (``--config FILE`` or ``$MAILFATE_CONFIG``) overlays the defaults; environment
variables overlay the file: ``MAILFATE_DATA_DIR``, ``MAILFATE_STORE_URL``. Every bad value is a
``ConfigError`` naming the key and the fix. ::

    data_dir = "mailfate-data"        # the SQLite store and the VERP secret live here
    [store]
    url = ""                          # "" = sqlite file <data_dir>/mailfate.db; or postgresql+psycopg://...
    [delivery]
    transport = "simulator"           # the default transport; [[routes]] pick others per domain
    concurrency = 200                 # deliveries in flight
    suppress_after_soft = 0           # suppress an address after N messages in a row expired (0: never)
    [retry]
    first = 300                       # seconds before the first retry (greylisting-aware)
    factor = 2
    max_interval = 14400
    max_age = 432000                  # 5 days, then expired
    [verp]
    domain = "bounces.mailfate.test"  # the envelope sender domain; its MX must be the inbound server
    [inbound]
    host = "127.0.0.1"
    port = 2526                       # 0 = any free port
    [dkim]
    keys = ""                         # directory of <domain>/<selector>.pem
    [[routes]]
    domain = "*.example.com"          # fnmatch on the recipient domain, first match wins
    transport = "relay"
    [transports.relay]
    type = "relay"                    # simulator | direct | relay | ses
    host = "smtp.example.com"
    port = 587
    username = "app"
    password_env = "MAILFATE_RELAY_PASSWORD"
    tls = "starttls"
    [transports.simulator]
    type = "simulator"
    host = ""                         # "" = start a simulator inside the worker
    port = 0
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailfate.errors import ConfigError

__all__ = ["RouteSettings", "Settings", "TransportSettings", "load_settings"]

TRANSPORT_TYPES = ("simulator", "direct", "relay", "ses")


@dataclass(frozen=True, slots=True)
class TransportSettings:
    name: str
    type: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RouteSettings:
    domain: str
    transport: str


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("mailfate-data")
    store_url: str = ""
    transport: str = "simulator"
    concurrency: int = 200
    batch: int = 200
    lease: float = 600.0
    suppress_after_soft: int = 0
    retry: Mapping[str, Any] = field(default_factory=dict)
    verp_domain: str = "bounces.mailfate.test"
    verp_secret: str = ""
    inbound_host: str = "127.0.0.1"
    inbound_port: int = 2526
    dkim_keys: str = ""
    routes: tuple[RouteSettings, ...] = ()
    sns_topics: tuple[str, ...] = ()
    """SNS topic ARNs whose SES notifications the API accepts (``[ses] topics``)."""
    transports: Mapping[str, TransportSettings] = field(default_factory=dict)
    source: str = "defaults"

    @property
    def url(self) -> str:
        """The store URL: the configured one, else the SQLite file in the data directory."""
        return self.store_url or str(self.data_dir / "mailfate.db")

    def verp_key(self) -> bytes:
        """The VERP HMAC secret: configured, else ``<data_dir>/verp.key`` (created once, mode 0600)."""
        if self.verp_secret:
            return self.verp_secret.encode()
        path = self.data_dir / "verp.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(os.urandom(32).hex().encode())
        return path.read_bytes().strip()

    def transport_settings(self, name: str) -> TransportSettings:
        found = self.transports.get(name)
        if found is not None:
            return found
        if name in TRANSPORT_TYPES:  # a bare type name works with its defaults
            return TransportSettings(name, name, {})
        raise ConfigError(f"{self.source}: transport {name!r} is not defined; add [transports.{name}]")


def _table(value: Any, key: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: {key} must be a table")
    return value


def _number(table: Mapping[str, Any], key: str, default: float, low: float, source: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        raise ConfigError(f"{source}: {key} = {value!r}: give a number >= {low}")
    return float(value)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Defaults, overlaid by the TOML file (``path`` or ``$MAILFATE_CONFIG``), the environment and
    ``overrides`` (keyword arguments named like the :class:`Settings` fields)."""
    path = path or os.environ.get("MAILFATE_CONFIG") or None
    raw: dict[str, Any] = {}
    source = "defaults"
    if path:
        source = str(path)
        try:
            raw = tomllib.loads(Path(path).read_text("utf-8"))
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read the configuration: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    known = {
        "data_dir",
        "store",
        "delivery",
        "retry",
        "verp",
        "inbound",
        "dkim",
        "routes",
        "transports",
        "ses",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key {unknown[0]!r}; known: {', '.join(sorted(known))}")
    store = _table(raw.get("store", {}), "store", source)
    delivery = _table(raw.get("delivery", {}), "delivery", source)
    retry = _table(raw.get("retry", {}), "retry", source)
    verp = _table(raw.get("verp", {}), "verp", source)
    inbound = _table(raw.get("inbound", {}), "inbound", source)
    dkim = _table(raw.get("dkim", {}), "dkim", source)
    ses = _table(raw.get("ses", {}), "ses", source)
    topics = ses.get("topics", [])
    if not isinstance(topics, list) or not all(isinstance(t, str) and t.startswith("arn:") for t in topics):
        raise ConfigError(f'{source}: ses.topics must be a list of topic ARNs ("arn:aws:sns:...")')
    transports: dict[str, TransportSettings] = {}
    for name, given in _table(raw.get("transports", {}), "transports", source).items():
        table = dict(_table(given, f"transports.{name}", source))
        kind = str(table.pop("type", name))
        if kind not in TRANSPORT_TYPES:
            raise ConfigError(
                f"{source}: transports.{name}.type = {kind!r}; one of {', '.join(TRANSPORT_TYPES)}"
            )
        transports[name] = TransportSettings(name, kind, table)
    routes: list[RouteSettings] = []
    for i, item in enumerate(raw.get("routes", [])):
        route = _table(item, f"routes[{i}]", source)
        if not isinstance(route.get("domain"), str) or not isinstance(route.get("transport"), str):
            raise ConfigError(f'{source}: routes[{i}] needs domain = "pattern" and transport = "name"')
        routes.append(RouteSettings(route["domain"].lower(), route["transport"]))
    port = _number(inbound, "port", 2526, 0, source)
    if port > 65535:
        raise ConfigError(f"{source}: inbound.port = {port:g}: give a port from 0 to 65535")
    values: dict[str, Any] = {
        "data_dir": Path(os.environ.get("MAILFATE_DATA_DIR") or raw.get("data_dir") or "mailfate-data"),
        "store_url": os.environ.get("MAILFATE_STORE_URL") or str(store.get("url", "")),
        "transport": str(delivery.get("transport", "simulator")),
        "concurrency": int(_number(delivery, "concurrency", 200, 1, source)),
        "batch": int(_number(delivery, "batch", 200, 1, source)),
        "lease": _number(delivery, "lease", 600, 5, source),
        "suppress_after_soft": int(_number(delivery, "suppress_after_soft", 0, 0, source)),
        "retry": dict(retry),
        "verp_domain": str(verp.get("domain", "bounces.mailfate.test")).lower(),
        "verp_secret": str(verp.get("secret", "")),
        "inbound_host": str(inbound.get("host", "127.0.0.1")),
        "inbound_port": int(port),
        "dkim_keys": str(dkim.get("keys", "")),
        "routes": tuple(routes),
        "sns_topics": tuple(topics),
        "transports": transports,
        "source": source,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    for configured in settings.routes:
        settings.transport_settings(configured.transport)
    settings.transport_settings(settings.transport)
    return settings
