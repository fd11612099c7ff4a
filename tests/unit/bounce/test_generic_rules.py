"""The generic reply-text rules (50-text.toml) and the status rules (90-status.toml).

Each case is a reply written by hand in the shape real servers use; the rule that must decide is
named, so a reordering that changes the meaning shows up here.
"""

from __future__ import annotations

from importlib import resources

import pytest

from mailfate.bounce.classify import Classifier, default_classifier
from mailfate.bounce.rulecheck import check_rules
from mailfate.bounce.rules import load_rule_files
from mailfate.model.reasons import Reason

FILES = [
    resources.files("mailfate").joinpath("data", "bounce_rules", name)
    for name in ("50-text.toml", "90-status.toml")
]


@pytest.fixture(scope="module")
def generic() -> Classifier:
    """Only the generic files, so provider and MTA rules cannot answer first."""
    return Classifier(load_rule_files(FILES))


CASES: list[tuple[str, str, str, Reason, bool]] = [
    # reply, command, expected rule id, reason, hard
    (
        "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown",
        "",
        "text.userunknown.at-rcpt",
        Reason.USERUNKNOWN,
        True,
    ),
    (
        "550 Requested action not taken: mailbox unavailable",
        "RCPT",
        "text.userunknown.rcpt-command",
        Reason.USERUNKNOWN,
        True,
    ),
    ("550 User unknown", "DATA", "text.userunknown.phrase", Reason.USERUNKNOWN, True),
    ("550 User unknown", "", "text.userunknown.phrase", Reason.USERUNKNOWN, True),
    ("550 No such user", "", "text.userunknown.phrase", Reason.USERUNKNOWN, True),
    ("550 <x@example.org> does not exist", "", "text.userunknown.phrase-pattern", Reason.USERUNKNOWN, True),
    ("550 5.2.0 User unknown", "DATA", "text.filtered.unknown-after-data", Reason.FILTERED, False),
    ("450 User unknown", "", "text.filtered.unknown-without-context", Reason.FILTERED, False),
    ("550 5.7.1 User unknown", "", "text.filtered.unknown-without-context", Reason.FILTERED, False),
    (
        "550 User unknown, blocked by policy",
        "",
        "text.filtered.unknown-without-context",
        Reason.FILTERED,
        False,
    ),
    (
        "550 5.1.10 Recipient not found",
        "",
        "code.userunknown.x110-recipient-not-found",
        Reason.USERUNKNOWN,
        True,
    ),
    ("550 5.4.5 Daily user sending quota exceeded", "", "text.speeding.sender-quota", Reason.SPEEDING, False),
    (
        "550 5.7.27 Sender address has null MX",
        "",
        "code.rejected.x727-sender-null-mx",
        Reason.REJECTED,
        False,
    ),
    ("550 5.7.27 SPF check did not pass", "", "code.authfailure.x727-spf", Reason.AUTHFAILURE, False),
    ("550 5.7.23 SPF validation failed", "", "code.authfailure.x723-spf", Reason.AUTHFAILURE, False),
    (
        "550 5.7.20 No passing DKIM signature found",
        "",
        "code.authfailure.x720-dkim",
        Reason.AUTHFAILURE,
        False,
    ),
    ("550 5.7.1 SPF fail for example.org", "", "text.authfailure.spf", Reason.AUTHFAILURE, False),
    ("550 5.7.1 DKIM verification failed", "", "text.authfailure.dkim", Reason.AUTHFAILURE, False),
    ("521 Block permanently", "", "text.blocked.block-word", Reason.BLOCKED, False),
    ("550 5.1.0 Sender denied", "", "text.rejected.sender", Reason.REJECTED, False),
    (
        "554 5.3.2 STOREDRV.Deliver: store error",
        "",
        "text.systemerror.store-driver",
        Reason.SYSTEMERROR,
        False,
    ),
    ("450 4.2.1 Mailbox temporarily disabled", "", "status.4.2.1-mailbox-disabled", Reason.SUSPEND, False),
    ("552 5.2.2 <x@example.org>: user is over quota", "", "code.mailboxfull.x22", Reason.MAILBOXFULL, False),
    ("550 5.1.1 Mailbox is full", "RCPT", "text.mailboxfull.quota", Reason.MAILBOXFULL, False),
    ("552 5.3.4 Error: message file too big", "", "code.mesgtoobig.x34", Reason.MESGTOOBIG, False),
    (
        "554 5.7.1 <x@example.net>: Relay access denied",
        "RCPT",
        "text.norelaying.denied",
        Reason.NORELAYING,
        False,
    ),
    (
        "550 5.7.1 Email rejected per DMARC policy for example.org",
        "",
        "text.authfailure.dmarc",
        Reason.AUTHFAILURE,
        False,
    ),
    (
        "550 5.7.26 Unauthenticated email is not accepted",
        "",
        "code.authfailure.x72x",
        Reason.AUTHFAILURE,
        False,
    ),
    (
        "550 5.7.1 Client host rejected: cannot find your hostname",
        "",
        "text.requireptr.reverse-dns",
        Reason.REQUIREPTR,
        False,
    ),
    (
        "550 5.7.1 Messages with multiple addresses in From: header are not accepted",
        "",
        "text.notcompliantrfc.multiple-headers",
        Reason.NOTCOMPLIANTRFC,
        False,
    ),
    (
        "501 5.1.8 <s@example.invalid>: Sender address rejected: Domain not found",
        "MAIL",
        "code.rejected.x17",
        Reason.REJECTED,
        False,
    ),
    (
        "550 5.7.1 <s@example.net>: Sender address rejected: Access denied",
        "MAIL",
        "text.rejected.sender",
        Reason.REJECTED,
        False,
    ),
    ("550 Host unknown", "", "text.hostunknown.domain", Reason.HOSTUNKNOWN, True),
    ("554 5.7.1 Message rejected as spam", "DATA", "text.spamdetected.filter", Reason.SPAMDETECTED, False),
    ("451 4.7.1 Please try again slower", "", "text.speeding.rate", Reason.SPEEDING, False),
    (
        "421 4.7.0 Too many concurrent SMTP connections",
        "",
        "text.toomanyconn.concurrency",
        Reason.TOOMANYCONN,
        False,
    ),
    (
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        "RCPT",
        "text.blocked.client",
        Reason.BLOCKED,
        False,
    ),
    ("450 4.7.1 Try again later", "", "code.blocked.x471", Reason.BLOCKED, False),
    (
        "554 Message not accepted for policy reasons",
        "DATA",
        "text.policyviolation.policy",
        Reason.POLICYVIOLATION,
        False,
    ),
    (
        "554 5.7.0 Virus detected: Eicar-Test-Signature",
        "DATA",
        "text.virusdetected.scanner",
        Reason.VIRUSDETECTED,
        False,
    ),
    (
        "451 4.3.0 Temporary local problem - please try later",
        "",
        "text.systemerror.remote-system",
        Reason.SYSTEMERROR,
        False,
    ),
    ("No route to host", "", "text.networkerror.routing", Reason.NETWORKERROR, False),
    ("550 5.1.10 Recipient address has null MX", "", "text.notaccept.nullmx", Reason.NOTACCEPT, True),
    ("421 4.3.2 The domain does not accept mail", "", "text.notaccept.nullmx", Reason.NOTACCEPT, False),
    ("Connection timed out", "", "text.expired.retry", Reason.EXPIRED, False),
    (
        "530 5.7.0 Must issue a STARTTLS command first",
        "",
        "text.failedstarttls.tls",
        Reason.FAILEDSTARTTLS,
        False,
    ),
    ("530 5.7.0 Authentication required", "", "text.securityerror.auth", Reason.SECURITYERROR, False),
    (
        "Command died with status 1: /usr/bin/procmail",
        "",
        "text.mailererror.program",
        Reason.MAILERERROR,
        False,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[2] + ":" + c[0][:30] for c in CASES])
