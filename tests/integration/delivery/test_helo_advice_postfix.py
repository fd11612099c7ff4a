"""Against a real Postfix that checks HELO names (``reject_non_fqdn_helo_hostname``, as the
issue's receiver did): mailfate's SMTP client saying ``EHLO localhost`` is refused, and the
timeline explains the refusal as our HELO name — not as a blocked IP — and says how to set it.
With a fully-qualified name the same Postfix takes the message."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mailfate.delivery.transports.smtp import SmtpPool
from mailfate.model import AttemptResult, Envelope, Event
from mailfate.tracking.timeline import explain
from tests.support.postfix import PostfixServer, postfix_unavailable

pytestmark = pytest.mark.skipif(postfix_unavailable() is not None, reason=str(postfix_unavailable()))

MESSAGE = b"From: a@app.example\r\nTo: kim@rcpt.test\r\nSubject: code\r\n\r\n428913\r\n"


class HeloCheckingPostfix(PostfixServer):
    """The test receiver, with Postfix's HELO checks on."""

    def _write_config(self) -> None:
        super()._write_config()
        with (self.config_dir / "main.cf").open("a") as main_cf:
            main_cf.write(
                "smtpd_helo_required = yes\nsmtpd_helo_restrictions = reject_non_fqdn_helo_hostname\n"
            )


@pytest.fixture(scope="module")
def receiver() -> Iterator[PostfixServer]:
    server = HeloCheckingPostfix(deliver=["kim@rcpt.test"]).start()
    try:
        yield server
    finally:
        server.stop()


def _send(receiver: PostfixServer, helo: str) -> AttemptResult:
    async def go() -> AttemptResult:
        pool = SmtpPool(receiver.host, receiver.port, transport="relay", helo=helo, tls="off")
        try:
            [result] = await pool.deliver(Envelope("b-1@bounces.app.example", ("kim@rcpt.test",), MESSAGE))
        finally:
            await pool.aclose()
        return result

    return asyncio.run(go())


def test_a_helo_refusal_from_postfix_is_explained_as_our_helo(receiver: PostfixServer) -> None:
    result = _send(receiver, "localhost")
    assert result.outcome == "bounced" and result.code == 504, result
    assert "Helo command rejected" in result.text
    data = {**result.to_json(), "outcome": result.outcome}
    step = explain(Event(1, "m1", 1, "kim@rcpt.test", datetime.now(UTC), "attempt", data))
    assert "at fault: our side, the HELO name 'localhost'" in step.meaning
    assert "`helo` in [transports.direct]" in step.meaning
    assert "blocklist" not in step.meaning


def test_a_fully_qualified_helo_passes_the_same_receiver(receiver: PostfixServer) -> None:
    result = _send(receiver, "mail.app.example")
    assert result.outcome == "delivered", result
