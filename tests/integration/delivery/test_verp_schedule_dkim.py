"""VERP tokens, the retry schedule, durations and hints, DKIM signing verified against real DNS."""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, datetime, timedelta

import dkim
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfate.bounce.retry import retry_hint
from mailfate.delivery.dkim import DkimKey, DkimSigner
from mailfate.delivery.schedule import RetryPolicy
from mailfate.errors import ConfigError, InputError
from mailfate.mailauth.dkim import generate_key
from mailfate.model.duration import parse_duration
from mailfate.model.verp import VerpCodec
from mailfate.store import new_message_id
from tests.support.knot import zone_text

CODEC = VerpCodec(b"k" * 32, "bounces.app.example")
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
ids = st.builds(new_message_id, st.integers(0, 2**48 - 1))


@given(ids, st.integers(0, 2**63))
def test_verp_round_trip_survives_case_changes(mid: str, rid: int) -> None:
    address = CODEC.encode(mid, rid)
    assert len(address.split("@")[0]) <= 64
    assert CODEC.decode(address) == (mid, rid)
    assert CODEC.decode(address.upper()) == (mid, rid)
    assert CODEC.decode(f"<{address}>") == (mid, rid)


@given(ids, st.integers(0, 10**9), st.integers(0, 60), st.characters(codec="ascii"))
def test_any_change_to_a_verp_address_is_refused(mid: str, rid: int, pos: int, ch: str) -> None:
    address = CODEC.encode(mid, rid)
    local = address.split("@")[0]
    i = pos % len(local)
    changed = local[:i] + ch + local[i + 1 :] + "@bounces.app.example"
    if changed.lower() != address.lower():
        assert CODEC.decode(changed) is None
    assert CODEC.decode(address.replace("bounces.app.example", "evil.example")) is None
    assert VerpCodec(b"x" * 32, "bounces.app.example").decode(address) is None  # another secret


@given(st.text(max_size=400))
def test_random_text_never_decodes_or_raises(text: str) -> None:
    assert CODEC.decode(text) is None


def test_greylisting_aware_backoff_deadline_and_max_age() -> None:
    policy = RetryPolicy(first=300, factor=2, max_interval=3600, max_age=86400, jitter=0)
    waits = [policy.interval(n) for n in range(1, 7)]
    assert waits == [300, 600, 1200, 2400, 3600, 3600]
    when, why = policy.next_attempt(attempts=1, now=NOW, created_at=NOW, deadline=None)
    assert (when, why) == (NOW + timedelta(seconds=300), "")
    assert policy.next_attempt(attempts=1, now=NOW, created_at=NOW, deadline=NOW + timedelta(minutes=4)) == (
        None,
        "deadline",
    )
    old = NOW - timedelta(seconds=86000)
    assert policy.next_attempt(attempts=9, now=NOW, created_at=old, deadline=None) == (None, "max_age")
    hinted, _ = policy.next_attempt(attempts=1, now=NOW, created_at=NOW, deadline=None, retry_after=900)
    assert hinted == NOW + timedelta(seconds=900)
    jittered = RetryPolicy(jitter=0.1).next_attempt(
        attempts=1, now=NOW, created_at=NOW, deadline=None, rng=random.Random(1)
    )[0]
    assert jittered is not None and 270 <= (jittered - NOW).total_seconds() <= 330
    with pytest.raises(ConfigError):
        RetryPolicy.from_config({"first": -1})
    with pytest.raises(ConfigError):
        RetryPolicy.from_config({"frist": 1})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("451 4.7.1 Greylisted, please try again in 5 minutes", 300),
        ("421 4.7.0 Try again in 300 seconds", 300),
        ("450 4.2.0 greylisted for 60 s", 60),
        ("421 Rate limited. Retry in 2 hours", 7200),
        ("450 4.2.1 mailbox busy", None),
    ],
)
def test_retry_hints(text: str, seconds: float | None) -> None:
    assert retry_hint(text) == seconds


@given(st.text(max_size=100))
def test_hints_and_durations_never_raise_anything_but_input_error(text: str) -> None:
    retry_hint(text)
    with contextlib.suppress(InputError):
        assert parse_duration(text) > 0


def test_durations() -> None:
    assert [parse_duration(x) for x in ("10m", "90s", "1h30m", "2d", 600, "1 h", 1.5)] == [
        600,
        90,
        5400,
        172800,
        600,
        3600,
        1.5,
    ]
    for bad in ("", "abc", "10x", "-5m", "m10"):
        with pytest.raises(InputError):
            parse_duration(bad)
    for unitless in ("600", "10", "1h30"):  # text needs a unit: seconds or minutes?
        with pytest.raises(InputError, match="give a unit"):
            parse_duration(unitless)


def test_dkim_signature_verifies_against_a_real_dns_server(knot_factory) -> None:  # type: ignore[no-untyped-def]
    pem, txt = generate_key(2048)
    chunks = " ".join(f'"{txt[i : i + 200]}"' for i in range(0, len(txt), 200))
    knot = knot_factory({"app.example": zone_text("app.example", f"s1._domainkey 300 IN TXT {chunks}")})
    signer = DkimSigner([DkimKey("app.example", "s1", pem)])
    raw = (
        b"From: a@app.example\r\nTo: b@x.test\r\nSubject: code\r\nDate: Sat, 28 Nov 2026 09:00:00 +0000\r\n"
        b"Message-ID: <1@app.example>\r\n\r\nYour code is 123456\r\n"
    )
    signed = signer.sign(raw, "App.Example")
    resolver = knot.resolver()

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        answer = resolver.resolve(name.decode().rstrip("."), "TXT")
        return b"".join(b"".join(r.strings) for r in answer)

    assert dkim.verify(signed, dnsfunc=dnsfunc)
    assert not dkim.verify(signed.replace(b"123456", b"654321"), dnsfunc=dnsfunc)
    assert signer.sign(raw, "other.example") == raw
