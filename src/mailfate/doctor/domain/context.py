"""What every domain check is given: the names, the sending IPs, the DNS client and the fetcher."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from mailfate.doctor.domain.names import DomainName
from mailfate.doctor.domain.resolve import DnsClient

__all__ = ["CheckContext", "DnsblZone", "PolicyFetchError", "PolicyFetcher"]


class PolicyFetchError(Exception):
    """The MTA-STS policy could not be fetched; the message says why (HTTP status, TLS, timeout)."""


PolicyFetcher = Callable[[str, float], str]
"""``(url, timeout_seconds) -> body``; raises :class:`PolicyFetchError`."""


@dataclass(frozen=True, slots=True)
class DnsblZone:
    """One DNS blocklist to ask."""

    zone: str
    name: str = ""
    url: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class CheckContext:
    domain: DomainName
    dns: DnsClient
    ips: tuple[str, ...] = ()
    selectors: tuple[str, ...] = ()
    selectors_guessed: bool = False
    """No --selector was given: ``selectors`` are common names to probe."""
    mail_from: DomainName | None = None
    """The custom MAIL FROM domain (``None``: the domain itself)."""
    dkim_keys: Mapping[str, bytes] = field(default_factory=dict)
    """Selector → private key PEM, for a real sign + verify."""
    dnsbl_zones: tuple[DnsblZone, ...] = ()
    fetch_policy: PolicyFetcher | None = None

    @property
    def envelope_domain(self) -> str:
        """The domain SPF is evaluated for: the MAIL FROM domain, or the domain itself."""
        return (self.mail_from or self.domain).ascii

    @property
    def timeout(self) -> float:
        return self.dns.timeout
