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
    keep_reports_days = 30            # raw reports (and unmatched mail) kept this long; 0 = forever
    keep_unmatched = true             # mail that is no report → <data_dir>/unmatched/*.eml
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
    [[webhooks]]                      # every event POSTed, signed (docs/webhooks.md)
    name = "crm"                      # the key of its position in the store: keep it stable
    url = "https://hooks.example.com/mailfate"
    secret_env = "MAILFATE_CRM_SECRET"  # or secret = "..."; a webhook without a secret is refused
    events = ["*"]                    # event types, "*" for all; "alert" for the alerts
    timeout = 10
    max_attempts = 12                 # then the event is logged failed and skipped
    start = "latest"                  # a new subscriber starts after the newest event; "beginning"
    signature = "mailfate"            # or "standard": Standard Webhooks headers too (secret whsec_...)
    format = "mailfate"               # or "ses": Amazon SES's event JSON in an SNS notification
    [alerts]
    interval = 60                     # seconds between two checks of the alert rules
    pause_marketing = false           # hold marketing mail of a domain past a critical bounce/complaint line
    [limits]
    api_per_key = 2000                # messages per second each API key may submit (429 beyond)
    api_burst = 4000                  # ... and at once
    submission_per_key = 200          # messages per second each key may submit over SMTP (451 beyond)
    [submission]
    cert = "/etc/ssl/mail.example.pem"  # the SMTP submission server's certificate chain (PEM) ...
    key = "/etc/ssl/mail.example.key"   # ... and key; neither: a self-signed one in the data directory
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailfate.errors import ConfigError

__all__ = ["RouteSettings", "Settings", "TransportSettings", "WebhookSettings", "load_settings"]

TRANSPORT_TYPES = ("simulator", "direct", "relay", "ses")
"""The transport types, checked when the settings are read. Each registers itself with its options
in ``delivery/transports`` (which checks those when it builds one); this floor may not import
delivery, so the names are repeated here, and the transport contract suite holds the two equal."""


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
class WebhookSettings:
    """One subscriber of the outgoing webhooks (``[[webhooks]]``; ``MAILFATE_WEBHOOK_URL`` and
    ``MAILFATE_WEBHOOK_SECRET`` add one named ``env`` for every event)."""

    name: str
    url: str
    secret: str = ""
    secret_env: str = ""
    """The environment variable holding the secret, read when the sender starts."""
    events: tuple[str, ...] = ("*",)
    """Event types; "*" for every one; "alert" for the alerts (which are not events)."""
    timeout: float = 10.0
    max_attempts: int = 12
    start: str = "latest"
    """Where a new subscriber starts: "latest" (after the newest event) or "beginning"."""
    signature: str = "mailfate"
    """``mailfate`` (the ``Mailfate-Signature`` header) or ``standard`` (Standard Webhooks'
    ``webhook-id``/``webhook-timestamp``/``webhook-signature`` as well; the secret is ``whsec_…``)."""
    format: str = "mailfate"
    """``mailfate`` (mailfate's event JSON) or ``ses`` (Amazon SES's event-publishing JSON in an
    SNS notification, for consumers written for SES: :mod:`mailfate.tracking.ses_events`)."""

    def wants(self, kind: str) -> bool:
        """Whether to POST an event of type ``kind`` (or "alert") to this subscriber."""
        return kind in self.events or (kind != "alert" and "*" in self.events)

    def signing_key(self) -> bytes:
        """The secret; a ``ConfigError`` when there is none (unsigned webhooks are refused)."""
        secret = os.environ.get(self.secret_env, "") if self.secret_env else self.secret
        if not secret:
            where = f"${self.secret_env} is empty or unset" if self.secret_env else "no secret"
            raise ConfigError(
                f"webhook {self.name!r}: {where}; set the secret: a webhook without one is refused"
            )
        return secret.encode("utf-8")


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
    keep_reports_days: float = 30.0
    """Days the raw reports (``reports``) and the unmatched mails are kept (0: forever)."""
    keep_unmatched: bool = True
    """Keep a mail to the inbound port that is no report in ``<data_dir>/unmatched/``."""
    dkim_keys: str = ""
    routes: tuple[RouteSettings, ...] = ()
    sns_topics: tuple[str, ...] = ()
    """SNS topic ARNs whose SES notifications the API accepts (``[ses] topics``)."""
    webhooks: tuple[WebhookSettings, ...] = ()
    alert_interval: float = 60.0
    """Seconds between two checks of the alert rules (``[alerts] interval``)."""
    pause_marketing: bool = False
    """Hold marketing mail from a sending domain while a critical bounce or complaint alert is on."""
    api_per_key: float = 2000.0
    """Messages per second one API key may submit through the HTTP API (``[limits]``)."""
    api_burst: float = 4000.0
    submission_per_key: float = 200.0
    """Messages per second one key may submit over SMTP (``[limits]``)."""
    submission_cert: str = ""
    """``[submission] cert``: the SMTP submission server's certificate (PEM, with its chain); with
    ``submission_key``. Empty: a self-signed one made in the data directory."""
    submission_key: str = ""
    transports: Mapping[str, TransportSettings] = field(default_factory=dict)
    template_dirs: tuple[Path, ...] = ()
    """``[templates] dirs``: folders of message templates, searched before the packaged ones."""
    source: str = "defaults"

    @property
    def templates(self) -> tuple[Path, ...]:
        """Where templates are looked for, first to last: ``[templates] dirs``, then
        ``<data_dir>/templates`` (whether or not it exists yet); the packaged ones come last."""
        return (*self.template_dirs, self.data_dir / "templates")

    @property
    def unmatched_dir(self) -> Path | None:
        """Where the inbound server keeps mail that is no report (None: it is not kept)."""
        return self.data_dir / "unmatched" if self.keep_unmatched else None

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


