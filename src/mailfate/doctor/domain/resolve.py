"""Parallel, cached, deadline-bound DNS for the domain checks.

Every check asks through one :class:`DnsClient`: queries run on a thread pool (dnspython's
blocking resolver is thread-safe as long as nobody reconfigures it), each ``(name, type)`` is
asked once however many checks want it, and every query gets only the time left until the
overall deadline. After the deadline a query answers ``temperror`` at once, so no thread outlives
``--timeout`` by more than a packet's wait.
"""

from __future__ import annotations

import base64
import copy
import threading
import time
from collections.abc import Iterable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.flags
import dns.name
import dns.rdatatype
import dns.resolver

from mailfate.mailauth.dns import DnsStatus

__all__ = ["Answer", "DnsClient"]

MAX_WORKERS = 32


@dataclass(frozen=True, slots=True)
class Answer:
    """One query's outcome."""

    name: str
    rtype: str
    status: DnsStatus
    records: tuple[str, ...] = ()
    """Text per record: TXT strings joined, names without the final dot, MX as ``"10 host"``."""
    strings: tuple[tuple[bytes, ...], ...] = ()
    """TXT only: each record's character-strings as published."""
    rdatas: tuple[Any, ...] = ()
    error: str = ""
    authenticated: bool = False
    """The AD flag of the response."""
    canonical: str = ""
    """The name the answer was found at, when a CNAME led there (no final dot); "" otherwise."""

    @property
    def ok(self) -> bool:
        return self.status is DnsStatus.OK

    @property
    def failed(self) -> bool:
        """A temporary or name error: the answer says nothing about what is published."""
        return self.status in (DnsStatus.TEMPERROR, DnsStatus.PERMERROR)

    def presentation(self) -> str:
        """The records in zone-file form, one per line (the raw evidence)."""
        lines = []
        for index, rdata in enumerate(self.rdatas):
            if self.strings:
                parts = self.strings[index]
                text = " ".join('"' + p.decode("utf-8", "replace").replace('"', '\\"') + '"' for p in parts)
            else:
                text = rdata.to_text()
            lines.append(f"{self.name} {self.rtype} {text}")
        return "\n".join(lines)


def _record_text(rdata: Any) -> str:
    strings = getattr(rdata, "strings", None)
    if strings is not None:
        return b"".join(strings).decode("utf-8", "replace")
    exchange = getattr(rdata, "exchange", None)
    if isinstance(exchange, dns.name.Name):
        host = exchange.to_text(omit_final_dot=True)
        return f"{rdata.preference} {'.' if host == '@' else host}"
    target = getattr(rdata, "target", None)
    if isinstance(target, dns.name.Name):
        return str(target.to_text(omit_final_dot=True))
    address = getattr(rdata, "address", None)
    if isinstance(address, str):
        return address
    key = getattr(rdata, "key", None)
    if isinstance(key, bytes):
        return base64.b64encode(key).decode("ascii")
    return str(rdata.to_text())


class DnsClient:
    """Cached, parallel lookups against one resolver, all ending by ``deadline`` (monotonic)."""

    def __init__(self, resolver: dns.resolver.Resolver, *, deadline: float, timeout: float) -> None:
        self.resolver = resolver
        self.deadline = deadline
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="mailfate-doctor-dns")
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], Future[Answer]] = {}
        self._validating: dns.resolver.Resolver | None = None
        self.queries = 0

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _late(self, name: str, rtype: str) -> Answer:
        return Answer(
            name, rtype, DnsStatus.TEMPERROR, error=f"timeout: DNS did not answer within {self.timeout:g} s"
        )

    def submit(self, name: str, rtype: str) -> Future[Answer]:
        """Start (or join) the query for ``name`` ``rtype``."""
        key = (name.rstrip(".").lower(), rtype.upper())
        with self._lock:
            future = self._cache.get(key)
            if future is None:
                try:
                    future = self._pool.submit(self._query, key[0], key[1])
                except RuntimeError:  # the pool is shut down: the report is already written
                    future = Future()
                    future.set_result(self._late(*key))
                self._cache[key] = future
        return future

    def prefetch(self, pairs: Iterable[tuple[str, str]]) -> None:
        for name, rtype in pairs:
            self.submit(name, rtype)

    def get(self, name: str, rtype: str) -> Answer:
        """The answer (waiting for it; never longer than the deadline plus one packet)."""
        future = self.submit(name, rtype)
        try:
            return future.result(timeout=max(0.0, self.remaining()) + 1.0)
        except (TimeoutError, CancelledError):
            return self._late(name, rtype)

    def txt(self, name: str) -> Answer:
        return self.get(name, "TXT")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _resolver_for(self, rtype: str) -> dns.resolver.Resolver:
        if rtype != "DNSKEY":
            return self.resolver
        with self._lock:
            if self._validating is None:
                # Ask with DO and AD set so a validating resolver reports what it checked.
                validating = copy.copy(self.resolver)
                validating.use_edns(0, dns.flags.DO, 1232)
                validating.flags = dns.flags.RD | dns.flags.AD
                self._validating = validating
            return self._validating

    def _query(self, name: str, rtype: str) -> Answer:
        remaining = self.remaining()
        if remaining <= 0:
            return self._late(name, rtype)
        with self._lock:
            self.queries += 1
        resolver = self._resolver_for(rtype)
        try:
            answer = resolver.resolve(name, rtype, search=False, raise_on_no_answer=False, lifetime=remaining)
        except dns.resolver.NXDOMAIN:
            return Answer(name, rtype, DnsStatus.NONE, error="NXDOMAIN")
        except (dns.name.NameTooLong, dns.name.LabelTooLong, dns.name.EmptyLabel) as exc:
            return Answer(name, rtype, DnsStatus.PERMERROR, error=str(exc) or type(exc).__name__)
        except dns.exception.Timeout:
            return self._late(name, rtype)
        except dns.resolver.NoNameservers as exc:
            return Answer(name, rtype, DnsStatus.TEMPERROR, error=f"no server answered ({_brief(exc)})")
        except dns.exception.DNSException as exc:
            return Answer(name, rtype, DnsStatus.TEMPERROR, error=str(exc) or type(exc).__name__)
        except (OSError, ValueError) as exc:  # socket trouble, a name dnspython cannot encode
            return Answer(name, rtype, DnsStatus.TEMPERROR, error=f"{type(exc).__name__}: {exc}")
        authenticated = bool(answer.response.flags & dns.flags.AD)
        if answer.rrset is None:
            return Answer(name, rtype, DnsStatus.NONE, error="NODATA", authenticated=authenticated)
        rdatas = tuple(answer.rrset)
        strings = tuple(tuple(r.strings) for r in rdatas) if rtype in ("TXT", "SPF") else ()
        canonical = answer.canonical_name.to_text(omit_final_dot=True)
        return Answer(
            name,
            rtype,
            DnsStatus.OK,
            records=tuple(_record_text(r) for r in rdatas),
            strings=strings,
            rdatas=rdatas,
            authenticated=authenticated,
            canonical=canonical if canonical.lower() != name.lower().rstrip(".") else "",
        )


def _brief(exc: Exception) -> str:
    text = str(exc)
    if "REFUSED" in text:
        return "REFUSED: the server is not authoritative for this name and does not recurse"
    if "SERVFAIL" in text:
        return "SERVFAIL"
    return text[:200]
