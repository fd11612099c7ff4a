"""End to end: a real SMTP client sends to the running Simulator, late reports come back by SMTP.

The mailbox simulator domain refuses bounce@ at RCPT (550 5.1.1) and accepts complaint@, then an
ARF report goes to the envelope sender through the configured report target (a collecting
aiosmtpd server on 127.0.0.1) once the fake clock passes the report delay; mailfate's own bounce
parser reads it as a complaint naming the original Message-ID.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosmtplib
import pytest

from mailfate.bounce.api import parse_bounce
from mailfate.model.reasons import Kind

runtime = pytest.importorskip("mailfate.simulator.runtime")
config = pytest.importorskip("mailfate.simulator.config")

from tests.unit.simulator.reportkit import MID, SENDER, Collector, FakeClock, original, smtp_server  # noqa: E402

DOMAIN = "simulator.mailfate.test"


async def _send(port: int, rcpt: str) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="out.app.example", timeout=10)
    async with client:
        await client.sendmail(SENDER, [rcpt], original(to=rcpt, subject="Your code"))


def test_bounce_is_refused_and_complaint_comes_back_as_arf(tmp_path: Path) -> None:
    async def main() -> None:
        handler = Collector()
        clock = FakeClock()
        async with smtp_server(handler) as target:
            cfg = config.load_config(overrides={"reports": {"smtp": target}})
            sim = runtime.Simulator(cfg, clock=clock, maildir=tmp_path / "maildir")
            async with sim:
                with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
                    await _send(sim.port, f"bounce@{DOMAIN}")
                (error,) = refused.value.recipients
                assert error.code == 550 and "5.1.1" in error.message

                await _send(sim.port, f"complaint+e2e@{DOMAIN}")
                await sim.send_due_reports()
                assert handler.envelopes == [], "not before the report delay"
                clock.advance(3600)
                await sim.send_due_reports()
                await asyncio.wait_for(handler.arrived.wait(), timeout=10)
        (env,) = handler.envelopes
        assert env.mail_from == "<>"
        assert env.rcpt_tos == [SENDER]
        (record,) = parse_bounce(env.original_content or b"")
        assert record.kind == Kind.COMPLAINT
        assert record.feedback_type == "abuse"
        assert record.recipient == f"complaint+e2e@{DOMAIN}"
        assert record.original_message_id == MID
        stored = sorted(p.name for p in (tmp_path / "maildir" / "_reports").glob("*.eml"))
        assert stored == ["arf-1.eml"]

    asyncio.run(main())