_WEBHOOK_KEYS = (
    "name",
    "url",
    "secret",
    "secret_env",
    "events",
    "timeout",
    "max_attempts",
    "start",
    "signature",
    "format",
)


def _webhook(table: Mapping[str, Any], where: str) -> WebhookSettings:
    """One ``[[webhooks]]`` entry, checked; ``where`` names it in the errors."""
    from urllib.parse import urlsplit

    from mailfate.model import EventType

    unknown = sorted(set(table) - set(_WEBHOOK_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(_WEBHOOK_KEYS)}")
    name = table.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise ConfigError(f'{where}: name = {name!r}: give a stable name like "crm" (letters, digits, _.-)')
    url = table.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or " " in str(url):
        raise ConfigError(f"{where}: url = {url!r}: give an http:// or https:// URL")
    secret, secret_env = table.get("secret", ""), table.get("secret_env", "")
    if not isinstance(secret, str) or not isinstance(secret_env, str) or bool(secret) == bool(secret_env):
        raise ConfigError(
            f'{where}: give secret = "..." or secret_env = "VARIABLE" (one of them): '
            "webhooks are always signed, one without a secret is refused"
        )
    known = {t.value for t in EventType} | {"*", "alert"}
    kinds = table.get("events", ["*"])
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) and k in known for k in kinds):
        raise ConfigError(f"{where}: events = {kinds!r}: a list of {', '.join(sorted(known))}")
    start = table.get("start", "latest")
    if start not in ("latest", "beginning"):
        raise ConfigError(f'{where}: start = {start!r}: "latest" or "beginning"')
    signature = table.get("signature", "mailfate")
    if signature not in ("mailfate", "standard"):
        raise ConfigError(f'{where}: signature = {signature!r}: "mailfate" or "standard"')
    shape = table.get("format", "mailfate")
    if shape not in ("mailfate", "ses"):
        raise ConfigError(f'{where}: format = {shape!r}: "mailfate" or "ses"')
    return WebhookSettings(
        name,
        str(url),
        secret,
        secret_env,
        tuple(kinds),
        _number(table, "timeout", 10, 0.1, where),
        int(_number(table, "max_attempts", 12, 1, where)),
        start,
        signature,
        shape,
    )


