"""The simulator's configuration: packaged TOML defaults, overlaid by a user file and overrides.

``load_config(path, overrides)`` reads every ``*.toml`` under ``mailfate/data/simulator`` (sorted
by name), deep-merges the user file and then ``overrides`` (tables merge, arrays and scalars
replace), validates everything and returns a frozen :class:`SimulatorConfig`. Every bad value is a
``ConfigError`` naming the file that set it, the key and the fix.

Option defaults that come from server-wide settings are filled in here: a ``greylist`` without a
``delay`` gets ``server.greylist_delay``; the reporting personalities (``late-bounce``,
``complaint``, ``mailbox-simulator``) without a ``delay`` get ``reports.delay``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mailfate.errors import ConfigError
from mailfate.model.reasons import Reason
from mailfate.model.reply import is_status
from mailfate.simulator.model import Reply
from mailfate.simulator.personalities import PERSONALITIES

__all__ = [
    "REPLY_KEYS",
    "DictReplyBook",
    "DomainConfig",
    "ReportsSettings",
    "ServerSettings",
    "SimulatorConfig",
    "load_config",
]

REPLY_KEYS = frozenset(
    {
        "accepted", "greylisted", "unknown_user", "mailbox_full_temp", "mailbox_full", "rate_limited",
        "blocklisted", "no_ptr", "auth_strict", "auth_lenient", "relay_denied", "suppressed", "dropped",
        "tarpit_banner", "message_too_big", "bare_lf", "line_too_long", "too_many_recipients",
        "internal_error",
    }
)  # fmt: skip
REPORTING = frozenset({"late-bounce", "complaint", "mailbox-simulator"})
DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$"
)
_REPLY_FIELDS = {"code", "status", "text", "reason", "source", "drop"}
_DOMAIN_KEYS = {"personalities", "preset", "aliases"}
PACKAGED = "packaged defaults"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    hostname: str = "mx.mailfate.test"
    greylist_delay: float = 300.0
    banner_delay: float = 0.0
    unknown_domains: str = "reject"
    max_message_size: int = 10 * 1024 * 1024
    max_recipients: int = 100
    max_errors: int = 20
    """Protocol errors (garbage, bad syntax) after which a session is closed with 421."""
    timeout: float = 300.0
    """Seconds a session may stay idle."""
    inbox_max_messages: int = 10_000
    """Messages the inbox keeps (the oldest are dropped from the index; the maildir files stay)."""
    inbox_max_attempts: int = 100_000
    """Attempts (one per recipient per transaction) the inbox remembers."""


@dataclass(frozen=True, slots=True)
class ReportsSettings:
    smtp: str = ""
    delay: float = 30.0


@dataclass(frozen=True, slots=True)
class DnsSettings:
    nameserver: str = ""


@dataclass(frozen=True, slots=True)
class DomainConfig:
    name: str
    personalities: tuple[str, ...]
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    preset: str = ""
    aliases: tuple[str, ...] = ()


class DictReplyBook:
    """A :class:`~mailfate.simulator.model.ReplyBook` over a dict."""

    __slots__ = ("replies",)

    def __init__(self, replies: Mapping[str, Reply]) -> None:
        self.replies = dict(replies)

    def get(self, key: str) -> Reply:
        return self.replies[key]


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    server: ServerSettings
    reports: ReportsSettings
    dns: DnsSettings
    replies: dict[str, Reply]
    presets: dict[str, dict[str, Reply]]
    domains: dict[str, DomainConfig]
    """Every served name (aliases included, lowercase) → its domain's configuration."""
    sources: tuple[str, ...] = ()

    def reply_book(self, domain: str | None = None) -> DictReplyBook:
        """The default book overlaid by the domain's preset (the default book for ``None``)."""
        dom = self.domains.get(domain.lower()) if domain else None
        if dom is None or not dom.preset:
            return DictReplyBook(self.replies)
        return DictReplyBook({**self.replies, **self.presets[dom.preset]})


def load_config(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> SimulatorConfig:
    """Packaged defaults, then ``path``, then ``overrides``; validated."""
    layers: list[tuple[str, dict[str, Any]]] = []
    pkg = resources.files("mailfate").joinpath("data", "simulator")
    for item in sorted(pkg.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".toml"):
            layers.append((f"{PACKAGED} ({item.name})", _parse(item.read_text("utf-8"), item.name)))
    if path is not None:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the simulator configuration ({exc.strerror})") from exc
        layers.append((str(path), _parse(text, str(path))))
    if overrides:
        layers.append(("overrides", _plain(overrides)))
    merged: dict[str, Any] = {}
    for _, data in layers:
        _merge(merged, data)
    return _Validator(layers).build(merged)


def _parse(text: str, label: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML ({exc}); fix the syntax") from exc


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) if isinstance(v, Mapping) else v for k, v in data.items()}


