"""Direct delivery with MX records from a real Knot server; SES through moto and a botocore Stubber."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import boto3
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from botocore.stub import Stubber
from moto import mock_aws

from mailfate.delivery.limits import SiteLimits, site_of
from mailfate.delivery.mx import make_async_resolver
from mailfate.delivery.transports.direct import DirectTransport
from mailfate.delivery.transports.ses import SesTransport
from mailfate.model import Envelope as Env
from tests.support.knot import zone_text

MSG = b"From: a@app.example\r\nTo: x@dest.test\r\nSubject: t\r\n\r\nbody\r\n"


class Accept:
    def __init__(self) -> None:
        self.got: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.got += envelope.rcpt_tos
        return "250 2.0.0 Ok: queued as D1"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_mx_order_fallback_null_mx_nxdomain_and_implicit_mx(knot_factory: Any) -> None:
    zones = {
        "dest.test": zone_text(
            "dest.test",
            "@ IN MX 10 mx1.dest.test.\n@ IN MX 20 mx2.dest.test.\nmx1 IN A 127.0.0.2\nmx2 IN A 127.0.0.1\n",
        ),
        "null.test": zone_text("null.test", "@ IN MX 0 .\n"),
        "nomx.test": zone_text("nomx.test", "@ IN A 127.0.0.1\n"),
    }
    knot = knot_factory(zones)

    async def main() -> None:
        handler = Accept()
        server = await asyncio.get_running_loop().create_server(lambda: SMTP(handler), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        # mx1 (127.0.0.2) has nothing listening on that port: refused, then mx2 takes it
        direct = DirectTransport(make_async_resolver(knot.address), port=port, tls="off", connect_timeout=3)
        try:
            [r] = await direct.deliver(Env("b@app.example", ("kim@dest.test",), MSG))
            assert (r.outcome, r.remote_host, r.remote_ip) == ("delivered", "mx2.dest.test", "127.0.0.1")
            [r] = await direct.deliver(Env("b@app.example", ("kim@null.test",), MSG))
            assert (r.outcome, r.reason, r.status) == ("bounced", "notaccept", "5.1.10")
            [r] = await direct.deliver(Env("b@app.example", ("kim@missing.dest.test",), MSG))
            assert (r.outcome, r.reason) == ("bounced", "hostunknown")
            [r] = await direct.deliver(Env("b@app.example", ("kim@nomx.test",), MSG))
            assert r.outcome == "delivered" and r.remote_host == "nomx.test"
            assert handler.got == ["kim@dest.test", "kim@nomx.test"]
        finally:
            await direct.aclose()
            server.close()

    asyncio.run(main())


def test_dns_that_does_not_answer_is_a_deferral() -> None:
    async def main() -> None:
        direct = DirectTransport(
            make_async_resolver(f"127.0.0.1:{closed_port()}", timeout=0.5), port=closed_port()
        )
        [r] = await direct.deliver(Env("b@app.example", ("kim@dest.test",), MSG))
        assert (r.outcome, r.code, r.status) == ("deferred", 0, "4.4.3") and "DNS" in r.text
        await direct.aclose()

    asyncio.run(main())


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("sesv2", region_name="us-east-1")


def test_ses_accepts_verified_senders_and_rejects_others(aws: Any) -> None:
    aws.create_email_identity(EmailIdentity="app.example")
    ses = SesTransport(client=aws)
    [ok] = asyncio.run(ses.deliver(Env("no-reply@app.example", ("kim@naver.test",), MSG)))
    assert ok.outcome == "delivered" and ok.remote_id and ok.remote_id in ok.text
    [bad] = asyncio.run(ses.deliver(Env("no-reply@unverified.example", ("kim@naver.test",), MSG)))
    assert (bad.outcome, bad.reason, bad.rule_id) == ("bounced", "rejected", "ses.MessageRejected")
    assert bad.fix


@pytest.mark.parametrize(
    ("code", "outcome", "reason"),
    [
        ("MailFromDomainNotVerifiedException", "bounced", "rejected"),
        ("AccountSendingPausedException", "deferred", "suspend"),
        ("TooManyRequestsException", "deferred", "speeding"),
        ("InternalFailure", "deferred", "networkerror"),
    ],
)
def test_ses_errors_say_what_to_fix(aws: Any, code: str, outcome: str, reason: str) -> None:
    client = boto3.client("sesv2", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "send_email", service_error_code=code, service_message="no", http_status_code=400
        )
        [r] = asyncio.run(SesTransport(client=client).deliver(Env("a@app.example", ("k@n.test",), MSG)))
    assert (r.outcome, r.reason) == (outcome, reason)
    assert r.fix or reason == "networkerror"


def test_domains_sharing_mx_hosts_share_one_budget_and_a_421_halves_it(knot_factory: Any) -> None:
    zones = {
        "shared.test": zone_text("shared.test", "mx IN A 127.0.0.1\n"),
        "daum.test": zone_text("daum.test", "@ IN MX 10 mx.shared.test.\n"),
        "hanmail.test": zone_text("hanmail.test", "@ IN MX 10 mx.shared.test.\n"),
    }
    knot = knot_factory(zones)
    live, peak = 0, 0

    class Slow:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            nonlocal live, peak
            live += 1
            peak = max(peak, live)
            await asyncio.sleep(0.1)
            live -= 1
            if envelope.rcpt_tos[0].startswith("busy"):
                return "421 4.7.0 Too many messages from your IP, slow down"
            return "250 2.0.0 Ok"

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(lambda: SMTP(Slow()), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        limits = SiteLimits(connections=2, cooloff=60)
        direct = DirectTransport(make_async_resolver(knot.address), port=port, tls="off", limits=limits)
        try:
            envs = [
                Env("b@app.example", (f"u{i}@{'daum' if i % 2 else 'hanmail'}.test",), MSG) for i in range(8)
            ]
            results = await asyncio.gather(*(direct.deliver(e) for e in envs))
            assert all(r.outcome == "delivered" for [r] in results)
            assert peak == 2  # daum.test and hanmail.test together never had more than two sessions
            [r] = await direct.deliver(Env("b@app.example", ("busy@daum.test",), MSG))
            assert r.code == 421 and limits.allowed("shared.test") == 1
        finally:
            await direct.aclose()
            server.close()

    asyncio.run(main())
    assert site_of("mx1.hanmail.net") == "hanmail.net" and site_of("127.0.0.1") == "127.0.0.1"


def test_the_budget_comes_back_after_the_cooloff() -> None:
    now = [0.0]
    limits = SiteLimits(connections=8, cooloff=60, clock=lambda: now[0])
    assert limits.slow_down("google.com") == 4 and limits.slow_down("google.com") == 2
    assert limits.allowed("google.com") == 2 and limits.allowed("naver.com") == 8
    now[0] = 61
    assert limits.allowed("google.com") == 8


def test_a_site_rate_spaces_messages_and_named_sites_get_their_own_budget() -> None:
    limits = SiteLimits(connections=10, rate=None, sites={"naver.com": (2, 20.0)})
    assert (limits.allowed("naver.com"), limits.current_rate("naver.com")) == (2, 20.0)
    assert (limits.allowed("gmail.com"), limits.current_rate("gmail.com")) == (10, None)

    async def main() -> float:
        async def one() -> None:
            async with limits.slot("naver.com"):
                pass

        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(11)))
        return time.monotonic() - started

    elapsed = asyncio.run(main())
    assert 0.45 <= elapsed < 2.0  # 11 messages at 20/s: the last starts 0.5 s after the first
    limits.slow_down("naver.com")
    assert (limits.allowed("naver.com"), limits.current_rate("naver.com")) == (1, 10.0)
