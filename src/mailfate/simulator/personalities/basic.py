"""The simple personalities: accept, unknown-users, mailbox-full, blocklist, tarpit, disconnect.

Options (``[domains."x".<slug>]``):

- ``unknown-users``: ``addresses`` (local parts or full addresses), ``patterns`` (regular
  expressions searched in the local part, case-insensitive) → ``unknown_user`` (550 5.1.1) at RCPT.
  With neither, every recipient is unknown.
- ``mailbox-full``: ``addresses``, ``patterns`` as above, ``temporary`` (``mailbox_full_temp``
  452 4.2.2 instead of ``mailbox_full`` 552 5.2.2). With neither list, every mailbox is full.
- ``blocklist``: ``ips``, IP addresses or CIDR networks → ``blocklisted`` (554 5.7.1) at RCPT.
- ``tarpit``: ``delay`` seconds added before every RCPT and DATA reply of the domain (the slow
  banner is server-wide: ``[server] banner_delay``).
- ``disconnect``: ``after = "data"`` (default) or ``"rcpt"``: the connection is closed instead of
  replying (the ``dropped`` reply is only logged).
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from mailfate.errors import ConfigError
from mailfate.simulator.model import DataContext, Personality, RcptContext, Reply, Services

__all__ = ["Accept", "Blocklist", "Disconnect", "MailboxFull", "Tarpit", "UnknownUsers"]


def _check_options(name: str, options: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"{name}: unknown option {unknown[0]!r}; known: {', '.join(sorted(known))}")


def _strings(name: str, options: Mapping[str, Any], key: str) -> list[str]:
    value = options.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{name}: {key} must be a list of strings; write e.g. {key} = ["nobody"]')
    return value


class Accept(Personality):
    """250 for everyone."""

    name: ClassVar[str] = "accept"


class _AddressMatcher(Personality):
    """Matches recipients by address list or local-part pattern; no lists match everyone."""

    extra_options: ClassVar[set[str]] = set()

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        _check_options(self.name, self.options, {"addresses", "patterns", *self.extra_options})
        self.addresses = {a.lower() for a in _strings(self.name, self.options, "addresses")}
        self.patterns: list[re.Pattern[str]] = []
        for pattern in _strings(self.name, self.options, "patterns"):
            try:
                self.patterns.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                raise ConfigError(
                    f"{self.name}: pattern {pattern!r} is not a regular expression ({exc})"
                ) from exc
        self.everyone = not self.addresses and not self.patterns

    def matches(self, ctx: RcptContext) -> bool:
        if self.everyone:
            return True
        if ctx.local_part.lower() in self.addresses or ctx.rcpt.lower() in self.addresses:
            return True
        return any(p.search(ctx.local_part) for p in self.patterns)


class UnknownUsers(_AddressMatcher):
    """Listed or matching recipients do not exist: ``unknown_user``."""

    name: ClassVar[str] = "unknown-users"

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        return ctx.replies.get("unknown_user") if self.matches(ctx) else None


class MailboxFull(_AddressMatcher):
    """Listed or matching mailboxes are full: ``mailbox_full`` or ``mailbox_full_temp``."""

    name: ClassVar[str] = "mailbox-full"
    extra_options: ClassVar[set[str]] = {"temporary"}

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        temporary = self.options.get("temporary", False)
        if not isinstance(temporary, bool):
            raise ConfigError(f"{self.name}: temporary must be true or false")
        self.key = "mailbox_full_temp" if temporary else "mailbox_full"

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        return ctx.replies.get(self.key) if self.matches(ctx) else None


class Blocklist(Personality):
    """Listed client IPs are refused at RCPT: ``blocklisted``."""

    name: ClassVar[str] = "blocklist"

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        _check_options(self.name, self.options, {"ips"})
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for text in _strings(self.name, self.options, "ips"):
            try:
                self.networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError as exc:
                raise ConfigError(
                    f'{self.name}: {text!r} is not an IP or CIDR; write e.g. "192.0.2.0/24"'
                ) from exc

    def listed(self, client_ip: str) -> bool:
        try:
            ip = ipaddress.ip_address(client_ip.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self.networks)

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        return ctx.replies.get("blocklisted") if self.listed(ctx.session.client_ip) else None


class Tarpit(Personality):
    """Every RCPT and DATA reply of the domain comes ``delay`` seconds late."""

    name: ClassVar[str] = "tarpit"

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        _check_options(self.name, self.options, {"delay"})
        delay = self.options.get("delay", 5)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 3600:
            raise ConfigError(f"{self.name}: delay = {delay!r} must be seconds between 0 and 3600")
        self.delay = float(delay)

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        await asyncio.sleep(self.delay)
        return None

    async def on_data(self, ctx: DataContext) -> Reply | None:
        await asyncio.sleep(self.delay)
        return None


class Disconnect(Personality):
    """Drop the connection at RCPT or at the end of DATA (the ``dropped`` reply, never sent)."""

    name: ClassVar[str] = "disconnect"

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        _check_options(self.name, self.options, {"after"})
        after = self.options.get("after", "data")
        if after not in ("data", "rcpt"):
            raise ConfigError(f'{self.name}: after = {after!r} must be "data" or "rcpt"')
        self.after: str = after

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        return dataclasses.replace(ctx.replies.get("dropped"), drop=True) if self.after == "rcpt" else None

    async def on_data(self, ctx: DataContext) -> Reply | None:
        return dataclasses.replace(ctx.replies.get("dropped"), drop=True) if self.after == "data" else None
