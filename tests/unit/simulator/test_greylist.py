"""Greylisting end to end: real SMTP client, fake clock, no sleeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.unit.simulator.simkit import FakeClock, journal, send, serve

DOMAIN = "greylist.mailfate.test"


def test_first_attempt_deferred_early_retry_deferred_after_delay_passes(tmp_path: Path) -> None:
    clock = FakeClock()

    async def body(sim: Any) -> None:
        rcpt = f"user@{DOMAIN}"
        first = await send(sim.port, [rcpt])
        assert first.startswith(
            "451 4.7.1 <user@greylist.mailfate.test>: Recipient address rejected: Greylisted"
        )
        clock.advance(200)
        assert (await send(sim.port, [rcpt])).startswith("451 4.7.1")
        clock.advance(100)  # 300 s after the first attempt: the early retry did not reset it
        assert (await send(sim.port, [rcpt])).startswith("250 2.0.0")
        clock.advance(86400)
        assert (await send(sim.port, [rcpt])).startswith("250 2.0.0"), "a passed triplet stays known"
        other = await send(sim.port, [rcpt], mail_from="other@app.example")
        assert other.startswith("451 4.7.1"), "a different triplet is greylisted again"
        assert len(sim.stored(DOMAIN)) == 2
        assert sim.counters()["domains"][DOMAIN]["outcomes"] == {
            "accepted": 2,
            "deferred": 3,
            "rejected": 0,
            "dropped": 0,
        }

    serve(tmp_path, body, {"server": {"greylist_delay": 300}}, clock=clock)
    outcomes = [e["outcome"] for e in journal(tmp_path) if e["event"] == "transaction"]
    assert outcomes == ["deferred", "deferred", "accepted", "accepted", "deferred"]


def test_reset_forgets_and_delay_option_overrides(tmp_path: Path) -> None:
    clock = FakeClock()
    overrides = {"domains": {"fast.test": {"personalities": ["greylist"], "greylist": {"delay": 10}}}}

    async def body(sim: Any) -> None:
        assert (await send(sim.port, ["a@fast.test"])).startswith("451")
        clock.advance(10)
        assert (await send(sim.port, ["a@fast.test"])).startswith("250")
        assert sim.reset_greylist() == 1
        assert (await send(sim.port, ["a@fast.test"])).startswith("451")
        assert sim.reset_greylist() == 1
        assert sim.reset_greylist() == 0

    serve(tmp_path, body, overrides, clock=clock)
