"""The transport contract: every registered transport type, built through the registry from its
options, against a real receiver on 127.0.0.1, keeps the promises the engine relies on.

- ``deliver`` never raises and returns one result per recipient, in the envelope's order, each
  naming the transport;
- a 250 is delivered, with the receiver's id when it gives one;
- a 5xx refusal bounces the refused recipient only (SES takes or refuses the whole message: all
  of them);
- a 4xx is deferred;
- a connection dropped mid-transaction or an endpoint nobody listens on is deferred
  (``networkerror``), never delivered;
- ``aclose`` may be called twice, used or not.

Receivers: aiosmtpd for ``relay`` and ``direct`` (its MX records from a real Knot server), the
project's simulator for ``simulator``, moto for SES's answers (accepted, MessageRejected) and a
small HTTP server speaking SESv2's error format for what moto cannot answer (a paused account, a
dropped connection). A type registered without a case here fails the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from aiosmtpd.smtp import SMTP, Session
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from moto import mock_aws

from mailfate.config import TRANSPORT_TYPES, TransportSettings
from mailfate.delivery.transports.registry import TransportContext, build_transport, registered_types
from mailfate.model import AttemptResult, Envelope
from mailfate.simulator.config import load_config
from mailfate.simulator.runtime import Simulator
from tests.support.knot import KnotServer, zone_text

MSG = b"From: b@app.example\r\nTo: x@dest.test\r\nSubject: contract\r\n\r\nbody\r\n"
SCENARIOS = ("accept", "refuse", "defer", "drop", "unreachable")


@dataclass
class Receiver:
    """A receiver running for one scenario and the transport settings that point at it."""

    settings: TransportSettings
    addresses: dict[str, str]
    """Role → address: ok1 and ok2 are taken, unknown is refused (5xx), grey deferred (4xx), drop
    ends the connection mid-transaction."""
    sender: str = "b@app.example"
    per_recipient: bool = True
    """False: the receiver takes or refuses the whole message (SES)."""
    remote_id: str | None = None
    """The id the receiver answers a 250 with; None: some non-empty id."""
    context: TransportContext = field(default_factory=TransportContext)

    def envelope(self, *roles: str) -> Envelope:
        return Envelope(self.sender, tuple(self.addresses[r] for r in roles), MSG)


Harness = Callable[[str], AbstractAsyncContextManager[Receiver]]
"""A scenario (one of SCENARIOS) → a running receiver behaving so."""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- aiosmtpd, for relay and direct -----------------------------------------------------------------


class SmtpBehaviour:
    """Answers by local part: unknown* 550 at RCPT, grey* 451 at RCPT, drop* ends the connection at
    DATA; the rest is queued as Q123."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: SmtpEnvelope, address: str, options: Any
    ) -> str:
        if address.startswith("unknown"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.startswith("grey"):
            return f"451 4.7.1 <{address}>: Recipient address rejected: Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SmtpEnvelope) -> str:
        if any(r.startswith("drop") for r in envelope.rcpt_tos):
            assert server.transport is not None
            server.transport.close()
            return "250 never seen"
        return "250 2.0.0 Ok: queued as Q123"


SMTP_ADDRESSES = {role: f"{role}@dest.test" for role in ("ok1", "ok2", "unknown", "grey", "drop")}


@contextlib.asynccontextmanager
async def smtp_server(scenario: str) -> AsyncIterator[int]:
    """aiosmtpd's port (a closed one for ``unreachable``)."""
    if scenario == "unreachable":
        yield closed_port()
        return
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(SmtpBehaviour(), hostname="mx.dest.test"), "127.0.0.1", 0
    )
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()


def relay_harness(request: pytest.FixtureRequest) -> Harness:
    @contextlib.asynccontextmanager
    async def start(scenario: str) -> AsyncIterator[Receiver]:
        async with smtp_server(scenario) as port:
            options = {"host": "127.0.0.1", "port": port, "tls": "off"}
            yield Receiver(TransportSettings("smarthost", "relay", options), SMTP_ADDRESSES, remote_id="Q123")

    return start


