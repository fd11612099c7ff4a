"""Reply texts the development corpus lacks but real servers send: the rules must still place them."""

from __future__ import annotations

import pytest

from mailfate.bounce.classify import classify_reply, default_classifier


@pytest.mark.parametrize(
    "text",
    [
        "550 Invalid address <nobody@example.org>",
        "550 <nobody@example.org>: Recipient address rejected: invalid user",
        "550 nobody@example.org: no mailbox by that name is currently available",
        "550 Mailbox not present",
        "550 User nobody@example.org was not found",
        "550 Recipient nobody@example.org was not found in the directory",
        "553 sorry, your envelope recipient has been denied",
        "550 vdeliver: Invalid or unknown virtual user 'nobody'",
        "550 Recipient not OK",
    ],
)
def test_unknown_recipient_wording_at_rcpt(text: str) -> None:
    verdict = default_classifier().classify_reply("550", None, text, command="RCPT")
    assert str(verdict.reason) == "userunknown"
    assert verdict.hardbounce


@pytest.mark.parametrize(
    "text",
    [
        "554 The user's email name is not found",
        "554 Recipient nobody@example.org does not exist",
        "550 No mailbox found",
    ],
)
def test_unknown_recipient_wording_after_data_is_a_filter(text: str) -> None:
    verdict = default_classifier().classify_reply("554", None, text, command="DATA")
    assert str(verdict.reason) == "filtered"


def test_unknown_domain_at_rcpt_is_not_an_unknown_user() -> None:
    verdict = default_classifier().classify_reply(
        "550",
        None,
        "<nobody@example.invalid>: Recipient address rejected: unknown domain name",
        command="RCPT",
    )
    assert str(verdict.reason) == "hostunknown"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("554 Throttling failure: Daily message quota exceeded.", "toomanyconn"),
        ("454 Throttling failure: Maximum sending rate exceeded.", "toomanyconn"),
        ("552 5.2.2 Mailbox quota exceeded", "mailboxfull"),
        ("550 Message rejected by mx.example.org (SPAM)", "spamdetected"),
        ("554 Your message may contain the spam contents", "spamdetected"),
        ("550 The content of this message looked like spam", "spamdetected"),
        ("450 Greylisted, please try again in 300 seconds", "spamdetected"),
        ("550 IP 192.0.2.1 is blocked by the receiving network", "blocked"),
        ("554 Mail from 192.0.2.1 refused: see https://www.example.org/rbl", "blocked"),
        ("550 Your access IP 192.0.2.1 has been rejected", "blocked"),
        (
            "553 Connection rejected because the sending MTA or the sender has not passed validation",
            "blocked",
        ),
        ("550 5.4.1 Host unreachable", "hostunknown"),
        ("550 Requested action not taken: mailbox unavailable (not enough free space)", "systemfull"),
        ("521 Service not available", "notaccept"),
        ("556 Domain does not accept mail", "notaccept"),
        ("524 Encryption required", "failedstarttls"),
        ("538 5.7.11 Encryption required for requested authentication mechanism", "failedstarttls"),
        (
            "553 sorry, you don't authenticate or the domain isn't in my list of allowed rcpthosts (#5.7.1)",
            "securityerror",
        ),
        ("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", "norelaying"),
        ("421 Too many connections, slow down", "toomanyconn"),
        ("421 Please slow down and try again later", "speeding"),
        ("554 5.7.1 Please set up a reverse DNS (PTR) record for your IP address", "requireptr"),
        ("550 5.7.1 Reverse DNS validation failed", "requireptr"),
        ("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked by RBL", "blocked"),
        ("554 IP address blacklisted", "blocked"),
        ("550 This message scored 12.5 points and has been rejected", "spamdetected"),
        ("554 No SMTP service here", "notaccept"),
        ("550 This account has been temporarily suspended", "suspend"),
        (
            "maildir delivery failed: Sorry, the user's maildir has overdrawn his diskspace quota, "
            "please try again later.",
            "mailboxfull",
        ),
    ],
)
def test_common_reply_texts(reply: str, reason: str) -> None:
    assert str(classify_reply(reply).reason) == reason


def test_x11_code_keeps_unknown_recipient() -> None:
    # The same wording with an x.1.1 code and no command: still the unknown recipient.
    assert str(
        classify_reply("550 5.1.1 <nobody@example.org>: Recipient address rejected: invalid user").reason
    ) == ("userunknown")


def test_postfix_queue_suspension_is_not_an_account_suspension() -> None:
    verdict = classify_reply(
        "delivery temporarily suspended: connect to mx.example.org[192.0.2.1]:25: Connection refused"
    )
    assert str(verdict.reason) != "suspend"
    assert not verdict.hardbounce
