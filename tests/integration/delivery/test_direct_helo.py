"""The direct transport refuses to start with a HELO name receivers reject — this machine's name
when it is ``localhost`` or does not resolve (asked of a real Knot server, the transport's
resolver) — and says how to set ``helo``; ``helo_check = false`` accepts any name."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from mailfate.config import TransportSettings
from mailfate.delivery.transports.direct import DirectTransport, helo_problem
from mailfate.delivery.transports.registry import TransportContext, build_transport
from mailfate.errors import ConfigError
from tests.support.knot import KnotServer, zone_text


@pytest.fixture(scope="module")
def dns(knot_factory: Callable[[dict[str, str]], KnotServer]) -> KnotServer:
    zone = "@ IN MX 10 mail\nmail IN A 127.0.0.1\nv6 IN AAAA ::1\n"
    return knot_factory({"app.test": zone_text("app.test", zone)})


def _build(dns: KnotServer, **options: Any) -> DirectTransport:
    settings = TransportSettings("direct", "direct", {"nameserver": dns.address, **options})
    built = asyncio.run(build_transport(settings, TransportContext(source="mailfate.toml")))
    assert isinstance(built, DirectTransport)
    return built


def _refused(dns: KnotServer, **options: Any) -> str:
    with pytest.raises(ConfigError) as info:
        _build(dns, **options)
    return str(info.value)


@pytest.mark.parametrize("name", ["localhost", "localhost.localdomain", "vm"])
def test_a_machine_name_that_is_not_fully_qualified_is_refused_with_how_to_set_it(
    dns: KnotServer, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr(socket, "getfqdn", lambda *a: name)
    message = _refused(dns)
    assert message.startswith("mailfate.toml: transports.direct: this machine's name")
    assert repr(name) in message and "socket.getfqdn()" in message
    assert '[transports.direct]\n    helo = "mail.example.com"' in message
    assert "helo_check = false" in message


def test_a_machine_name_that_does_not_resolve_is_refused(
    dns: KnotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "getfqdn", lambda *a: "ghost.app.test")
    assert "'ghost.app.test' (socket.getfqdn()) does not resolve (no A or AAAA record)" in _refused(dns)


@pytest.mark.parametrize("name", ["mail.app.test", "v6.app.test"])
def test_a_machine_name_that_resolves_is_used_as_the_helo(
    dns: KnotServer, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setattr(socket, "getfqdn", lambda *a: name)
    assert _build(dns).helo == name


def test_a_configured_name_must_be_fully_qualified_and_is_then_used_as_given(
    dns: KnotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "getfqdn", lambda *a: "localhost")
    assert "the HELO name 'localhost' (configured) is not fully qualified" in _refused(dns, helo="localhost")
    assert _build(dns, helo="mx1.sender.example").helo == "mx1.sender.example"
    assert _build(dns, helo="[192.0.2.1]").helo == "[192.0.2.1]"


def test_helo_check_false_accepts_any_name(dns: KnotServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getfqdn", lambda *a: "localhost")
    assert _build(dns, helo_check=False).helo is None  # aiosmtplib's own default, as before
    assert "helo_check = 'no'" in _refused(dns, helo_check="no")


def test_a_dns_server_that_does_not_answer_refuses_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getfqdn", lambda *a: "mail.app.test")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        settings = TransportSettings("direct", "direct", {"nameserver": address})
        with pytest.raises(ConfigError, match="could not be resolved"):
            asyncio.run(build_transport(settings, TransportContext()))


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("mail.app.example", ""),
        ("MAIL.App.Example.", ""),
        ("[IPv6:2001:db8::1]", ""),
        ("localhost", "not fully qualified"),
        ("host.local", "ends in .local"),
        ("-bad.example", "not a valid host name"),
        ("a..b", "not a valid host name"),
        ("10.0.0.1", "ends in .1"),
    ],
)
def test_what_counts_as_a_fully_qualified_name(name: str, problem: str) -> None:
    assert (problem in helo_problem(name)) if problem else helo_problem(name) == ""