@pytest.fixture(scope="module")
def dest_dns(knot_factory: Callable[[dict[str, str]], KnotServer]) -> KnotServer:
    return knot_factory({"dest.test": zone_text("dest.test", "@ IN MX 10 mx\nmx IN A 127.0.0.1\n")})


def direct_harness(request: pytest.FixtureRequest) -> Harness:
    dns: KnotServer = request.getfixturevalue("dest_dns")

    @contextlib.asynccontextmanager
    async def start(scenario: str) -> AsyncIterator[Receiver]:
        async with smtp_server(scenario) as port:
            options = {"nameserver": dns.address, "port": port, "tls": "off", "connections": 4}
            options["helo"] = "mx.dest.test"  # resolves in dest_dns (this machine's name may not)
            yield Receiver(TransportSettings("mx", "direct", options), SMTP_ADDRESSES, remote_id="Q123")

    return start


# -- the project's simulator ------------------------------------------------------------------------


def simulator_harness(request: pytest.FixtureRequest) -> Harness:
    folder: Path = request.getfixturevalue("tmp_path")
    addresses = {
        "ok1": "ok1@accept.mailfate.test",
        "ok2": "ok2@accept.mailfate.test",
        "unknown": "unknown1@unknown-users.mailfate.test",
        "grey": "grey@greylist.mailfate.test",
        "drop": "drop@disconnect.mailfate.test",
    }

    @contextlib.asynccontextmanager
    async def start(scenario: str) -> AsyncIterator[Receiver]:
        if scenario == "unreachable":
            options = {"host": "127.0.0.1", "port": closed_port()}
            yield Receiver(TransportSettings("simulator", "simulator", options), addresses)
            return
        config = load_config(None, {"reports": {"smtp": ""}})
        async with Simulator(config, maildir=folder / "maildir", journal=folder / "journal.jsonl") as sim:
            options = {"host": sim.host, "port": sim.port}
            yield Receiver(TransportSettings("simulator", "simulator", options), addresses)

    return start


# -- SES: moto, and an HTTP endpoint for the answers moto does not give -------------------------------


