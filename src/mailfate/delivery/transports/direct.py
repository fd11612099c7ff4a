"""Direct delivery: look up the recipient domain's MX and talk to it, as an MTA does.

MX hosts are tried in preference order (equal ones shuffled), each address of a host in turn; a
host that cannot be reached or answers the greeting with 4xx is skipped for the next. A domain
that does not exist (NXDOMAIN) or publishes a null MX (RFC 7505) is a bounce at once; DNS
trouble is a deferral. One connection pool per MX address keeps sessions for the next message;
sessions per receiving site are capped and halved when the site pushes back (``limits.py``).
``port`` exists so tests can point every MX at 127.0.0.1 on an unprivileged port.

Options: ``port`` (25), ``helo``, ``tls`` (``opportunistic``, ``required``, ``implicit`` or
``off``), ``connections`` and ``rate`` per receiving site, ``sites`` (a table of site → its own
``connections`` and ``rate``), ``nameserver`` ("host:port"; none: the process's resolver).
"""

from __future__ import annotations

from collections.abc import Mapping

import dns.asyncresolver

from mailfate.delivery.limits import PUSHBACK_REASONS, SiteLimits, site_of
from mailfate.delivery.mx import MxHost, MxResolver, make_async_resolver
from mailfate.delivery.transports.base import no_reply
from mailfate.delivery.transports.registry import Options, TransportContext, register
from mailfate.delivery.transports.smtp import SmtpPool
from mailfate.errors import ConfigError
from mailfate.model import AttemptResult, Envelope

__all__ = ["DirectTransport"]


class DirectTransport:
    name = "direct"

    def __init__(
        self,
        resolver: dns.asyncresolver.Resolver | None = None,
        *,
        port: int = 25,
        helo: str | None = None,
        tls: str = "opportunistic",
        max_connections_per_host: int = 10,
        connect_timeout: float = 30.0,
        limits: SiteLimits | None = None,
    ) -> None:
        self.mx = MxResolver(resolver or make_async_resolver(None))
        self.port = port
        self.helo = helo
        self.tls = tls
        self.max_connections = max_connections_per_host
        self.connect_timeout = connect_timeout
        self._pools: dict[tuple[str, str], SmtpPool] = {}
        self.limits = limits or SiteLimits()

    def _pool(self, host: str, ip: str) -> SmtpPool:
        pool = self._pools.get((host, ip))
        if pool is None:
            pool = SmtpPool(
                ip,
                self.port,
                transport=self.name,
                helo=self.helo,
                tls=self.tls,
                display=host,
                max_connections=self.max_connections,
                connect_timeout=self.connect_timeout,
            )
            self._pools[(host, ip)] = pool
        return pool

    def _all(self, env: Envelope, result: AttemptResult) -> list[AttemptResult]:
        return [result] * len(env.recipients)

    async def deliver(self, envelope: Envelope) -> list[AttemptResult]:
        domain = envelope.recipients[0].rpartition("@")[2].lower()
        mx = await self.mx.resolve(domain)
        if mx.nxdomain:
            return self._all(
                envelope,
                AttemptResult(
                    "bounced",
                    0,
                    "5.1.2",
                    f"the domain {domain} does not exist (DNS NXDOMAIN)",
                    "hostunknown",
                    True,
                    rule_id="transport",
                    command="dns",
                    transport=self.name,
                ),
            )
        if mx.null:
            return self._all(
                envelope,
                AttemptResult(
                    "bounced",
                    0,
                    "5.1.10",
                    f"{domain} publishes a null MX (RFC 7505): it accepts no mail",
                    "notaccept",
                    True,
                    rule_id="transport",
                    command="dns",
                    transport=self.name,
                ),
            )
        if mx.error:
            return self._all(envelope, no_reply(mx.error, command="dns", transport=self.name, status="4.4.3"))
        site = site_of(mx.hosts[0].host) if mx.hosts else domain
        async with self.limits.slot(site):
            results = await self._try_hosts(envelope, domain, mx.hosts)
        if any(r.code == 421 or r.reason in PUSHBACK_REASONS for r in results):
            self.limits.slow_down(site)
        return results

    async def _try_hosts(
        self, envelope: Envelope, domain: str, hosts: tuple[MxHost, ...]
    ) -> list[AttemptResult]:
        last: list[AttemptResult] | None = None
        for mxhost in hosts:
            addresses = await self.mx.addresses(mxhost.host)
            if not addresses:
                last = self._all(
                    envelope,
                    no_reply(
                        f"MX host {mxhost.host} of {domain} has no address",
                        command="dns",
                        transport=self.name,
                        status="4.4.3",
                        remote_host=mxhost.host,
                    ),
                )
                continue
            for ip in addresses:
                results = await self._pool(mxhost.host, ip).deliver(envelope)
                unreachable = all(r.command == "connect" and r.outcome == "deferred" for r in results)
                if not unreachable:
                    return results
                last = results
        return last or self._all(
            envelope,
            no_reply(
                f"no MX host of {domain} could be tried", command="dns", transport=self.name, status="4.4.3"
            ),
        )

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()


@register("direct", options=("port", "helo", "tls", "connections", "rate", "sites", "nameserver"))
async def build(options: Options, context: TransportContext) -> DirectTransport:
    nameserver = options.text("nameserver")
    resolver = make_async_resolver(nameserver) if nameserver else context.resolver
    return DirectTransport(
        resolver,
        port=options.integer("port", 25, low=1, high=65535),
        helo=options.text("helo") or None,
        tls=options.choice("tls", "opportunistic", ("opportunistic", "required", "implicit", "off")),
        limits=SiteLimits(
            options.integer("connections", 10, low=1), rate=options.rate("rate"), sites=_sites(options)
        ),
    )


def _sites(options: Options) -> dict[str, tuple[int, float | None]]:
    """``sites = { "naver.com" = { connections = 5, rate = 20 } }``: each site's own budget."""
    sites: dict[str, tuple[int, float | None]] = {}
    for site, given in options.table("sites").items():
        if not isinstance(given, Mapping) or set(given) - {"connections", "rate"}:
            raise options.error("sites", f"{site!r}: give a table of connections and rate")
        connections = given.get("connections", 10)
        if isinstance(connections, bool) or not isinstance(connections, int) or connections < 1:
            raise ConfigError(
                f"{options.where}.sites.{site}.connections = {connections!r}: give a number >= 1"
            )
        sites[str(site)] = (connections, options.rate("rate", site=site))
    return sites
