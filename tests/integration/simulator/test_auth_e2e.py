"""End to end: the simulator on port 0 with strict-auth / lenient-auth / requires-ptr domains, real
DKIM-signed mail sent with aiosmtplib from 127.0.0.1, SPF/DKIM/DMARC/PTR answered by Knot."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiosmtplib
import pytest

from mailfate.mailauth.dkim import sign_dkim
from tests.support import zones
from tests.support.knot import KnotServer

runtime = pytest.importorskip("mailfate.simulator.runtime")
config_module = pytest.importorskip("mailfate.simulator.config")


@pytest.fixture(scope="module")
def keys() -> zones.Keys:
    return zones.make_keys()


@pytest.fixture(scope="module")
def knot(knot_factory: Callable[[dict[str, str]], KnotServer], keys: zones.Keys) -> KnotServer:
    return zones.start(knot_factory, keys)


def _config(knot: KnotServer) -> object:
    return config_module.load_config(
        overrides={
            "dns": {"nameserver": knot.address},
            "domains": {
                "strict.test": {"personalities": ["strict-auth"]},
                "lenient.test": {"personalities": ["lenient-auth"]},
                "ptr.test": {"personalities": ["requires-ptr"], "requires-ptr": {"fcrdns": True}},
            },
        }
    )


async def _send(
    sim: object, message: bytes, rcpt: str, mail_from: str = "bounce@auth.test"
) -> tuple[int, str]:
    try:
        await aiosmtplib.send(
            message,
            sender=mail_from,
            recipients=[rcpt],
            hostname=sim.host,  # type: ignore[attr-defined]
            port=sim.port,  # type: ignore[attr-defined]
            local_hostname="mta.auth.test",
            timeout=20,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        [refused] = exc.recipients
        return refused.code, refused.message
    except aiosmtplib.SMTPResponseException as exc:
        return exc.code, exc.message
    return 250, ""


def test_auth_domains_end_to_end(knot: KnotServer, keys: zones.Keys, tmp_path: Path) -> None:
    signed = sign_dkim(zones.message(to="u@strict.test"), "auth.test", "k2048", keys.k2048)
    # DKIM-signed for a domain that does not align with From (soft.test), SPF for MAIL FROM soft.test
    # softfails from 127.0.0.1: DMARC for auth.test fails.
    unaligned = sign_dkim(zones.message(to="u@strict.test"), "soft.test", "k1024", keys.k1024)

    async def scenario() -> None:
        sim = runtime.Simulator(config=_config(knot), maildir=tmp_path / "mail", journal=tmp_path / "j.jsonl")
        async with sim:
            assert await _send(sim, signed, "u@strict.test") == (250, "")
            code, text = await _send(sim, zones.message(), "u@strict.test", mail_from="bounce@soft.test")
            assert (code, text.split()[0]) == (550, "5.7.26"), text
            assert "DMARC fail (p=reject)" in text
            code, text = await _send(sim, unaligned, "u@lenient.test", mail_from="bounce@soft.test")
            assert (code, text.split()[0]) == (451, "4.7.26"), text
            assert await _send(sim, signed, "u@ptr.test") == (
                250,
                "",
            )  # 127.0.0.1 → host.auth.test → 127.0.0.1
            [stored] = sim.stored("strict.test")
            content = stored.read_bytes()
            header = next(
                line for line in content.decode().split("\r\n") if line.startswith("Authentication-Results:")
            )
            assert (
                "spf=pass" in header and "dkim=pass header.d=auth.test" in header and "dmarc=pass" in header
            )
            assert content.count(b"DKIM-Signature:") == 1

    asyncio.run(scenario())
