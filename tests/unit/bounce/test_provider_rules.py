"""The provider reply rules (data/bounce_rules/30-providers.toml) on realistic replies."""

from __future__ import annotations

import pytest

from mailfate.bounce.classify import default_classifier
from mailfate.bounce.rules import Rule

# A remote host of each provider, for rules keyed on the remote MTA.
HOSTS = {
    "google": "gmail-smtp-in.l.google.com",
    "microsoft": "example-org.mail.protection.outlook.com",
    "outlook": "mx1.hotmail.com",
    "yahoo": "mta7.am0.yahoodns.net",
    "godaddy": "smtp.secureserver.net",
    "tencent": "mx3.qq.com",
    "mimecast": "eu-smtp-inbound-1.mimecast.com",
    "nttdocomo": "mfsmax.docomo.ne.jp",
}


def _provider_rules() -> list[Rule]:
    return [r for r in default_classifier().rules if r.origin == "30-providers.toml"]


def _classify(reply: str, remote: str = "", command: str = "", reporting: str = "") -> tuple[str, bool, str]:
    c = default_classifier().classify_reply(
        reply, remote_mta=remote, command=command, reporting_mta=reporting
    )
    return str(c.reason), c.hardbounce, c.rule_id


def test_every_provider_rule_cites_a_source() -> None:
    rules = _provider_rules()
    assert len(rules) > 40
    for rule in rules:
        assert rule.source.startswith("https://"), rule.id
        assert rule.examples, rule.id
        if rule.remote is not None:
            assert rule.remote.search(str(rule.raw.get("example_remote", ""))), rule.id


@pytest.mark.parametrize("rule", _provider_rules(), ids=lambda r: r.id)
def test_each_example_reaches_its_rule(rule: Rule) -> None:
    remote = str(rule.raw.get("example_remote", "")) if rule.remote is not None else ""
    reporting = str(rule.raw.get("example_remote", "")) if rule.reporting is not None else ""
    command = rule.command[0] if rule.command else ""
    for example in rule.examples:
        reason, _hard, rule_id = _classify(example, remote, command, reporting)
        assert (rule_id, reason) == (rule.id, str(rule.reason)), example


@pytest.mark.parametrize(
    ("reply", "remote", "reason", "hard"),
    [
        (
            "550-5.2.1 The email account that you tried to reach is inactive. For more 550-5.2.1 information,"
            " go to 550 5.2.1 https://support.google.com/mail/?p=DisabledUser x1-2 - gsmtp",
            "aspmx.l.google.com",
            "suspend",
            False,
        ),
        (
            "550-5.7.26 This mail has been blocked because the sender is unauthenticated. 550-5.7.26 Gmail "
            "requires all senders to authenticate with either SPF or DKIM. - gsmtp",
            "gmail-smtp-in.l.google.com",
            "authfailure",
            False,
        ),
        (
            "550-5.7.25 [192.0.2.1] The IP address sending this message does not have a "
            "550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not point "
            "to the sending IP. - gsmtp",
            "gmail-smtp-in.l.google.com",
            "requireptr",
            False,
        ),
        (
            "550 5.4.1 [nobody@example.org]: Recipient address rejected: Access denied "
            "[AM0PR01MB0001.eurprd01.prod.protection.outlook.com]",
            "example-org.mail.protection.outlook.com",
            "userunknown",
            True,
        ),
        (
            "550 Ip frequency limited. http://service.mail.qq.com/cgi-bin/help",
            "mx3.qq.com",
            "toomanyconn",
            False,
        ),
        ("550 DMARC check failed.", "mx3.qq.com", "authfailure", False),
        (
            "550 5.5.0 Le compte du destinataire est bloque. The recipient account is blocked. LPN007_426",
            "smtpz4.laposte.net",
            "suspend",
            False,
        ),
        (
            "421 4.2.0 Service refuse. Veuillez essayer plus tard. Service refused, please try later. "
            "OFR005_505 [505]",
            "smtp-in.orange.fr",
            "systemerror",
            False,
        ),
        (
            "550 5.1.0 <bounce@example.net> sender rejected. Refer to Error Codes section at "
            "https://www.cox.com/residential/support/email-error-codes.html for more information. AUP#CDRBL",
            "cxr.mx.a.cloudfilter.net",
            "blocked",
            False,
        ),
        (
            "550 5.1.1 RCP-P2 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#rcp Refused due to "
            "recipient preferences",
            "",
            "filtered",
            False,
        ),
        (
            "550 5.1.1 RCP-P1 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#rcp "
            "Recipient address does not exist",
            "",
            "userunknown",
            True,
        ),
    ],
)
def test_provider_replies(reply: str, remote: str, reason: str, hard: bool) -> None:
    got_reason, got_hard, _rule = _classify(reply, remote)
    assert (got_reason, got_hard) == (reason, hard)


def test_remote_keyed_rule_needs_the_provider_host() -> None:
    reply = "550 5.2.1 The email account that you tried to reach is disabled."
    assert _classify(reply, "aspmx.l.google.com")[2] == "google.suspend.disabled-account"
    assert _classify(reply, "mx.example.org")[2] != "google.suspend.disabled-account"


def test_docomo_unknown_user_after_data_is_rejected() -> None:
    reply = "550 Unknown user nobody@docomo.ne.jp"
    assert _classify(reply, "mfsmax.docomo.ne.jp", "DATA")[0] == "rejected"
    assert _classify(reply, "mfsmax.docomo.ne.jp", "RCPT")[2] != "nttdocomo.rejected.after-data"
