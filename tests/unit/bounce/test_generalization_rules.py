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
        "554 Recipient nobody@example.org does not exist",
        "550 No mailbox found",
        "550 Unknown user nobody@example.org",
    ],
)
def test_unknown_recipient_wording_after_data_is_a_dead_address(text: str) -> None:
    # A server that checks recipients only after DATA still says the address does not exist.
    verdict = default_classifier().classify_reply("554", None, text, command="DATA")
    assert (str(verdict.reason), verdict.hardbounce) == ("userunknown", True)


@pytest.mark.parametrize(
    "text",
    [
        "550 5.2.1 <nobody@example.org>... User unknown",
        "450 User unknown",
        "550 5.7.1 User unknown",
    ],
)
def test_unknown_wording_under_a_mailbox_policy_or_transient_code_is_not_hard(text: str) -> None:
    verdict = default_classifier().classify_reply(text, command="DATA")
    assert not verdict.hardbounce


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


# -- generic dead-address wording without a recovered SMTP command --------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        "550 No such user",
        "550 Unknown user",
        "550 5.1.10 Recipient not found",
        "550 Requested action not taken: mailbox unavailable",
        "550 <nobody@example.org> does not exist",
        "550 Sorry, no mailbox here by that name. (#5.1.1)",
        "550 user not found",
        "550 Invalid recipient",
        "550 Address rejected: unknown user",
        "550 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table",
        "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
        "Sorry, no mailbox here by that name. (#5.1.1)",
        "550 5.1.1 <nobody@example.org>... User unknown",
    ],
)
def test_dead_address_wording_is_userunknown_anywhere(reply: str) -> None:
    verdict = classify_reply(reply)
    assert (str(verdict.reason), verdict.hardbounce) == ("userunknown", True)
    if hasattr(verdict, "cause"):
        assert str(verdict.cause) == "mailbox-unknown"


@pytest.mark.parametrize(
    "reply",
    [
        "550 User unknown - blocked by policy",
        "550 No such user here; your IP is on our blocklist",
        "550 Unknown user (spam suspected)",
        "550 5.7.1 Mailbox unavailable",
        "550 Mailbox unavailable: rate limit exceeded for sender",
        "550 5.1.0 <s@example.net>: Sender address rejected: User unknown in local recipient table",
    ],
)
def test_a_policy_subject_wins_over_unknown_wording(reply: str) -> None:
    verdict = classify_reply(reply)
    assert not verdict.hardbounce
    assert str(verdict.reason) != "userunknown"


# -- never hard: policy, reputation, authentication, content, quota, EHLO, store driver -------------


@pytest.mark.parametrize(
    ("reply", "reason", "cause"),
    [
        ("521 Block permanently", "blocked", None),
        ("550 5.1.0 Sender denied", "rejected", "sender-rejected"),
        ("501 5.5.4 Invalid domain name", "blocked", "helo-invalid"),
        (
            "554 5.3.2 STOREDRV.Deliver: Missing or bad StoreDriver MDB properties",
            "systemerror",
            "server-error",
        ),
        ("554 5.3.2 System not accepting network messages", "systemerror", "server-error"),
        ("550 5.3.2 Service currently unavailable", "blocked", None),
        ("550 5.4.5 Daily user sending quota exceeded", "speeding", "sender-quota"),
        ("550 Submission quota exceeded", "speeding", "sender-quota"),
        ("554 5.7.1 Sending limit exceeded", "speeding", "sender-quota"),
        ("550 5.7.1 SPF check failed for example.org", "authfailure", "spf-fail"),
        ("550 5.7.27 The sender domain's SPF record does not permit this IP", "authfailure", "spf-fail"),
        ("550 5.7.1 DKIM signature verification failed", "authfailure", "dkim-fail"),
        ("550 5.7.1 Message failed DMARC alignment", "authfailure", "dmarc-policy"),
        ("550 5.7.27 Sender address has null MX", "rejected", "sender-rejected"),
        ("550 Sender address has null MX", "rejected", "sender-rejected"),
        ("550 5.7.1 Sender Policy Framework (SPF) fail for example.net", "authfailure", "spf-fail"),
        (
            "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.example.net",
            "blocked",
            None,
        ),
        ("450 4.2.1 Mailbox disabled, not accepting messages", "suspend", None),
        ("554 5.0.0 Service unavailable", "blocked", None),
        (
            "550-Verification failed for <s@example.net> 550-Unrouteable address 550 Sender verify failed",
            "rejected",
            None,
        ),
        ("550 Message rejected due to content filtering", "spamdetected", None),
        (
            "Host or domain name not found. Name service error for name=example.org type=MX: Host "
            "not found, try again",
            "networkerror",
            None,
        ),
        ("connect to mx.example.org[192.0.2.1]:25: Connection refused", "networkerror", None),
    ],
)
def test_refusals_that_are_not_dead_addresses(reply: str, reason: str, cause: str | None) -> None:
    verdict = classify_reply(reply)
    assert str(verdict.reason) == reason
    assert not verdict.hardbounce
    if cause is not None and hasattr(verdict, "cause"):
        assert str(verdict.cause) == cause


def test_spf_advice_in_a_spam_rejection_is_not_an_spf_failure() -> None:
    verdict = classify_reply(
        "550 Your message was rejected due to spam classification. Set up SPF records for your domain."
    )
    assert str(verdict.reason) == "spamdetected"


def test_ehlo_refusal_is_not_an_unknown_domain() -> None:
    verdict = default_classifier().classify_reply("501 5.5.4 Invalid domain name", command="EHLO")
    assert (str(verdict.reason), verdict.hardbounce) == ("blocked", False)


@pytest.mark.parametrize(
    ("reply", "reason", "hard"),
    [
        ("556 5.1.10 Recipient address has null MX", "notaccept", True),
        (
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            "userunknown",
            True,
        ),
        ("521 5.3.2 Host does not accept mail", "notaccept", True),
        ("Sorry, I couldn't find any host named example.invalid. (#5.1.2)", "hostunknown", True),
        ("Host unknown (Name server: example.invalid: host not found)", "hostunknown", True),
        ("Unrouteable address", "hostunknown", True),
        ("all relevant MX records point to non-existent hosts", "hostunknown", True),
        ("This message is looping: it already has my Delivered-To line. (#5.4.6)", "networkerror", False),
        ("mail for example.org loops back to myself", "networkerror", False),
        ("retry timeout exceeded", "expired", False),
        ("user is over quota (#5.2.2)", "mailboxfull", False),
        ("550 Mailbox quota exceeded", "mailboxfull", False),
        ("552 5.3.4 Message size exceeds fixed limit", "mesgtoobig", False),
        ("452 4.3.1 Insufficient system storage", "systemfull", False),
        ("554 5.7.1 <nobody@example.net>: Relay access denied", "norelaying", False),
        ("504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname", "blocked", False),
        (
            "450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]",
            "requireptr",
            False,
        ),
        ("553 <s@example.invalid>: Sender address rejected: Domain not found", "rejected", False),
        ("550 5.1.2 <u@example.invalid>: Recipient address rejected: Domain not found", "hostunknown", True),
    ],
)
def test_mta_default_texts(reply: str, reason: str, hard: bool) -> None:
    verdict = classify_reply(reply)
    assert (str(verdict.reason), verdict.hardbounce) == (reason, hard)
