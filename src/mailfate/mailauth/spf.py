"""SPF (RFC 7208) ``check_host()`` through pyspf, asking OUR resolver.

pyspf has no resolver argument: it calls the module function ``spf.DNSLookup``. This adapter
replaces that function once with a dispatcher that asks the :class:`SpfDns` stored in a
:class:`contextvars.ContextVar`, set around each call, so concurrent checks with different
resolvers (threads, the simulator's per-server DNS) never see each other's. Without a value the
dispatcher uses a system resolver — never pyspf's own deprecated ``dns.resolver.query``.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import dns.exception
import dns.name
import dns.resolver
import spf as pyspf

from mailfate.errors import InputError
from mailfate.mailauth.dns import make_resolver
from mailfate.mailauth.threads import in_thread

__all__ = [
    "SpfDns",
    "SpfResult",
    "SpfVerdict",
    "check_spf",
    "check_spf_async",
    "resolver_dns",
    "spf_answer",
    "using_dns",
]

SpfVerdict = Literal["pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"]
_VERDICTS: frozenset[str] = frozenset(
    {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"}
)

SpfAnswer = list[tuple[tuple[str, str], Any]]
SpfDns = Callable[[str, str, float], SpfAnswer]
"""``(name, rtype, timeout) -> [((name, rtype), value), ...]`` in pyspf's driver format:
A/AAAA → address text, MX → ``(preference, exchange)``, PTR → name, TXT/SPF → tuple of bytes
strings. Raises ``spf.TempError`` for a DNS failure; NXDOMAIN/NODATA → ``[]``."""

_current: contextvars.ContextVar[SpfDns | None] = contextvars.ContextVar("mailfate_spf_dns", default=None)


@dataclass(frozen=True, slots=True)
class SpfResult:
    """The SPF verdict for one identity."""

    result: SpfVerdict
    explanation: str
    domain: str
    """The domain checked: the MAIL FROM domain, or the HELO name for the null sender."""
    identity: Literal["mailfrom", "helo"]
    mechanism: str = ""
    """The mechanism that matched (``"ip4:127.0.0.1"``, ``"-all"``), ``""`` when none did."""

    @property
    def passed(self) -> bool:
        return self.result == "pass"


def resolver_dns(resolver: dns.resolver.Resolver) -> SpfDns:
    """An :data:`SpfDns` asking ``resolver``."""

    def query(name: str, rtype: str, timeout: float) -> SpfAnswer:
        try:
            answer = resolver.resolve(
                name, rtype, search=False, raise_on_no_answer=False, lifetime=min(timeout, resolver.lifetime)
            )
        except dns.resolver.NXDOMAIN:
            return []
        except (dns.name.NameTooLong, dns.name.LabelTooLong, dns.name.EmptyLabel):
            return []
        except dns.exception.DNSException as exc:
            raise pyspf.TempError(f"DNS {type(exc).__name__}: {exc}") from exc
        if answer.rrset is None:
            return []
        return spf_answer(name, rtype, answer.rrset)

    return query


def spf_answer(name: str, rtype: str, rdatas: Iterable[Any]) -> SpfAnswer:
    """dnspython records in the shape pyspf's DNS driver returns: ((name, type), value) pairs."""
    out: SpfAnswer = []
    for rdata in rdatas:
        value: Any
        if rtype in ("A", "AAAA"):
            value = rdata.address
        elif rtype == "MX":
            value = (rdata.preference, rdata.exchange.to_text(omit_final_dot=True))
        elif rtype == "PTR":
            value = rdata.target.to_text(omit_final_dot=True)
        elif rtype in ("TXT", "SPF"):
            value = tuple(rdata.strings)
        else:
            value = rdata.to_text()
        out.append(((name, rtype), value))
    return out


@functools.cache
def _system_dns() -> SpfDns:
    return resolver_dns(make_resolver(None))


def _dispatch(name: Any, qtype: str, strict: object = True, timeout: float = 20.0) -> SpfAnswer:
    dns_fn = _current.get() or _system_dns()
    if isinstance(name, dns.name.Name):
        name = name.to_text(omit_final_dot=True)
    return dns_fn(str(name), qtype, float(timeout))


pyspf.DNSLookup = _dispatch


@contextmanager
def using_dns(dns_fn: SpfDns) -> Iterator[None]:
    """Run the SPF checks of this context (thread/task) against ``dns_fn``."""
    token = _current.set(dns_fn)
    try:
        yield
    finally:
        _current.reset(token)


def check_spf(
    ip: str,
    mail_from: str,
    helo: str,
    resolver: dns.resolver.Resolver | None,
    *,
    receiver: str = "",
    timeout: float = 20.0,
    dns_fn: SpfDns | None = None,
) -> SpfResult:
    """``check_host()`` for ``ip`` sending as ``mail_from`` (``""`` = null sender → the HELO name).

    Blocking: the event loop uses :func:`check_spf_async`. ``dns_fn`` replaces the resolver
    (the RFC 7208 suite feeds its zone data this way). ``InputError`` for a bad ``ip``.
    """
    try:
        ipaddress.ip_address(ip)
    except ValueError as exc:
        raise InputError(f"SPF: not an IP address: {ip!r}") from exc
    if not mail_from and not helo:
        return SpfResult("none", "no MAIL FROM domain and no HELO name to check", "", "helo")
    fn = dns_fn if dns_fn is not None else resolver_dns(resolver or make_resolver(None))
    # No warnings.catch_warnings() here: it is process-global and not thread-safe, and the only
    # deprecated call pyspf makes (dns.resolver.query) is the DNSLookup this module replaced.
    with using_dns(fn):
        query = pyspf.query(
            ip, mail_from, helo, receiver=receiver or None, timeout=timeout, querytime=timeout
        )
        result, _code, explanation = query.check()
    identity: Literal["mailfrom", "helo"] = "helo" if query.ident == "helo" else "mailfrom"
    verdict = str(result).lower()
    if verdict not in _VERDICTS:  # pyspf's RFC 4408 names, for safety
        verdict = {"error": "temperror", "unknown": "permerror"}.get(verdict, "permerror")
    mechanism = query.mechanism if isinstance(query.mechanism, str) else ""
    return SpfResult(
        result=verdict,  # type: ignore[arg-type]
        explanation=str(explanation or ""),
        domain=str(query.o or ""),
        identity=identity,
        mechanism=mechanism,
    )


check_spf_async = in_thread(check_spf)
