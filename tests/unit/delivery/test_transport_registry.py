"""The transport registry: a type name → its module's factory, which checks its own options."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mailfate.config import TransportSettings
from mailfate.delivery.transports.base import Transport
from mailfate.delivery.transports.direct import DirectTransport
from mailfate.delivery.transports.registry import TransportContext, build_transport, registered_types
from mailfate.delivery.transports.relay import RelayTransport
from mailfate.delivery.transports.ses import SesTransport
from mailfate.delivery.transports.simulator import SimulatorTransport
from mailfate.errors import ConfigError


def build(kind: str, options: dict[str, Any], context: TransportContext | None = None) -> Transport:
    async def main() -> Transport:
        transport = await build_transport(
            TransportSettings("t1", kind, options), context or TransportContext()
        )
        await transport.aclose()
        return transport

    return asyncio.run(main())


def test_each_transport_module_registers_its_type() -> None:
    assert registered_types() == ("direct", "relay", "ses", "simulator")


def test_an_unknown_type_lists_the_registered_ones() -> None:
    with pytest.raises(ConfigError) as info:
        build("carrier-pigeon", {}, TransportContext(source="m.toml"))
    message = str(info.value)
    assert message.startswith("m.toml: transports.t1: unknown transport type 'carrier-pigeon'")
    assert "registered: direct, relay, ses, simulator" in message


@pytest.mark.parametrize(
    ("kind", "options", "known"),
    [
        ("relay", {"host": "h", "hots": "x"}, "host, password, password_env, port, tls, username"),
        ("direct", {"conections": 5}, "connections, helo, helo_check, nameserver, port, rate, sites, tls"),
        ("ses", {"regoin": "eu-west-1"}, "configuration_set, endpoint_url, region"),
        ("simulator", {"host": "127.0.0.1", "port": 25, "tls": "off"}, "config, host, port"),
    ],
)
def test_an_unknown_option_names_the_transport_the_option_and_the_known_ones(
    kind: str, options: dict[str, Any], known: str
) -> None:
    with pytest.raises(ConfigError) as info:
        build(kind, options)
    wrong = sorted(set(options) - set(known.split(", ")))[0]
    assert (
        str(info.value) == f"transports.t1: unknown option {wrong!r} for a {kind} transport; known: {known}"
    )


@pytest.mark.parametrize(
    ("kind", "options", "needle"),
    [
        ("relay", {"port": 587}, "transports.t1: a relay needs host (and port)"),
        ("relay", {"host": "h", "port": "submission"}, "transports.t1.port = 'submission'"),
        ("relay", {"host": "h", "tls": "maybe"}, "transports.t1.tls = 'maybe': starttls | implicit | off"),
        ("relay", {"host": "smtp.example", "username": "u", "password": "p", "tls": "off"}, "in clear"),
        ("direct", {"port": 70000}, "transports.t1.port = 70000"),
        ("direct", {"rate": "fast"}, "transports.t1.rate = 'fast'"),
        ("direct", {"sites": {"naver.com": {"connections": 0}}}, "sites.naver.com.connections = 0"),
        ("direct", {"sites": {"naver.com": {"conn": 1}}}, "transports.t1.sites"),
        ("simulator", {"host": "127.0.0.1"}, "host = '127.0.0.1' without port"),
        ("simulator", {}, "give host and port of a running simulator"),
    ],
)
def test_bad_values_are_config_errors_naming_the_option(
    kind: str, options: dict[str, Any], needle: str
) -> None:
    with pytest.raises(ConfigError) as info:
        build(kind, options)
    assert needle in str(info.value)


def test_relay_reads_its_password_from_the_environment_it_is_given() -> None:
    context = TransportContext(environ={"RELAY_SECRET": "s3cret"})
    relay = build(
        "relay",
        {"host": "127.0.0.1", "port": 2525, "username": "app", "password_env": "RELAY_SECRET"},
        context,
    )
    assert isinstance(relay, RelayTransport)
    assert (relay.pool.host, relay.pool.port, relay.pool.username, relay.pool.password) == (
        "127.0.0.1",
        2525,
        "app",
        "s3cret",
    )
    assert relay.pool.tls == "required"  # starttls by default: AUTH only after TLS


def test_direct_reads_its_site_budgets() -> None:
    direct = build(
        "direct",
        {"connections": 6, "rate": 0, "sites": {"naver.com": {"connections": 2, "rate": 20}}, "helo": "mx.a"},
    )
    assert isinstance(direct, DirectTransport)
    assert (direct.port, direct.helo, direct.tls) == (25, "mx.a", "opportunistic")
    assert (direct.limits.allowed("naver.com"), direct.limits.current_rate("naver.com")) == (2, 20.0)
    assert (direct.limits.allowed("gmail.com"), direct.limits.current_rate("gmail.com")) == (6, None)


def test_a_simulator_without_host_asks_the_process_to_start_one() -> None:
    asked: list[str | None] = []

    async def start_simulator(config: str | None) -> tuple[str, int]:
        asked.append(config)
        return "127.0.0.1", 2599

    context = TransportContext(start_simulator=start_simulator)
    simulator = build("simulator", {"config": "sim.toml"}, context)
    assert isinstance(simulator, SimulatorTransport)
    assert (simulator.pool.host, simulator.pool.port, asked) == ("127.0.0.1", 2599, ["sim.toml"])


def test_ses_takes_its_region_configuration_set_and_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ses = build(
        "ses", {"region": "eu-west-1", "configuration_set": "cs", "endpoint_url": "http://127.0.0.1:9"}
    )
    assert isinstance(ses, SesTransport)
    assert (ses.configuration_set, ses.client.meta.region_name) == ("cs", "eu-west-1")
    assert ses.client.meta.endpoint_url == "http://127.0.0.1:9"
