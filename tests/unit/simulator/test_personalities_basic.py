"""The simple personalities against a running simulator (real aiosmtplib client)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from mailfate.errors import ConfigError
from mailfate.simulator.config import load_config
from mailfate.simulator.runtime import Simulator, SimulatorThread
from tests.unit.simulator.simkit import RawClient, send, serve


def test_accept_and_unknown_users_by_address_and_pattern(tmp_path: Path) -> None:
    overrides = {
        "domains": {
            "u.test": {
                "personalities": ["unknown-users", "accept"],
                "unknown-users": {"addresses": ["gone", "old@u.test"], "patterns": ["^temp[0-9]+$"]},
            }
        }
    }

    async def body(sim: Any) -> None:
        assert (await send(sim.port, ["x@accept.mailfate.test"])).startswith("250 2.0.0")
        for rcpt in ("GONE@u.test", "old@U.test", "temp42@u.test"):
            reply = await send(sim.port, [rcpt])
            assert (
                reply
                == f"550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table"
            )
        assert (await send(sim.port, ["temp42x@u.test"])).startswith("250")
        assert sim.counters()["personalities"]["unknown-users"]["rejected"] == 3

    serve(tmp_path, body, overrides)


def test_mailbox_full_permanent_temporary_and_everyone(tmp_path: Path) -> None:
    overrides = {
        "domains": {
            "full.test": {
                "personalities": ["mailbox-full"],
                "mailbox-full": {"patterns": ["^full"], "temporary": True},
            },
            "perm.test": {"personalities": ["mailbox-full"], "mailbox-full": {"addresses": ["bob"]}},
        }
    }

    async def body(sim: Any) -> None:
        assert (await send(sim.port, ["full1@full.test"])).startswith("452 4.2.2")
        assert (await send(sim.port, ["ok@full.test"])).startswith("250")
        assert (await send(sim.port, ["bob@perm.test"])).startswith("552 5.2.2")
        assert (await send(sim.port, ["anyone@mailbox-full.mailfate.test"])).startswith("552 5.2.2")

    serve(tmp_path, body, overrides)


def test_blocklist_by_cidr(tmp_path: Path) -> None:
    overrides = {
        "domains": {"other.test": {"personalities": ["blocklist"], "blocklist": {"ips": ["192.0.2.0/24"]}}}
    }

    async def body(sim: Any) -> None:
        reply = await send(sim.port, ["a@blocklist.mailfate.test"])
        assert reply.startswith("554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked")
        assert (await send(sim.port, ["a@other.test"])).startswith("250")

    serve(tmp_path, body, overrides)


@pytest.mark.parametrize("after", ["rcpt", "data"])
def test_disconnect_drops_without_reply_and_journals(tmp_path: Path, after: str) -> None:
    overrides = {"domains": {"d.test": {"personalities": ["disconnect"], "disconnect": {"after": after}}}}
    with SimulatorThread(load_config(overrides=overrides), journal=tmp_path / "j.jsonl") as sim:
        client = RawClient(sim.port)
        client.cmd(b"EHLO out.app.example")
        client.cmd(b"MAIL FROM:<a@app.example>")
        if after == "rcpt":
            client.send(b"RCPT TO:<x@d.test>\r\n")
        else:
            assert client.cmd(b"RCPT TO:<x@d.test>").startswith("250")
            assert client.cmd(b"DATA").startswith("354")
            client.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
        with pytest.raises(EOFError):
            client.line()
        client.close()
        assert sim.counters()["domains"]["d.test"]["outcomes"]["dropped"] == 1
    entries = (tmp_path / "j.jsonl").read_text()
    assert '"event": "dropped"' in entries and "421 4.4.2" in entries


def test_tarpit_delays_rcpt_and_data_replies(tmp_path: Path) -> None:
    overrides = {"domains": {"slow.test": {"personalities": ["tarpit"], "tarpit": {"delay": 0.2}}}}

    async def body(sim: Any) -> None:
        start = time.monotonic()
        assert (await send(sim.port, ["a@accept.mailfate.test"])).startswith("250")
        fast = time.monotonic() - start
        start = time.monotonic()
        assert (await send(sim.port, ["a@slow.test"])).startswith("250")
        slow = time.monotonic() - start
        assert slow >= 0.4 > fast

    serve(tmp_path, body, overrides)


@pytest.mark.parametrize(
    ("slug", "options", "words"),
    [
        ("unknown-users", {"patterns": ["("]}, "regular expression"),
        ("unknown-users", {"adresses": ["x"]}, "unknown option"),
        ("mailbox-full", {"temporary": "yes"}, "true or false"),
        ("blocklist", {"ips": ["not-an-ip"]}, "IP or CIDR"),
        ("tarpit", {"delay": -1}, "seconds"),
        ("disconnect", {"after": "helo"}, '"data" or "rcpt"'),
        ("greylist", {"delay": "5m"}, "seconds"),
    ],
)
def test_bad_options_are_config_errors(slug: str, options: dict[str, Any], words: str) -> None:
    cfg = load_config(overrides={"domains": {"b.test": {"personalities": [slug], slug: options}}})
    with pytest.raises(ConfigError, match=f'domains."b.test".{slug}') as info:
        Simulator(cfg)
    assert words in str(info.value)
