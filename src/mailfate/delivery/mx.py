"""MX lookup for direct delivery (dnspython, asynchronous), with null MX and the A fallback.

``resolve_mx`` never raises for DNS trouble: a timeout or SERVFAIL is an ``error`` (deferred, try
later), NXDOMAIN is ``nxdomain`` (the domain does not exist: bounced), ``0 .`` is a null MX
(RFC 7505: the domain accepts no mail: bounced), no MX at all falls back to the domain itself
(RFC 5321 5.1). Answers are cached for their TTL.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import dns.asyncresolver
import dns.exception
import dns.resolver

from mailfate.mailauth.dns import split_host_port

__all__ = ["MxHost", "MxResolver", "MxResult", "make_async_resolver"]


@dataclass(frozen=True, slots=True)
class MxHost:
    preference: int
    host: str


@dataclass(frozen=True, slots=True)
class MxResult:
    domain: str
    hosts: tuple[MxHost, ...] = ()
    null: bool = False
    nxdomain: bool = False
    error: str = ""
    implicit: bool = False
    """No MX record: the domain's own address is used (RFC 5321 5.1)."""
    expires: float = field(default=0.0, compare=False)


def make_async_resolver(nameserver: str | None, *, timeout: float = 5.0) -> dns.asyncresolver.Resolver:
    """The system resolver, or only ``host[:port]`` (tests: a Knot server on 127.0.0.1)."""
    if not nameserver:
        resolver = dns.asyncresolver.Resolver()
    else:
        host, port = split_host_port(nameserver)
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
    resolver.lifetime = timeout
    resolver.timeout = timeout
    return resolver


class MxResolver:
    def __init__(self, resolver: dns.asyncresolver.Resolver, *, rng: random.Random | None = None) -> None:
        self.resolver = resolver
        self.rng = rng or random.Random()
        self._cache: dict[str, MxResult] = {}

    async def resolve(self, domain: str) -> MxResult:
        domain = domain.lower().rstrip(".")
        cached = self._cache.get(domain)
        if cached is not None and cached.expires > time.monotonic():
            return self._shuffled(cached)
        result = await self._lookup(domain)
        if not result.error:
            self._cache[domain] = result
        return self._shuffled(result)

    def _shuffled(self, result: MxResult) -> MxResult:
        """Equal preferences in random order (RFC 5321 5.1), lower preference first."""
        hosts = list(result.hosts)
        self.rng.shuffle(hosts)
        hosts.sort(key=lambda h: h.preference)
        return MxResult(
            result.domain,
            tuple(hosts),
            result.null,
            result.nxdomain,
            result.error,
            result.implicit,
            result.expires,
        )

    async def _lookup(self, domain: str) -> MxResult:
        try:
            answer = await self.resolver.resolve(domain, "MX")
        except dns.resolver.NXDOMAIN:
            return MxResult(domain, nxdomain=True, expires=time.monotonic() + 300)
        except dns.resolver.NoAnswer:
            return MxResult(domain, (MxHost(0, domain),), implicit=True, expires=time.monotonic() + 300)
        except dns.exception.Timeout:
            return MxResult(domain, error=f"DNS timeout looking up MX for {domain}")
        except dns.exception.DNSException as exc:
            return MxResult(domain, error=f"DNS error looking up MX for {domain}: {exc}")
        hosts = tuple(MxHost(int(r.preference), str(r.exchange).rstrip(".").lower()) for r in answer)
        ttl = float(answer.rrset.ttl) if answer.rrset is not None else 300.0
        if len(hosts) == 1 and hosts[0].host in ("", "."):
            return MxResult(domain, null=True, expires=time.monotonic() + ttl)
        return MxResult(
            domain, tuple(h for h in hosts if h.host not in ("", ".")), expires=time.monotonic() + ttl
        )

    async def addresses(self, host: str) -> list[str]:
        """IPv4 then IPv6 addresses of an MX host (empty on any DNS trouble)."""
        found: list[str] = []
        for rtype in ("A", "AAAA"):
            try:
                answer = await self.resolver.resolve(host, rtype)
            except dns.exception.DNSException:
                continue
            found += [r.address for r in answer]
        return found
