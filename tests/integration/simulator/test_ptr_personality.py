"""requires-ptr at RCPT, with hand-built contexts and a real Knot reverse zone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import dns.resolver
import pytest

from mailfate.errors import ConfigError
from mailfate.mailauth.dns import make_resolver
from mailfate.simulator.model import OutgoingReport, RcptContext, Reply, Services, SessionInfo, SystemClock
from mailfate.simulator.personalities import personality_class
from mailfate.simulator.personalities.ptr import RequiresPtr
from tests.support import zones
from tests.support.knot import KnotServer

NO_PTR = Reply(550, "5.7.25", "Client host rejected: cannot find your reverse hostname, [{client_ip}]")


class Book:
    def get(self, key: str) -> Reply:
        assert key == "no_ptr"
        return NO_PTR


class NoReports:
    def schedule(self, report: OutgoingReport) -> None:
        raise AssertionError("no reports expected")


@pytest.fixture(scope="module")
def knot(knot_factory: Callable[[dict[str, str]], KnotServer]) -> KnotServer:
    return zones.start(knot_factory, None)


@pytest.fixture
def resolver(knot: KnotServer) -> dns.resolver.Resolver:
    return make_resolver(knot.address, timeout=2.0)


def rcpt(ip: str, session: SessionInfo | None = None) -> RcptContext:
    session = session or SessionInfo("s1", ip, 40000, datetime.now(UTC), helo="h")
    return RcptContext(session, "a@auth.test", "u@ptr.test", "u", "ptr.test", Book(), SystemClock())


def personality(resolver: dns.resolver.Resolver, **options: object) -> RequiresPtr:
    return RequiresPtr(options, Services(SystemClock(), NoReports(), "mx.sim.test", resolver))


def test_registry() -> None:
    assert personality_class("requires-ptr") is RequiresPtr


def test_client_with_ptr_passes_and_name_is_cached(resolver: dns.resolver.Resolver) -> None:
    context = rcpt("127.0.0.1")
    assert asyncio.run(personality(resolver, fcrdns=True).on_rcpt(context)) is None
    assert context.session.ptr_name == "host.auth.test"


def test_missing_ptr_is_rejected(resolver: dns.resolver.Resolver) -> None:
    reply = asyncio.run(personality(resolver).on_rcpt(rcpt("127.0.0.3")))
    assert reply is NO_PTR


def test_ptr_without_forward_confirmation(resolver: dns.resolver.Resolver) -> None:
    assert asyncio.run(personality(resolver).on_rcpt(rcpt("127.0.0.2"))) is None
    assert asyncio.run(personality(resolver, fcrdns=True).on_rcpt(rcpt("127.0.0.2"))) is NO_PTR


def test_lookup_once_per_session(resolver: dns.resolver.Resolver) -> None:
    """The second RCPT of a session reuses the answer: it holds even once DNS is gone."""
    first = rcpt("127.0.0.3")
    p = personality(resolver)
    assert asyncio.run(p.on_rcpt(first)) is NO_PTR
    with zones.silent_resolver() as silent:
        p._resolver = silent
        assert asyncio.run(p.on_rcpt(rcpt("127.0.0.3", first.session))) is NO_PTR


def test_dns_failure_defers() -> None:
    with zones.silent_resolver() as silent:
        reply = asyncio.run(personality(silent).on_rcpt(rcpt("127.0.0.1")))
    assert reply is not None and (reply.code, reply.status) == (450, "4.7.25")
    assert reply.text == NO_PTR.text


@pytest.mark.parametrize("options", [{"fcrdns": "yes"}, {"strict": True}])
def test_bad_options(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        RequiresPtr(options, Services(SystemClock(), NoReports()))
