"""strict-auth and lenient-auth at end of DATA, with hand-built contexts and real DNS (Knot)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import dns.resolver
import pytest

from mailfate.errors import ConfigError
from mailfate.mailauth.dkim import sign_dkim
from mailfate.mailauth.dns import make_resolver
from mailfate.simulator.model import DataContext, OutgoingReport, Reply, Services, SessionInfo, SystemClock
from mailfate.simulator.personalities import personality_class
from mailfate.simulator.personalities.auth import LenientAuth, StrictAuth
from tests.support import zones
from tests.support.knot import KnotServer

REPLIES = {
    "auth_strict": Reply(550, "5.7.26", "Message rejected: sender authentication failed ({detail})"),
    "auth_lenient": Reply(451, "4.7.26", "Message deferred: authentication failed ({detail})"),
}


class Book:
    def get(self, key: str) -> Reply:
        return REPLIES[key]


class NoReports:
    def schedule(self, report: OutgoingReport) -> None:
        raise AssertionError("auth personalities send no reports")


@pytest.fixture(scope="module")
def keys() -> zones.Keys:
    return zones.make_keys()


@pytest.fixture(scope="module")
def knot(knot_factory: Callable[[dict[str, str]], KnotServer], keys: zones.Keys) -> KnotServer:
    return zones.start(knot_factory, keys)


@pytest.fixture
def resolver(knot: KnotServer) -> dns.resolver.Resolver:
    return make_resolver(knot.address, timeout=2.0)


def services(resolver: dns.resolver.Resolver | None) -> Services:
    return Services(clock=SystemClock(), reports=NoReports(), hostname="mx.sim.test", resolver=resolver)


def ctx(content: bytes, mail_from: str = "bounce@auth.test", ip: str = "127.0.0.1") -> DataContext:
    session = SessionInfo("s1", ip, 40000, datetime.now(UTC), helo="mta.auth.test")
    return DataContext(session, mail_from, ["u@strict.test"], "strict.test", content, Book(), SystemClock())


def run(personality: StrictAuth | LenientAuth, context: DataContext) -> Reply | None:
    return asyncio.run(personality.on_data(context))


def test_registry_finds_both() -> None:
    assert personality_class("strict-auth") is StrictAuth
    assert personality_class("lenient-auth") is LenientAuth


def test_signed_and_spf_pass_is_accepted_with_header(
    resolver: dns.resolver.Resolver, keys: zones.Keys
) -> None:
    context = ctx(sign_dkim(zones.message(), "auth.test", "k2048", keys.k2048))
    assert run(StrictAuth({}, services(resolver)), context) is None
    [(name, value)] = context.add_headers
    assert name == "Authentication-Results"
    assert value.startswith("mx.sim.test; spf=pass")
    assert "dkim=pass header.d=auth.test header.s=k2048" in value and "dmarc=pass" in value


def test_unauthorized_ip_unsigned_strict_rejects(resolver: dns.resolver.Resolver) -> None:
    context = ctx(zones.message(), ip="192.0.2.1")
    reply = run(StrictAuth({}, services(resolver)), context)
    assert reply is not None and (reply.code, reply.status) == (550, "5.7.26")
    assert reply.text == (
        "Message rejected: sender authentication failed "
        "(SPF fail for 192.0.2.1 as auth.test, DKIM none, DMARC fail (p=reject))"
    )
    assert "spf=fail" in context.add_headers[0][1] and "dmarc=fail" in context.add_headers[0][1]


def test_unauthorized_lenient_defers(resolver: dns.resolver.Resolver) -> None:
    reply = run(LenientAuth({}, services(resolver)), ctx(zones.message(), ip="192.0.2.1"))
    assert reply is not None and (reply.code, reply.status) == (451, "4.7.26")
    assert "SPF fail for 192.0.2.1" in reply.text


def test_dkim_alone_satisfies_dmarc(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    content = sign_dkim(zones.message(), "auth.test", "k1024", keys.k1024)
    assert run(StrictAuth({}, services(resolver)), ctx(content, ip="192.0.2.1")) is None


def test_no_dmarc_record_fails_dmarc_rule_but_passes_spf_or_dkim(resolver: dns.resolver.Resolver) -> None:
    # empty.test publishes nothing; soft.test's SPF ~all: SPF softfail, no DKIM.
    content = zones.message("a@empty.test")
    reply = run(StrictAuth({}, services(resolver)), ctx(content, mail_from="b@auth.test"))
    assert reply is not None and reply.code == 550 and "DMARC none" in reply.text
    assert (
        run(StrictAuth({"require": "spf-or-dkim"}, services(resolver)), ctx(content, "b@auth.test")) is None
    )
    reply = run(StrictAuth({"require": "spf-and-dkim"}, services(resolver)), ctx(content, "b@auth.test"))
    assert reply is not None and reply.code == 550


def test_spf_and_dkim_rule_accepts_both(resolver: dns.resolver.Resolver, keys: zones.Keys) -> None:
    content = sign_dkim(zones.message(), "auth.test", "k1024", keys.k1024)
    assert run(StrictAuth({"require": "spf-and-dkim"}, services(resolver)), ctx(content)) is None


def test_dns_timeout_is_temporary_for_strict_too(keys: zones.Keys) -> None:
    content = sign_dkim(zones.message(), "auth.test", "k1024", keys.k1024)
    with zones.silent_resolver() as silent:
        strict = StrictAuth({"timeout": 0.3}, services(silent))
        reply = run(strict, ctx(content))
    assert reply is not None and (reply.code, reply.status) == (451, "4.7.26")
    assert "temporary DNS failure" in reply.text


def test_reply_without_detail_field_is_kept(resolver: dns.resolver.Resolver) -> None:
    class Plain:
        def get(self, key: str) -> Reply:
            return Reply(550, "5.7.26", "Unauthenticated email is not accepted")

    context = ctx(zones.message(), ip="192.0.2.1")
    context.replies = Plain()
    reply = run(StrictAuth({}, services(resolver)), context)
    assert reply is not None and reply.text == "Unauthenticated email is not accepted"


@pytest.mark.parametrize(
    "options",
    [{"require": "spf"}, {"timeout": 0}, {"timeout": True}, {"timeout": "5"}, {"requires": "dmarc"}],
)
def test_bad_options_are_config_errors(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        StrictAuth(options, services(None))