def test_reply_reaches_rule(generic: Classifier, case: tuple[str, str, str, Reason, bool]) -> None:
    reply, command, rule_id, reason, hard = case
    got = generic.classify_reply(reply, command=command)
    assert (got.rule_id, got.reason, got.hardbounce) == (rule_id, reason, hard)


STATUS_CASES: list[tuple[str, Reason]] = [
    ("5.1.2", Reason.HOSTUNKNOWN),
    ("5.1.6", Reason.HASMOVED),
    ("5.1.10", Reason.NOTACCEPT),
    ("5.2.1", Reason.FILTERED),
    ("4.3.1", Reason.SYSTEMFULL),
    ("5.3.2", Reason.SYSTEMERROR),
    ("4.3.2", Reason.SYSTEMERROR),
    ("4.2.1", Reason.SUSPEND),
    ("5.2.1", Reason.FILTERED),
    ("5.1.4", Reason.FILTERED),
    ("5.4.1", Reason.NETWORKERROR),
    ("5.5.1", Reason.SYNTAXERROR),
    ("5.5.4", Reason.SYSTEMERROR),
    ("5.7.2", Reason.SECURITYERROR),
    ("5.7.8", Reason.SECURITYERROR),
    ("5.7.10", Reason.FAILEDSTARTTLS),
    ("5.7.16", Reason.MESGTOOBIG),
    ("5.7.18", Reason.HASMOVED),
    ("5.7.30", Reason.FAILEDSTARTTLS),
    ("4.4.1", Reason.EXPIRED),
    ("4.4.2", Reason.NETWORKERROR),
    ("5.4.4", Reason.HOSTUNKNOWN),
    ("5.5.3", Reason.TOOMANYCONN),
    ("5.6.1", Reason.CONTENTERROR),
    ("5.7.13", Reason.SUSPEND),
    ("5.7.17", Reason.HASMOVED),
    ("5.7.28", Reason.SPAMDETECTED),
]


