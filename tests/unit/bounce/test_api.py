from __future__ import annotations

from pathlib import Path

from mailfate.bounce.api import clean_address, parse_bounce, split_mbox

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "bounces"


def test_clean_address() -> None:
    assert clean_address("rfc822; <Kim@Example.org>") == "Kim@Example.org"
    assert clean_address("<park@example.org>.") == "park@example.org"
    assert clean_address("no address") == "no address"


def test_mbox_with_two_bounces_gives_both_in_order() -> None:
    one = (EXAMPLES / "postfix-user-unknown.eml").read_bytes()
    two = (EXAMPLES / "exim-mailbox-full.eml").read_bytes()
    mbox = (
        b"From MAILER-DAEMON  Mon Nov 23 00:14:07 2026\n" + one + b"\n"
        b"From MAILER-DAEMON  Tue Nov 24 10:02:44 2026\n" + two
    )
    assert len(split_mbox(mbox)) == 2
    got = parse_bounce(mbox)
    assert [r.recipient for r in got] == ["no-such-person@example.org", "park@example.org"]


def test_body_line_starting_with_from_does_not_split() -> None:
    mail = b"From MAILER-DAEMON  Mon Nov 23 00:14:07 2026\nSubject: x\n\nFrom here on, nothing.\n"
    assert split_mbox(mail) == [mail]


def test_non_mbox_is_one_message() -> None:
    raw = (EXAMPLES / "not-a-bounce.eml").read_bytes()
    assert split_mbox(raw) == [raw]
    assert parse_bounce(raw) == []


def test_clean_host() -> None:
    from mailfate.bounce.api import clean_host

    assert clean_host("dns; MX1.Example.org.") == "mx1.example.org"
    assert clean_host("mx.example.jp. (192.0.2.7, the server for the domain example.jp.)") == "mx.example.jp"
    assert clean_host("[192.0.2.9]") == "192.0.2.9"
    assert clean_host("") == ""


def test_envelope_sender_of_the_returned_message() -> None:
    # The Exim example quotes the returned message with its Return-path: that wins.
    (rec,) = parse_bounce((EXAMPLES / "exim-mailbox-full.eml").read_bytes())
    assert rec.original_envelope_sender == "bounces+9c21@example.net"
    # Without a Return-Path in the copy, the address the bounce was delivered to is the sender.
    raw = (EXAMPLES / "naver-ip-blocked.eml").read_bytes()
    (rec,) = parse_bounce(raw)
    assert rec.original_envelope_sender == "bounces+a1b2@mta1.example.net"


def test_complaints_and_auto_replies_do_not_guess_an_envelope_sender() -> None:
    (rec,) = parse_bounce((EXAMPLES / "out-of-office.eml").read_bytes())
    assert rec.original_envelope_sender == ""