class SesEndpoint(BaseHTTPRequestHandler):
    """SESv2's REST-JSON endpoint, answering every request one way: ``mode`` "paused" (400
    AccountSendingPausedException) or "drop" (the connection closed, no answer)."""

    mode = "paused"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.mode == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = json.dumps({"message": "Sending is paused for this account."}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-ErrorType", "AccountSendingPausedException")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def ses_endpoint(mode: str) -> Iterator[str]:
    handler = type("Endpoint", (SesEndpoint,), {"mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def ses_harness(request: pytest.FixtureRequest) -> Harness:
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",  # botocore would retry a dropped or refused connection 4 times
    }.items():
        monkeypatch.setenv(key, value)
    addresses = {role: f"{role}@dest.test" for role in ("ok1", "ok2", "unknown", "grey", "drop")}

    @contextlib.asynccontextmanager
    async def start(scenario: str) -> AsyncIterator[Receiver]:
        if scenario in ("accept", "refuse"):
            with mock_aws():
                boto3.client("sesv2", region_name="us-east-1").create_email_identity(
                    EmailIdentity="app.example"
                )
                sender = "b@app.example" if scenario == "accept" else "b@unverified.example"
                settings = TransportSettings("ses", "ses", {"region": "us-east-1"})
                yield Receiver(settings, addresses, sender=sender, per_recipient=False)
            return
        if scenario == "unreachable":
            options = {"region": "us-east-1", "endpoint_url": f"http://127.0.0.1:{closed_port()}"}
            yield Receiver(TransportSettings("ses", "ses", options), addresses, per_recipient=False)
            return
        with ses_endpoint("drop" if scenario == "drop" else "paused") as url:
            options = {"region": "us-east-1", "endpoint_url": url}
            yield Receiver(TransportSettings("ses", "ses", options), addresses, per_recipient=False)

    return start


HARNESSES: dict[str, Callable[[pytest.FixtureRequest], Harness]] = {
    "direct": direct_harness,
    "relay": relay_harness,
    "ses": ses_harness,
    "simulator": simulator_harness,
}


@pytest.fixture(params=registered_types())
def harness(request: pytest.FixtureRequest) -> Harness:
    make = HARNESSES.get(request.param)
    if make is None:
        pytest.fail(f"transport type {request.param!r} is registered but has no contract case: add one")
    return make(request)


def deliver(harness: Harness, scenario: str, *roles: str) -> tuple[Receiver, list[AttemptResult]]:
    """Build the transport through the registry, deliver one envelope, close it; the results."""

    async def main() -> tuple[Receiver, list[AttemptResult]]:
        async with harness(scenario) as receiver:
            transport = await build_transport(receiver.settings, receiver.context)
            try:
                results = await transport.deliver(receiver.envelope(*roles))
            finally:
                await transport.aclose()
        assert len(results) == len(roles)
        assert all(isinstance(r, AttemptResult) and r.transport == receiver.settings.type for r in results)
        return receiver, results

    return asyncio.run(main())


def test_every_registered_type_has_a_case_and_the_settings_know_it() -> None:
    assert set(HARNESSES) == set(registered_types()) == set(TRANSPORT_TYPES)


def test_a_250_is_delivered_with_the_remote_id(harness: Harness) -> None:
    receiver, results = deliver(harness, "accept", "ok1", "ok2")
    assert [(r.outcome, r.code) for r in results] == [("delivered", 250)] * 2
    for r in results:
        assert r.remote_id and r.remote_id == (receiver.remote_id or r.remote_id)


def test_a_5xx_refusal_bounces_the_refused_recipient_only(harness: Harness) -> None:
    receiver, results = deliver(harness, "refuse", "ok1", "unknown", "ok2")
    if receiver.per_recipient:
        assert [r.outcome for r in results] == ["delivered", "bounced", "delivered"]
        refused = results[1]
        assert refused.command == "RCPT" and receiver.addresses["unknown"] in refused.text
    else:
        assert [r.outcome for r in results] == ["bounced"] * 3
        refused = results[0]
    assert 500 <= refused.code < 600 and refused.status.startswith("5.")


def test_a_4xx_is_deferred(harness: Harness) -> None:
    receiver, results = deliver(harness, "defer", "ok1", "grey")
    expected = ["delivered", "deferred"] if receiver.per_recipient else ["deferred"] * 2
    assert [r.outcome for r in results] == expected
    assert 400 <= results[1].code < 500


def test_a_dropped_connection_is_deferred_never_delivered(harness: Harness) -> None:
    _, results = deliver(harness, "drop", "ok1", "drop")
    assert [(r.outcome, r.code, r.reason) for r in results] == [("deferred", 0, "networkerror")] * 2


def test_an_unreachable_endpoint_is_deferred_never_delivered(harness: Harness) -> None:
    _, results = deliver(harness, "unreachable", "ok1", "ok2")
    assert [(r.outcome, r.code, r.reason) for r in results] == [("deferred", 0, "networkerror")] * 2


def test_aclose_is_idempotent_used_or_not(harness: Harness) -> None:
    async def main() -> None:
        async with harness("accept") as receiver:
            unused = await build_transport(receiver.settings, receiver.context)
            await unused.aclose()
            await unused.aclose()
            used = await build_transport(receiver.settings, receiver.context)
            [result] = await used.deliver(receiver.envelope("ok1"))
            await used.aclose()
            await used.aclose()
        assert result.outcome == "delivered"

    asyncio.run(main())
