"""The worker DKIM-signs with the sending domain's key; a strict receiver checks it against Knot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mailfate.client import Client
from tests.support import zones
from tests.support.knot import KnotServer
from tests.unit.engine.test_engine_paths import start_worker, stop_worker


@pytest.fixture(scope="module")
def keys() -> zones.Keys:
    return zones.make_keys()


def test_signed_mail_passes_dmarc_at_a_strict_receiver_and_unsigned_mail_bounces(
    tmp_path: Path, knot_factory: Callable[[dict[str, str]], KnotServer], keys: zones.Keys
) -> None:
    knot = zones.start(knot_factory, keys)
    (tmp_path / "keys" / "auth.test").mkdir(parents=True)
    (tmp_path / "keys" / "auth.test" / "k2048.pem").write_bytes(keys.k2048)
    service, thread, loop, stop = start_worker(
        tmp_path,
        simulator={"dns": {"nameserver": knot.address}},
        dkim_keys=str(tmp_path / "keys"),
        verp_domain="bounces.auth.test",  # inside a zone Knot serves, as a real VERP domain would be
    )
    try:
        with Client(service.settings.url, settings=service.settings) as client:
            signed = client.send(
                from_="no-reply@auth.test", to="kim@strict-auth.mailfate.test", subject="code", text="123456"
            )
            unsigned = client.send(
                from_="no-reply@strictalign.test",
                to="lee@strict-auth.mailfate.test",
                subject="code",
                text="123456",
            )
            good = client.wait(signed.message_id, timeout=30)
            bad = client.wait(unsigned.message_id, timeout=30)
        assert good.fate == "delivered", good.events
        [stored] = service.simulator.stored("strict-auth.mailfate.test")
        head = stored.read_bytes().split(b"\r\n\r\n", 1)[0]
        assert b"DKIM-Signature:" in head and b"d=auth.test" in head
        assert b"dkim=pass" in head and b"dmarc=pass" in head
        attempt = next(e for e in bad.events if e.type == "attempt")
        assert (bad.fate, attempt.data["code"], attempt.data["reason"]) == ("bounced", 550, "authfailure")
    finally:
        stop_worker(thread, loop, stop)
