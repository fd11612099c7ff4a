"""The DNS side of mail authentication: one injectable resolver and a small failure vocabulary.

Every check (SPF, DKIM, DMARC, PTR) takes a ``dns.resolver.Resolver``; tests and the simulator
point it at a local server with :func:`make_resolver`. Lookups answer with :class:`Lookup`
values instead of raising, so the checks map DNS trouble to their own results the same way:
a timeout or SERVFAIL is *temporary* (``temperror``), NXDOMAIN or an empty answer means
*nothing published* (``none``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver
import dns.reversename

from mailfate.errors import ConfigError, InputError

__all__ = [
    "DnsStatus",
    "Lookup",
    "lookup",
    "lookup_txt",
    "make_resolver",
    "reverse_name",
    "split_host_port",
]

DEFAULT_TIMEOUT = 5.0


class DnsStatus(StrEnum):
    """How a lookup ended."""

    OK = "ok"
    NONE = "none"
    """NXDOMAIN or NODATA: nothing of that type is published."""
    TEMPERROR = "temperror"
    """Timeout, SERVFAIL, no server answered: try again later."""
    PERMERROR = "permerror"
    """The name itself is unusable (too long, bad label)."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """The answer to one query: the records as text, or why there are none."""

    status: DnsStatus
    records: tuple[str, ...] = ()
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is DnsStatus.OK


def make_resolver(nameserver: str | None, *, timeout: float = DEFAULT_TIMEOUT) -> dns.resolver.Resolver:
    """A resolver asking ``nameserver`` (``"host:port"``, ``"[::1]:53"``, ``"host"``) or the system's.

    ``None`` or ``""`` gives the system resolver (``/etc/resolv.conf``). A malformed address
    raises ``ConfigError``.
    """
    if not nameserver:
        try:
            resolver = dns.resolver.Resolver(configure=True)
        except dns.exception.DNSException as exc:
            raise ConfigError(
                f'cannot read the system DNS configuration ({exc}); set [dns] nameserver = "host:port"'
            ) from exc
        resolver.timeout = resolver.lifetime = timeout
        return resolver
    host, port = split_host_port(nameserver.strip())
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    resolver.timeout = resolver.lifetime = timeout
    return resolver


def split_host_port(text: str) -> tuple[str, int]:
    hint = 'write it as "127.0.0.1:5353", "[::1]:53" or "127.0.0.1"'
    port_text = ""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ConfigError(f"bad DNS nameserver {text!r}: {hint}")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host = text  # a bare IPv4 or IPv6 address
    try:
        ipaddress.ip_address(host)
    except ValueError as exc:
        raise ConfigError(f"bad DNS nameserver {text!r}: the host must be an IP address; {hint}") from exc
    if not port_text:
        return host, 53
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"bad DNS nameserver {text!r}: port {port_text!r} is not 1-65535; {hint}")
    return host, int(port_text)


def reverse_name(ip: str) -> str:
    """``"127.0.0.1"`` → ``"1.0.0.127.in-addr.arpa"``; ``InputError`` for a non-address."""
    try:
        return dns.reversename.from_address(ip).to_text(omit_final_dot=True)
    except (ValueError, dns.exception.DNSException) as exc:
        raise InputError(f"not an IP address: {ip!r}") from exc


def lookup(resolver: dns.resolver.Resolver, name: str, rtype: str) -> Lookup:
    """Query ``name`` for ``rtype``; records as text (TXT strings joined, names without final dot)."""
    try:
        answer = resolver.resolve(name, rtype, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Lookup(DnsStatus.NONE, error="NXDOMAIN")
    except (dns.name.NameTooLong, dns.name.LabelTooLong, dns.name.EmptyLabel) as exc:
        return Lookup(DnsStatus.PERMERROR, error=str(exc) or type(exc).__name__)
    except dns.exception.Timeout as exc:
        return Lookup(DnsStatus.TEMPERROR, error=f"timeout: {exc}")
    except dns.resolver.NoNameservers as exc:
        return Lookup(DnsStatus.TEMPERROR, error=f"SERVFAIL: {exc}")
    except dns.exception.DNSException as exc:
        return Lookup(DnsStatus.TEMPERROR, error=str(exc) or type(exc).__name__)
    if answer.rrset is None:
        return Lookup(DnsStatus.NONE, error="NODATA")
    records = tuple(_rdata_text(rdata) for rdata in answer.rrset)
    return Lookup(DnsStatus.OK, records)


def lookup_txt(resolver: dns.resolver.Resolver, name: str) -> Lookup:
    """TXT records of ``name``, each with its strings joined (a 2048-bit DKIM key spans several)."""
    return lookup(resolver, name, "TXT")


def _rdata_text(rdata: object) -> str:
    strings = getattr(rdata, "strings", None)
    if strings is not None:
        return b"".join(strings).decode("utf-8", "replace")
    for attr in ("target", "exchange"):
        value = getattr(rdata, attr, None)
        if isinstance(value, dns.name.Name):
            return value.to_text(omit_final_dot=True)
    address = getattr(rdata, "address", None)
    if isinstance(address, str):
        return address
    return str(rdata)
