"""Direct delivery: look up the recipient domain's MX and talk to it, as an MTA does.

MX hosts are tried in preference order (equal ones shuffled), each address of a host in turn; a
host that cannot be reached or answers the greeting with 4xx is skipped for the next. A domain
that does not exist (NXDOMAIN) or publishes a null MX (RFC 7505) is a bounce at once; DNS
trouble is a deferral. One connection pool per MX address keeps sessions for the next message;
sessions per receiving site are capped and halved when the site pushes back (``limits.py``).
``port`` exists so tests can point every MX at 127.0.0.1 on an unprivileged port.

Options: ``port`` (25), ``helo``, ``tls`` (``opportunistic``, ``required``, ``implicit`` or
``off``), ``connections`` and ``rate`` per receiving site, ``sites`` (a table of site → its own
``connections`` and ``rate``), ``nameserver`` ("host:port"; none: the process's resolver),
``helo_check`` (true).

The HELO name is checked before the transport starts: receivers (Postfix's
``reject_non_fqdn_helo_hostname``, ``reject_unknown_helo_hostname``) refuse a name that is not
fully qualified or does not resolve, and ``socket.getfqdn()`` — the name used when ``helo`` is not
set — is ``localhost`` on many machines. Without ``helo`` the machine's name must be fully
qualified and resolve (A or AAAA, through the transport's own resolver); a ``helo`` that is set
must be a fully-qualified name or an address literal (``[192.0.2.1]``), used as given.
``helo_check = false`` accepts any name (a lab whose receivers do not check).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping

import dns.asyncresolver
import dns.exception
import dns.resolver

from mailfate.delivery.limits import PUSHBACK_REASONS, SiteLimits, site_of
from mailfate.delivery.mx import MxHost, MxResolver, make_async_resolver
from mailfate.delivery.transports.base import no_reply
from mailfate.delivery.transports.registry import Options, TransportContext, register
from mailfate.delivery.transports.smtp import SmtpPool
from mailfate.errors import ConfigError
from mailfate.model import AttemptResult, Envelope

__all__ = ["DirectTransport", "check_helo", "helo_problem"]

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_LITERAL = re.compile(r"\[(?:ipv6:[0-9a-f:.]+|[0-9]{1,3}(?:\.[0-9]{1,3}){3})\]")
_LOCAL = ("localhost", "localdomain", "local", "invalid")


def helo_problem(name: str) -> str:
    """Why ``name`` is no fully-qualified host name a receiver accepts in EHLO ("" when it is one)."""
    name = name.lower().rstrip(".")
    if _LITERAL.fullmatch(name):
        return ""
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return "is not a valid host name"
    if len(labels) < 2:
        return "is not fully qualified (it has no domain)"
    if labels[-1] in _LOCAL or labels[-1].isdigit():
        return f"ends in .{labels[-1]}, which no receiver on the internet can resolve"
    return ""


async def _resolves(resolver: dns.asyncresolver.Resolver, name: str) -> str:
    """Why ``name`` does not resolve to an address ("" when it does)."""
    for rtype in ("A", "AAAA"):
        try:
            await resolver.resolve(name, rtype)
            return ""
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            continue
        except dns.exception.DNSException as exc:  # once is enough: the next would wait as long
            return f"could not be resolved (DNS: {exc.__class__.__name__})"
    return "does not resolve (no A or AAAA record)"


async def check_helo(
    helo: str,
    resolver: dns.asyncresolver.Resolver,
    *,
    where: str = "transports.direct",
    table: str = "[transports.direct]",
) -> str:
    """The HELO name to use: ``helo`` as configured (a fully-qualified name or an address literal),
    else this machine's name, which must be fully qualified and resolve. A ``ConfigError`` saying
    how to set ``helo`` otherwise."""
    name = helo or socket.getfqdn()
    problem = helo_problem(name)
    if not problem and not helo:
        problem = await _resolves(resolver, name)
    if not problem:
        return name
    given = (
        f"the HELO name {name!r} (configured)" if helo else f"this machine's name {name!r} (socket.getfqdn())"
    )
    raise ConfigError(
        f'{where}: {given} {problem}; receivers reject such a name ("504 5.5.2 Helo command rejected: '
        f'need fully-qualified hostname"). Set the name of this host as the world resolves it, ideally '
        f"the sending IP's PTR name, in the configuration:\n\n    {table}\n    helo = "
        f'"mail.example.com"\n\nor accept it as it is with helo_check = false'
    )


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


@register(
    "direct", options=("port", "helo", "helo_check", "tls", "connections", "rate", "sites", "nameserver")
)
async def build(options: Options, context: TransportContext) -> DirectTransport:
    nameserver = options.text("nameserver")
    resolver = make_async_resolver(nameserver) if nameserver else context.resolver
    check = options.values.get("helo_check", True)
    if not isinstance(check, bool):
        raise options.error("helo_check", "give true or false")
    transport = DirectTransport(
        resolver,
        port=options.integer("port", 25, low=1, high=65535),
        helo=options.text("helo") or None,
        tls=options.choice("tls", "opportunistic", ("opportunistic", "required", "implicit", "off")),
        limits=SiteLimits(
            options.integer("connections", 10, low=1), rate=options.rate("rate"), sites=_sites(options)
        ),
    )
    if check:  # last: every other option is read (and refused) first
        transport.helo = await check_helo(
            transport.helo or "",
            transport.mx.resolver,
            where=options.where,
            table=f"[transports.{options.name}]",
        )
    return transport


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
