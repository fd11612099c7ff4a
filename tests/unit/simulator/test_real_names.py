"""The default destination answers for real names: every recipient domain is served.

With the packaged configuration, the receivers a first-time user writes to (naver.com,
hanmail.net, gmail.com, hotmail.com, ...) accept a well-formed message with the provider's own
texts, every other domain is served like ``accept.mailfate.test``, and the failure personalities
stay reachable through the ``*.mailfate.test`` and ``*.test`` names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mailfate.simulator.config import load_config
from tests.unit.simulator.simkit import send, serve

REAL_NAMES = {
    "naver.com": "naver",
    "daum.net": "daum",
    "hanmail.net": "daum",
    "kakao.com": "kakao",
    "gmail.com": "gmail",
    "googlemail.com": "gmail",
    "outlook.com": "outlook",
    "hotmail.com": "outlook",
    "live.com": "outlook",
    "yahoo.com": "yahoo",
    "aol.com": "yahoo",
}


@pytest.mark.parametrize(("domain", "preset"), sorted(REAL_NAMES.items()))
def test_known_receivers_have_their_preset_and_no_refusing_personality(domain: str, preset: str) -> None:
    served = load_config().domains[domain]
    assert served.preset == preset
    # Only local-part triggered failures: nothing that refuses an ordinary sender or recipient.
    assert set(served.personalities) <= {"unknown-users", "mailbox-full"}
    for slug in served.personalities:
        assert served.options[slug].get("patterns"), f"{domain} {slug} would hit every recipient"


def test_the_packaged_fallback_is_the_plain_accepting_domain() -> None:
    config = load_config()
    assert config.server.unknown_domains == "accept.mailfate.test"
    assert config.domains["accept.mailfate.test"].personalities == ("accept",)
    assert load_config(overrides={"server": {"unknown_domains": "reject"}}).server.unknown_domains == "reject"


def test_the_readme_recipient_and_every_other_domain_are_delivered(tmp_path: Path) -> None:
    async def body(sim: Any) -> None:
        for rcpt in ("kim@naver.com", "lee@HANMAIL.NET", "park@gmail.com", "jo@hotmail.com", "a@yahoo.com"):
            assert (await send(sim.port, [rcpt])).startswith("250 2.0.0"), rcpt
        assert (await send(sim.port, ["ops@customer-company.co.kr"])).startswith("250 2.0.0 Ok: queued as ")
        assert len(sim.stored("naver.com")) == 1
        assert sim.stored("hanmail.net") == sim.stored("daum.net")
        assert len(sim.stored("customer-company.co.kr")) == 1
        counts = sim.counters()["domains"]
        assert counts["customer-company.co.kr"]["personalities"] == ["accept"]
        assert counts["naver.com"]["personalities"] == ["unknown-users", "mailbox-full"]

    serve(tmp_path, body)


def test_real_names_speak_the_providers_texts_when_asked_by_local_part(tmp_path: Path) -> None:
    async def body(sim: Any) -> None:
        assert (await send(sim.port, ["nobody@naver.com"])).startswith("550 5.1.1 No such user.")
        assert (await send(sim.port, ["unknown1@hanmail.net"])).startswith("550 5.1.1 RUSR 127.0.0.1")
        assert (await send(sim.port, ["nobody@gmail.com"])).startswith(
            "550 5.1.1 The email account that you tried to reach does not exist."
        )
        assert (await send(sim.port, ["full@gmail.com"])).startswith("452 4.2.2")
        assert (await send(sim.port, ["nobody@outlook.com"])).startswith(
            "550 5.5.0 Requested action not taken: mailbox unavailable"
        )
        assert (await send(sim.port, ["nobody@yahoo.com"])).startswith("550 5.1.1 Requested action aborted")

    serve(tmp_path, body)


def test_failure_personalities_stay_reachable_by_their_own_names(tmp_path: Path) -> None:
    async def body(sim: Any) -> None:
        assert (await send(sim.port, ["kim@greylist.mailfate.test"])).startswith("451 4.7.1")
        assert (await send(sim.port, ["kim@mailbox-full.mailfate.test"])).startswith("552 5.2.2")
        assert (await send(sim.port, ["bounce@simulator.mailfate.test"])).startswith("550 5.1.1")

    serve(tmp_path, body)


def test_a_configuration_can_still_refuse_unknown_domains(tmp_path: Path) -> None:
    async def body(sim: Any) -> None:
        assert (await send(sim.port, ["kim@naver.com"])).startswith("250")
        assert (await send(sim.port, ["a@elsewhere.example"])).startswith("554 5.7.1")

    serve(tmp_path, body, {"server": {"unknown_domains": "reject"}})