def _merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        old = into.get(key)
        if isinstance(old, dict) and isinstance(value, Mapping):
            _merge(old, value)
        else:
            into[key] = _plain(value) if isinstance(value, Mapping) else value


class _Validator:
    def __init__(self, layers: list[tuple[str, dict[str, Any]]]) -> None:
        self.layers = layers

    def where(self, *keys: str) -> str:
        """The last layer that sets ``keys`` (the file to fix)."""
        for label, data in reversed(self.layers):
            node: Any = data
            for key in keys:
                if not isinstance(node, Mapping) or key not in node:
                    break
                node = node[key]
            else:
                return str(label)
        return str(self.layers[-1][0]) if self.layers else PACKAGED

    def fail(self, keys: tuple[str, ...], problem: str, fix: str) -> ConfigError:
        dotted = ".".join(f'"{k}"' if "." in k else k for k in keys)
        return ConfigError(f"{self.where(*keys)}: {dotted} {problem}; {fix}")

    def table(self, data: Any, keys: tuple[str, ...]) -> dict[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise self.fail(keys, "must be a table", f"write it as [{'.'.join(keys)}]")
        return data

    def number(
        self, data: dict[str, Any], keys: tuple[str, ...], default: float, lo: float, hi: float
    ) -> float:
        value = data.get(keys[-1], default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise self.fail(
                keys, f"= {value!r} is not a number between {lo:g} and {hi:g}", f"write e.g. {default:g}"
            )
        return float(value)

    def string(self, data: dict[str, Any], keys: tuple[str, ...], default: str) -> str:
        value = data.get(keys[-1], default)
        if not isinstance(value, str):
            raise self.fail(keys, f"= {value!r} is not a string", f'write e.g. "{default}"')
        return str(value)

    def known(self, data: dict[str, Any], keys: tuple[str, ...], allowed: set[str]) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.fail((*keys, unknown[0]), "is not a known key", f"known: {', '.join(sorted(allowed))}")

    def build(self, root: dict[str, Any]) -> SimulatorConfig:
        self.known(root, (), {"server", "reports", "dns", "replies", "presets", "domains"})
        srv = self.table(root.get("server"), ("server",))
        self.known(srv, ("server",), set(ServerSettings.__slots__))
        d = ServerSettings()
        server = ServerSettings(
            hostname=self.string(srv, ("server", "hostname"), d.hostname) or d.hostname,
            greylist_delay=self.number(srv, ("server", "greylist_delay"), d.greylist_delay, 0, 30 * 86400),
            banner_delay=self.number(srv, ("server", "banner_delay"), d.banner_delay, 0, 600),
            unknown_domains=self.string(srv, ("server", "unknown_domains"), d.unknown_domains).lower(),
            max_message_size=int(
                self.number(srv, ("server", "max_message_size"), d.max_message_size, 1024, 2**31)
            ),
            max_recipients=int(self.number(srv, ("server", "max_recipients"), d.max_recipients, 1, 100000)),
            max_errors=int(self.number(srv, ("server", "max_errors"), d.max_errors, 1, 100000)),
            timeout=self.number(srv, ("server", "timeout"), d.timeout, 1, 86400),
            inbox_max_messages=int(
                self.number(srv, ("server", "inbox_max_messages"), d.inbox_max_messages, 1, 10_000_000)
            ),
            inbox_max_attempts=int(
                self.number(srv, ("server", "inbox_max_attempts"), d.inbox_max_attempts, 1, 10_000_000)
            ),
        )
        rep = self.table(root.get("reports"), ("reports",))
        self.known(rep, ("reports",), {"smtp", "delay"})
        reports = ReportsSettings(
            smtp=self.string(rep, ("reports", "smtp"), ""),
            delay=self.number(rep, ("reports", "delay"), 30.0, 0, 30 * 86400),
        )
        dns_t = self.table(root.get("dns"), ("dns",))
        self.known(dns_t, ("dns",), {"nameserver"})
        dns = DnsSettings(nameserver=self.string(dns_t, ("dns", "nameserver"), ""))
        replies = {
            key: self.reply(value, ("replies", key), None)
            for key, value in self.table(root.get("replies"), ("replies",)).items()
        }
        missing = sorted(REPLY_KEYS - set(replies))
        if missing:
            raise self.fail(("replies", missing[0]), "is missing", "every reply book needs it; add the table")
        presets: dict[str, dict[str, Reply]] = {}
        for name, preset in self.table(root.get("presets"), ("presets",)).items():
            ptab = self.table(preset, ("presets", name))
            self.known(ptab, ("presets", name), {"replies"})
            book: dict[str, Reply] = {}
            for key, value in self.table(ptab.get("replies"), ("presets", name, "replies")).items():
                keys = ("presets", name, "replies", key)
                if key not in replies:
                    raise self.fail(
                        keys, "is not a reply of the default book", f"known: {', '.join(sorted(replies))}"
                    )
                book[key] = self.reply(value, keys, replies[key])
            presets[name] = book
        domains = self.domains(root, server, reports, presets)
        fallback = server.unknown_domains
        if fallback != "reject" and fallback not in domains:
            raise self.fail(
                ("server", "unknown_domains"),
                f'= {fallback!r} is neither "reject" nor a configured domain',
                'write "reject" or the name of a [domains."…"] table',
            )
        return SimulatorConfig(
            server, reports, dns, replies, presets, domains, tuple(x for x, _ in self.layers)
        )

    def reply(self, value: Any, keys: tuple[str, ...], base: Reply | None) -> Reply:
        tab = self.table(value, keys)
        self.known(tab, keys, _REPLY_FIELDS)
        for name in ("code", "text") if base is None else ():
            if name not in tab:
                raise self.fail((*keys, name), "is missing", "every reply needs code, status and text")
        code = tab.get("code", base.code if base else 0)
        if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 599:
            raise self.fail((*keys, "code"), f"= {code!r} is not an SMTP reply code", "write a 2xx-5xx code")
        status = tab.get("status", base.status if base else "")
        if not isinstance(status, str) or (status and not is_status(status)):
            raise self.fail(
                (*keys, "status"), f"= {status!r} is not an enhanced status", 'write e.g. "5.1.1"'
            )
        if status and status[0] != str(code)[0]:
            raise self.fail(
                (*keys, "status"),
                f"= {status!r} does not match code {code}",
                f'its class must be "{str(code)[0]}"',
            )
        text = tab.get("text", base.text if base else "")
        if not isinstance(text, str):
            raise self.fail((*keys, "text"), "is not a string", "write the reply text")
        reason_value = tab.get("reason", base.reason if base else None)
        try:
            reason = Reason(reason_value) if reason_value else None
        except ValueError:
            known = ", ".join(sorted(r.value for r in Reason))
            raise self.fail(
                (*keys, "reason"), f"= {reason_value!r} is not a reason", f"known: {known}"
            ) from None
        source = tab.get("source", base.source if base else "")
        drop = tab.get("drop", base.drop if base else False)
        if not isinstance(source, str) or not isinstance(drop, bool):
            raise self.fail(keys, "has a bad source or drop", "source is a string, drop true or false")
        return Reply(code, status, text, reason, source, drop)

    def domains(
        self, root: dict[str, Any], server: ServerSettings, reports: ReportsSettings, presets: dict[str, Any]
    ) -> dict[str, DomainConfig]:
        out: dict[str, DomainConfig] = {}
        owner: dict[str, str] = {}
        for raw_name, value in self.table(root.get("domains"), ("domains",)).items():
            keys = ("domains", raw_name)
            tab = self.table(value, keys)
            name = raw_name.lower()
            if not DOMAIN_RE.match(name):
                raise self.fail(keys, "is not a domain name", 'write e.g. [domains."example.test"]')
            slugs = tab.get("personalities", [])
            if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
                raise self.fail((*keys, "personalities"), "is not a list of names", 'write e.g. ["greylist"]')
            for slug in slugs:
                if slug not in PERSONALITIES:
                    raise self.fail(
                        (*keys, "personalities"),
                        f"names unknown personality {slug!r}",
                        f"known: {', '.join(sorted(PERSONALITIES))}",
                    )
            preset = tab.get("preset", "")
            if not isinstance(preset, str) or (preset and preset not in presets):
                raise self.fail(
                    (*keys, "preset"),
                    f"= {preset!r} is not a known preset",
                    f"known: {', '.join(sorted(presets))}",
                )
            aliases = tab.get("aliases", [])
            if not isinstance(aliases, list) or not all(
                isinstance(a, str) and DOMAIN_RE.match(a.lower()) for a in aliases
            ):
                raise self.fail(
                    (*keys, "aliases"), "is not a list of domain names", 'write e.g. ["hanmail.test"]'
                )
            options: dict[str, dict[str, Any]] = {}
            for key, opt in tab.items():
                if key in _DOMAIN_KEYS:
                    continue
                if key not in PERSONALITIES:
                    raise self.fail(
                        (*keys, key),
                        "is neither a domain key nor a personality",
                        f"known: {', '.join(sorted(_DOMAIN_KEYS))}",
                    )
                if key in slugs:
                    options[key] = dict(self.table(opt, (*keys, key)))
            for slug in slugs:
                opts = options.setdefault(slug, {})
                if slug == "greylist":
                    opts.setdefault("delay", server.greylist_delay)
                elif slug in REPORTING:
                    opts.setdefault("delay", reports.delay)
            dom = DomainConfig(name, tuple(slugs), options, preset, tuple(a.lower() for a in aliases))
            for served in (name, *dom.aliases):
                if served in owner:
                    raise self.fail(
                        (*keys, "aliases"),
                        f"serves {served!r} already served by {owner[served]!r}",
                        "remove one",
                    )
                owner[served] = name
                out[served] = dom
        return out