def _webhooks(value: Any, source: str) -> tuple[WebhookSettings, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{source}: webhooks must be an array of tables: [[webhooks]]")
    found = [
        _webhook(_table(item, f"webhooks[{i}]", source), f"{source}: webhooks[{i}]")
        for i, item in enumerate(value)
    ]
    if os.environ.get("MAILFATE_WEBHOOK_URL"):
        env = {"name": "env", "url": os.environ["MAILFATE_WEBHOOK_URL"]}
        env["secret"] = os.environ.get("MAILFATE_WEBHOOK_SECRET", "")
        found.append(_webhook(env, "environment: MAILFATE_WEBHOOK_URL (secret: MAILFATE_WEBHOOK_SECRET)"))
    names = [w.name for w in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{source}: two webhooks named {twice[0]!r}; each needs its own name")
    return tuple(found)


def _flag(table: Mapping[str, Any], key: str, source: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: {key} = {value!r}: give true or false")
    return value


def _read_toml(path: str | Path, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the configuration: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc


def _transports(raw: Mapping[str, Any], source: str) -> dict[str, TransportSettings]:
    transports: dict[str, TransportSettings] = {}
    for name, given in _table(raw.get("transports", {}), "transports", source).items():
        table = dict(_table(given, f"transports.{name}", source))
        kind = str(table.pop("type", name))
        if kind not in TRANSPORT_TYPES:
            raise ConfigError(
                f"{source}: transports.{name}.type = {kind!r}; one of {', '.join(TRANSPORT_TYPES)}"
            )
        transports[name] = TransportSettings(name, kind, table)  # options: the transport's own to check
    return transports


def _routes(raw: Mapping[str, Any], source: str) -> list[RouteSettings]:
    routes: list[RouteSettings] = []
    for i, item in enumerate(raw.get("routes", [])):
        route = _table(item, f"routes[{i}]", source)
        if not isinstance(route.get("domain"), str) or not isinstance(route.get("transport"), str):
            raise ConfigError(f'{source}: routes[{i}] needs domain = "pattern" and transport = "name"')
        routes.append(RouteSettings(route["domain"].lower(), route["transport"]))
    return routes


def _inbound(inbound: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The ``[inbound]`` table as :class:`Settings` fields."""
    unknown = sorted(set(inbound) - {"host", "port", "keep_reports_days", "keep_unmatched"})
    if unknown:
        raise ConfigError(
            f"{source}: inbound.{unknown[0]} is unknown; known: host, port, keep_reports_days, keep_unmatched"
        )
    port = _number(inbound, "port", 2526, 0, source)
    if port > 65535:
        raise ConfigError(f"{source}: inbound.port = {port:g}: give a port from 0 to 65535")
    return {
        "inbound_host": str(inbound.get("host", "127.0.0.1")),
        "inbound_port": int(port),
        "keep_reports_days": _number(inbound, "keep_reports_days", 30, 0, f"{source}: inbound"),
        "keep_unmatched": _flag(inbound, "keep_unmatched", f"{source}: inbound")
        if "keep_unmatched" in inbound
        else True,
    }


def _submission(value: Any, source: str) -> dict[str, str]:
    """``[submission]``: the certificate and key of the SMTP submission server, both or neither."""
    submission = _table(value, "submission", source)
    if sorted(set(submission) - {"cert", "key"}) or bool(submission.get("cert")) != bool(
        submission.get("key")
    ):
        raise ConfigError(f"{source}: [submission] takes cert and key (PEM files), both or neither")
    return {
        "submission_cert": str(submission.get("cert", "")),
        "submission_key": str(submission.get("key", "")),
    }


def _template_dirs(value: Any, source: str) -> tuple[Path, ...]:
    """``[templates] dirs = ["folder", ...]``: folders of ``NAME.LANG.subject.txt`` /
    ``.text.txt`` / ``.html`` files."""
    templates = _table(value, "templates", source)
    dirs = templates.get("dirs", [])
    if (
        sorted(set(templates) - {"dirs"})
        or not isinstance(dirs, list)
        or not all(isinstance(d, str) and d for d in dirs)
    ):
        raise ConfigError(f'{source}: [templates] takes dirs = ["folder", ...] (folders of template files)')
    return tuple(Path(d) for d in dirs)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Defaults, overlaid by the TOML file (``path`` or ``$MAILFATE_CONFIG``), the environment and
    ``overrides`` (keyword arguments named like the :class:`Settings` fields)."""
    path = path or os.environ.get("MAILFATE_CONFIG") or None
    source = str(path) if path else "defaults"
    raw = _read_toml(path, source) if path else {}
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
        "webhooks",
        "alerts",
        "limits",
        "submission",
        "templates",
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
    transports = _transports(raw, source)
    routes = _routes(raw, source)
    webhooks = _webhooks(raw.get("webhooks", []), source)
    alerts = _table(raw.get("alerts", {}), "alerts", source)
    limits = _table(raw.get("limits", {}), "limits", source)
    unknown_limits = sorted(set(limits) - {"api_per_key", "api_burst", "submission_per_key"})
    if unknown_limits:
        raise ConfigError(
            f"{source}: limits.{unknown_limits[0]} is unknown; known: api_per_key, api_burst, "
            "submission_per_key"
        )
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
        **_inbound(inbound, source),
        "dkim_keys": str(dkim.get("keys", "")),
        "routes": tuple(routes),
        "sns_topics": tuple(topics),
        "webhooks": webhooks,
        "alert_interval": _number(alerts, "interval", 60, 1, f"{source}: alerts"),
        "pause_marketing": _flag(alerts, "pause_marketing", f"{source}: alerts"),
        "api_per_key": _number(limits, "api_per_key", 2000, 0.001, f"{source}: limits"),
        "api_burst": _number(limits, "api_burst", 4000, 1, f"{source}: limits"),
        "submission_per_key": _number(limits, "submission_per_key", 200, 0.001, f"{source}: limits"),
        **_submission(raw.get("submission", {}), source),
        "template_dirs": _template_dirs(raw.get("templates", {}), source),
        "transports": transports,
        "source": source,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    for configured in settings.routes:
        settings.transport_settings(configured.transport)
    settings.transport_settings(settings.transport)
    return settings
