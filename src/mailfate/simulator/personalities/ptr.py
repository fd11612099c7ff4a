"""``requires-ptr``: refuse clients without reverse DNS, like Postfix ``reject_unknown_client_hostname``.

At RCPT the client IP's PTR is looked up once per session (the name is kept in
``session.ptr_name``). Without a PTR the answer is ``no_ptr`` (550 5.7.25). With the option
``fcrdns = true`` the name must also resolve back to the client IP (forward-confirmed reverse
DNS). A DNS failure defers with the same text as 450 4.7.25, as Postfix does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
from collections.abc import Mapping
from typing import Any

import dns.resolver

from mailfate.errors import ConfigError, InputError
from mailfate.mailauth.dns import DnsStatus, lookup, make_resolver, reverse_name
from mailfate.simulator.model import Personality, RcptContext, Reply, Services

__all__ = ["PtrCheck", "RequiresPtr", "check_ptr"]

_SESSION_KEY = "mailfate.ptr"


@dataclasses.dataclass(frozen=True, slots=True)
class PtrCheck:
    """The reverse DNS of one client IP."""

    status: DnsStatus
    names: tuple[str, ...] = ()
    confirmed: bool = False
    """Some PTR name resolves back to the IP (FCrDNS)."""


def check_ptr(ip: str, resolver: dns.resolver.Resolver, *, forward_confirm: bool = True) -> PtrCheck:
    """Look up the PTR names of ``ip`` and (``forward_confirm``) their A/AAAA records. Blocking."""
    try:
        wanted = ipaddress.ip_address(ip)
        name = reverse_name(ip)
    except (ValueError, InputError):
        return PtrCheck(DnsStatus.PERMERROR)
    answer = lookup(resolver, name, "PTR")
    if not answer.ok:
        return PtrCheck(answer.status)
    if not forward_confirm:
        return PtrCheck(DnsStatus.OK, answer.records)
    rtype = "A" if wanted.version == 4 else "AAAA"
    temporary = False
    for host in answer.records[:10]:
        forward = lookup(resolver, host, rtype)
        temporary = temporary or forward.status is DnsStatus.TEMPERROR
        if any(_same(address, wanted) for address in forward.records):
            return PtrCheck(DnsStatus.OK, answer.records, confirmed=True)
    return PtrCheck(DnsStatus.TEMPERROR if temporary else DnsStatus.OK, answer.records)


def _same(address: str, wanted: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return ipaddress.ip_address(address) == wanted
    except ValueError:
        return False


class RequiresPtr(Personality):
    """Reject clients whose IP has no PTR (or, with ``fcrdns``, no forward-confirmed one)."""

    name = "requires-ptr"

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        unknown = set(self.options) - {"fcrdns"}
        if unknown:
            raise ConfigError(f"requires-ptr: unknown option(s) {', '.join(sorted(unknown))}; known: fcrdns")
        fcrdns = self.options.get("fcrdns", False)
        if not isinstance(fcrdns, bool):
            raise ConfigError(f"requires-ptr: fcrdns = {fcrdns!r} must be true or false")
        self.fcrdns = fcrdns
        self._resolver = services.resolver

    async def on_rcpt(self, ctx: RcptContext) -> Reply | None:
        session = ctx.session
        cached = session.extra.get(_SESSION_KEY)
        result: PtrCheck
        if isinstance(cached, PtrCheck):
            result = cached
        else:
            if self._resolver is None:
                self._resolver = make_resolver(None)
            result = await asyncio.to_thread(
                check_ptr, session.client_ip, self._resolver, forward_confirm=self.fcrdns
            )
            if result.status is not DnsStatus.TEMPERROR:  # retry a DNS failure at the next RCPT
                session.extra[_SESSION_KEY] = result
            if result.names:
                session.ptr_name = result.names[0]
        if result.status is DnsStatus.OK and (result.confirmed or not self.fcrdns):
            return None
        reply = ctx.replies.get("no_ptr")
        if result.status is DnsStatus.TEMPERROR:
            return dataclasses.replace(reply, code=450, status="4.7.25")
        return reply
