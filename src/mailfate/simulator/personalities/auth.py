"""``strict-auth`` and ``lenient-auth``: receivers that want authenticated mail (Gmail, Yahoo 2024+).

At the end of DATA the personality checks SPF (client IP + MAIL FROM, HELO for the null
sender), every DKIM signature and DMARC for the From domain against the server's resolver, adds
an ``Authentication-Results`` header to the stored copy, and applies its pass rule, the option
``require``:

- ``"dmarc"`` (default): DMARC must pass (a record must exist and SPF or DKIM must align);
- ``"spf-or-dkim"``: SPF pass or any DKIM pass;
- ``"spf-and-dkim"``: both.

Mail that fails gets ``auth_strict`` (550 5.7.26) from ``strict-auth`` and ``auth_lenient``
(451 4.7.26) from ``lenient-auth``. A DNS failure that could have changed the verdict is
temporary for both: ``auth_lenient``. The reply's ``{detail}`` field says what failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import dns.resolver

from mailfate.errors import ConfigError
from mailfate.mailauth.dkim import DkimResult, verify_dkim
from mailfate.mailauth.dmarc import DmarcResult, check_dmarc, from_domain
from mailfate.mailauth.dns import make_resolver
from mailfate.mailauth.results import authentication_results
from mailfate.mailauth.spf import SpfResult, check_spf
from mailfate.simulator.model import DataContext, Personality, Reply, Services

__all__ = ["AuthVerdict", "LenientAuth", "StrictAuth", "evaluate"]

REQUIRE_RULES = ("dmarc", "spf-or-dkim", "spf-and-dkim")
_OPTIONS = frozenset({"require", "timeout"})


@dataclass(frozen=True, slots=True)
class AuthVerdict:
    """SPF, DKIM and DMARC results for one message."""

    spf: SpfResult
    dkims: tuple[DkimResult, ...]
    dmarc: DmarcResult

    @property
    def temporary(self) -> bool:
        """Whether a DNS failure was part of the picture."""
        results = [self.spf.result, self.dmarc.result, *(d.result for d in self.dkims)]
        return "temperror" in results

    def passes(self, require: str) -> bool:
        dkim_pass = any(d.passed for d in self.dkims)
        if require == "spf-or-dkim":
            return self.spf.passed or dkim_pass
        if require == "spf-and-dkim":
            return self.spf.passed and dkim_pass
        return self.dmarc.passed

    def detail(self, client_ip: str) -> str:
        """``SPF fail for 192.0.2.1, DKIM none, DMARC fail (p=reject)``."""
        spf = f"SPF {self.spf.result} for {client_ip}"
        if self.spf.domain:
            spf += f" as {self.spf.domain}"
        dkim = (
            ", ".join(f"DKIM {d.result}" + (f" d={d.domain}" if d.domain else "") for d in self.dkims)
            or "DKIM none"
        )
        dmarc = f"DMARC {self.dmarc.result}"
        if self.dmarc.policy:
            dmarc += f" (p={self.dmarc.policy})"
        return f"{spf}, {dkim}, {dmarc}"


def evaluate(
    client_ip: str,
    mail_from: str,
    helo: str,
    content: bytes,
    *,
    resolver: dns.resolver.Resolver,
    timeout: float,
) -> AuthVerdict:
    """All three checks, blocking (the personalities run it in a worker thread)."""
    spf = check_spf(client_ip, mail_from, helo, resolver, timeout=timeout)
    dkims = tuple(verify_dkim(content, resolver))
    dmarc = check_dmarc(from_domain(content), spf, dkims, resolver)
    return AuthVerdict(spf, dkims, dmarc)


class _AuthBase(Personality):
    failure_key: ClassVar[str] = "auth_strict"

    def __init__(self, options: Mapping[str, Any], services: Services) -> None:
        super().__init__(options, services)
        unknown = set(self.options) - _OPTIONS
        if unknown:
            raise ConfigError(
                f"{self.name}: unknown option(s) {', '.join(sorted(unknown))}; known: require, timeout"
            )
        require = self.options.get("require", "dmarc")
        if require not in REQUIRE_RULES:
            raise ConfigError(
                f"{self.name}: require = {require!r} is not one of {', '.join(REQUIRE_RULES)}; "
                'write e.g. require = "spf-or-dkim"'
            )
        timeout = self.options.get("timeout", 5.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 60:
            raise ConfigError(f"{self.name}: timeout = {timeout!r} must be a number of seconds in (0, 60]")
        self.require: str = require
        self.timeout = float(timeout)
        self._resolver: dns.resolver.Resolver | None = services.resolver

    def _get_resolver(self) -> dns.resolver.Resolver:
        if self._resolver is None:
            self._resolver = make_resolver(None, timeout=self.timeout)
        return self._resolver

    async def on_data(self, ctx: DataContext) -> Reply | None:
        verdict = await asyncio.to_thread(
            evaluate,
            ctx.session.client_ip,
            ctx.mail_from,
            ctx.session.helo,
            ctx.content,
            resolver=self._get_resolver(),
            timeout=self.timeout,
        )
        ctx.add_headers.append(
            (
                "Authentication-Results",
                authentication_results(self.services.hostname, verdict.spf, verdict.dkims, verdict.dmarc),
            )
        )
        if verdict.passes(self.require):
            return None
        key = "auth_lenient" if verdict.temporary else self.failure_key
        detail = verdict.detail(ctx.session.client_ip)
        if verdict.temporary:
            detail = "temporary DNS failure: " + detail
        return ctx.replies.get(key).fill(detail=detail)


class StrictAuth(_AuthBase):
    """Reject unauthenticated mail: ``auth_strict`` (550 5.7.26)."""

    name = "strict-auth"
    failure_key = "auth_strict"


class LenientAuth(_AuthBase):
    """Defer unauthenticated mail: ``auth_lenient`` (451 4.7.26)."""

    name = "lenient-auth"
    failure_key = "auth_lenient"
