"""A refusal's explanation names the party at fault — our HELO, our envelope domain's SPF, our IP,
the recipient — from the reply (classified as the worker classifies it) and our own facts."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from pathlib import Path

from mailfate.bounce import classify_reply
from mailfate.config import load_settings
from mailfate.model import Event
from mailfate.tracking.fault import FAULT, PARTY, SenderFacts, facts_from_settings
from mailfate.tracking.meanings_ko import FAULT_KO, fault
from mailfate.tracking.timeline import explain, steps

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
HELO_REPLY = (504, "5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname")
SPF_REPLY = (
    550,
    "5.7.23 <kim@example.org>: Recipient address rejected: Message rejected due to: SPF fail - not "
    "authorized. Please see http://www.openspf.net/Why?s=mfrom;id=b-m1-a-x@bounces.app.example;"
    "ip=192.0.2.7;r=<UNKNOWN>",
)


def _attempt(code: int, text: str, **extra: str) -> Event:
    verdict = classify_reply(code, None, text)
    data = {
        "outcome": "bounced" if code >= 500 else "deferred",
        "code": code,
        "text": text,
        "reason": str(verdict.reason),
        "cause": str(verdict.cause),
        **extra,
    }
    return Event(1, "m1", 1, "kim@example.org", NOW, "attempt", data)


def test_a_helo_rejection_blames_our_helo_not_our_ip() -> None:
    meaning = explain(_attempt(*HELO_REPLY)).meaning
    assert "at fault: our side, the HELO name 'localhost'" in meaning
    assert "`helo` in [transports.direct]" in meaning
    assert "blocklist" not in meaning and "the sending IP (" not in meaning


def test_an_spf_failure_sends_the_user_to_the_verp_domain_not_the_from_domain() -> None:
    facts = SenderFacts(from_domain="app.example")
    meaning = explain(_attempt(*SPF_REPLY), facts).meaning
    assert "`mailfate doctor domain bounces.app.example`" in meaning
    assert "doctor domain app.example" not in meaning
    assert "'192.0.2.7'" in meaning  # the IP the receiver saw, quoted back


def test_an_spf_failure_without_a_quoted_domain_uses_the_configured_verp_domain(tmp_path: Path) -> None:
    config = tmp_path / "mailfate.toml"
    config.write_text(
        '[verp]\ndomain = "bounces.shop.example"\n[transports.direct]\nhelo = "mx1.shop.example"\n'
    )
    facts = facts_from_settings(load_settings(config, data_dir=tmp_path))
    assert facts == SenderFacts(helo="mx1.shop.example", envelope_domain="bounces.shop.example")
    [step] = steps([_attempt(550, "5.7.1 SPF check failed for the sender")], facts)
    assert "`mailfate doctor domain bounces.shop.example`" in step.meaning


def test_an_spf_failure_of_the_helo_identity_blames_the_helo() -> None:
    text = (
        "5.7.23 Message rejected due to: SPF fail - not authorized. Please see "
        "http://www.openspf.net/Why?s=helo;id=box.lan;ip=192.0.2.7;r=<UNKNOWN>"
    )
    meaning = explain(_attempt(550, text)).meaning
    assert (
        "the HELO name 'box.lan'" in meaning and "envelope (VERP) domain" not in meaning.split("at fault")[1]
    )


def test_facts_the_attempt_recorded_come_before_the_settings() -> None:
    event = _attempt(*HELO_REPLY[:1], "5.5.2 Helo command rejected: Host not found", helo="box.lan")
    meaning = explain(event, SenderFacts(helo="configured.example")).meaning
    assert "'box.lan'" in meaning and "configured.example" not in meaning


def test_a_blocklisted_ip_blames_our_ip_and_a_dead_mailbox_the_recipient() -> None:
    listed = explain(
        _attempt(554, "5.7.1 Service unavailable; Client host [198.51.100.4] blocked using zen.spamhaus.org")
    )
    assert "at fault: our side, the sending IP '198.51.100.4'" in listed.meaning
    dead = explain(_attempt(550, "5.1.1 <kim@example.org>: Recipient address rejected: User unknown"))
    assert "at fault: the recipient's side, the address 'kim@example.org'" in dead.meaning


def test_an_old_event_without_a_cause_is_read_from_its_reason_and_words() -> None:
    data = {"outcome": "bounced", "code": 504, "text": HELO_REPLY[1], "reason": "blocked"}
    meaning = explain(Event(1, "m1", 1, "kim@example.org", NOW, "attempt", data)).meaning
    assert "the HELO name 'localhost'" in meaning


def test_greylisting_and_delivery_blame_no_one() -> None:
    grey = explain(
        _attempt(450, "4.2.0 <kim@example.org>: Recipient address rejected: Greylisted, see https://postgrey")
    )
    assert "no one is at fault" in grey.meaning
    ok = explain(_attempt(250, "2.0.0 Ok: queued as ABC"))
    assert "at fault" not in ok.meaning


def test_the_korean_sentences_keep_step_with_the_english() -> None:
    assert set(FAULT_KO) == set(FAULT) == set(PARTY.values())

    def holes(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for party, english in FAULT.items():
        assert holes(FAULT_KO[party]) == holes(english), party
    korean = fault("ko", "", "authfailure", SPF_REPLY[1])
    assert "`mailfate doctor domain bounces.app.example`" in korean
    assert re.search(r"[가-힣]", korean)
    assert fault("ko", "spf-fail", "authfailure", "SPF fail").count("<VERP 도메인>") == 1