@pytest.mark.parametrize(("status", "reason"), STATUS_CASES)
def test_status_rules(generic: Classifier, status: str, reason: Reason) -> None:
    code = "450" if status.startswith("4") else "550"
    got = generic.classify_reply(code, status, "")
    assert got.reason is reason
    assert got.rule_id.startswith("status.")


def test_text_beats_a_weaker_status(generic: Classifier) -> None:
    got = generic.classify_reply("550", "5.7.1", "Relay access denied")
    assert got.reason is Reason.NORELAYING


def test_syntax_reply_code_without_status(generic: Classifier) -> None:
    got = generic.classify_reply("503 Improper sequence of commands")
    assert (got.reason, got.rule_id) == (Reason.SYNTAXERROR, "status.reply-syntax")


def test_refusal_at_ehlo_is_blocked(generic: Classifier) -> None:
    got = generic.classify_reply("554 Service unavailable", command="EHLO")
    assert got.reason is Reason.BLOCKED


def test_every_example_reaches_its_rule(generic: Classifier) -> None:
    report = check_rules(generic)
    assert report.problems == []
    assert report.examples_ok == report.examples > 60


def test_packaged_rules_keep_generic_examples() -> None:
    report = check_rules(default_classifier())
    mine = [p for p in report.problems if "50-text.toml" in p or "90-status.toml" in p]
    assert mine == []


def test_rfc7504_521_with_532_is_a_host_that_takes_no_mail(generic: Classifier) -> None:
    got = generic.classify_reply("521", "5.3.2", "")
    assert (got.reason, got.hardbounce) == (Reason.NOTACCEPT, True)


def test_x727_is_never_the_recipients_notaccept(generic: Classifier) -> None:
    for text in ("", "SPF validation did not pass", "Sender address has null MX"):
        got = generic.classify_reply("550", "5.7.27", text)
        assert got.reason is not Reason.NOTACCEPT
        assert not got.hardbounce


def test_x471_rule_is_exact(generic: Classifier) -> None:
    assert generic.classify_reply("450", "4.2.1", "Try again later").rule_id != "code.blocked.x471"
    assert generic.classify_reply("450", "4.7.10", "Try again later").rule_id != "code.blocked.x471"


@pytest.mark.parametrize(
    "status",
    [
        "5.7.0",
        "5.7.1",
        "5.7.2",
        "5.7.8",
        "5.7.13",
        "5.7.23",
        "5.7.26",
        "5.7.27",
        "5.7.28",
        "5.3.2",
        "5.2.1",
        "5.5.4",
    ],
)
def test_policy_and_system_codes_are_never_hard(generic: Classifier, status: str) -> None:
    for text in ("", "User unknown", "Mailbox unavailable"):
        assert not generic.classify_reply("550", status, text).hardbounce
