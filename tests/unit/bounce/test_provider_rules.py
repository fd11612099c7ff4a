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
        assert rule.source.startswith(("https://", "http://")), rule.id
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
            "userunknown",  # directory-based edge blocking: no such recipient in the tenant
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
    reply = "550 5.7.1 Email quota exceeded."
    assert _classify(reply, "aspmx.l.google.com")[2] == "google.mailboxfull.quota-remote"
    assert _classify(reply, "mx.example.org")[2] != "google.mailboxfull.quota-remote"
    assert _classify(reply)[2] != "google.mailboxfull.quota-remote"


def test_docomo_unknown_user_after_data_is_rejected() -> None:
    reply = "550 Unknown user nobody@docomo.ne.jp"
    assert _classify(reply, "mfsmax.docomo.ne.jp", "DATA")[0] == "rejected"
    assert _classify(reply, "mfsmax.docomo.ne.jp", "RCPT")[2] != "nttdocomo.rejected.after-data"


# -- Published replies, classified from their text alone (no remote host) -------------------------
# Each row: a reply as the provider's page (or Sisimai's Rhost table) documents it, the reason, the
# finer cause and whether it is a hard bounce. Only a dead address is hard.

PUBLISHED = [
    # Google: Gmail SMTP errors and codes, sender guidelines
    (
        "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 "
        "double-checking the recipient's email address for typos or 550 5.1.1 unnecessary spaces. x1 - gsmtp",
        "userunknown",
        "mailbox-unknown",
        True,
    ),
    (
        "553 5.1.2 We weren't able to find the recipient domain. Please check for any spelling errors.",
        "hostunknown",
        "domain-unknown",
        True,
    ),
    (
        "553 5.1.3 The recipient address <a@@example.org> is not a valid RFC 5321 address. - gsmtp",
        "userunknown",
        "mailbox-unknown",
        True,
    ),
    (
        "550 5.2.1 The email account that you tried to reach is inactive. - gsmtp",
        "suspend",
        "mailbox-disabled",
        False,
    ),
    (
        "452 4.2.2 The recipient's inbox is out of storage space. - gsmtp",
        "mailboxfull",
        "mailbox-full",
        False,
    ),
    (
        "550 5.7.27 This mail has been blocked because SPF does not pass. Gmail requires all large senders "
        "to authenticate with SPF. - gsmtp",
        "authfailure",
        "spf-fail",
        False,
    ),
    (
        "421 4.7.27 Your email has been rate limited because SPF authentication didn't pass for "
        "this message.",
        "authfailure",
        "spf-fail",
        False,
    ),
    (
        "550 5.7.30 This mail has been blocked because DKIM does not pass. Gmail requires all large senders "
        "to authenticate with DKIM.",
        "authfailure",
        "dkim-fail",
        False,
    ),
    (
        "421 4.7.32 Your email has been rate limited because the From: header (RFC5322) in this "
        "message isn't "
        "aligned with either the authenticated SPF or DKIM organizational domain.",
        "authfailure",
        "dmarc-policy",
        False,
    ),
    (
        "550 5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all "
        "senders to authenticate with either SPF or DKIM.",
        "authfailure",
        "auth-fail",
        False,
    ),
    (
        "451 4.7.24 The SPF record of the sending domain has one or more suspicious entries.",
        "authfailure",
        "spf-fail",
        False,
    ),
    (
        "421 4.7.29 Your email has been rate limited because this message wasn't sent over a TLS connection.",
        "failedstarttls",
        "tls-required",
        False,
    ),
    (
        "421 4.7.23 The sending IP address for this message doesn't have a PTR record, or the PTR record's "
        "forward DNS entry doesn't match the sending IP address.",
        "requireptr",
        "no-ptr",
        False,
    ),
    ("550 5.4.5 Daily sending quota exceeded. - gsmtp", "speeding", "sender-quota", False),
    ("550 5.4.5 Daily user sending limit exceeded.", "speeding", "sender-quota", False),
    (
        "450 4.2.1 Peak SMTP relay limit exceeded for customer. This is a temporary error.",
        "speeding",
        "sender-quota",
        False,
    ),
    (
        "450 4.2.1 The user you are trying to contact is receiving mail too quickly.",
        "speeding",
        "rate-limited",
        False,
    ),
    (
        "421 4.7.28 Gmail has detected an unusual rate of mail originating from your IP address.",
        "blocked",
        "rate-limited",
        False,
    ),
    (
        "550 5.7.1 Our system has detected that this message is likely unsolicited mail. - gsmtp",
        "spamdetected",
        "spam-content",
        False,
    ),
    (
        "550 5.7.1 The IP you're using to send mail is not authorized to send email directly to our servers.",
        "norelaying",
        "relay-denied",
        False,
    ),
    (
        "550 5.7.0 Mail Sending denied. This error occurs if the sender account is disabled.",
        "rejected",
        "sender-rejected",
        False,
    ),
    (
        "550 5.7.1 The user or domain that you are sending to (or from) has a policy that "
        "prohibited the mail "
        "that you sent.",
        "policyviolation",
        "content-policy",
        False,
    ),
    ("421 4.3.0 Temporary System Problem. Try again later. - gsmtp", "systemerror", "server-error", False),
    # Microsoft: Exchange Online NDRs, Outlook.com postmaster
    (
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
        "userunknown",
        "mailbox-unknown",
        True,
    ),
    ("550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found", "userunknown", "mailbox-unknown", True),
    (
        "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). "
        "[BN1NAM02FT035.eop-nam02.prod.protection.outlook.com]",
        "userunknown",
        "mailbox-unknown",
        True,
    ),
    (
        "550 5.4.1 Relay Access Denied ATTR35 [AM0EUR01FT001.eop-eur01.prod.protection.outlook.com]",
        "norelaying",
        "relay-denied",
        False,
    ),
    (
        "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
        "userunknown",  # Microsoft's 5.4.1 page: DBEB refused an invalid recipient address
        "mailbox-unknown",
        True,
    ),
    ("550 5.2.2 Submission quota exceeded", "speeding", "sender-quota", False),
    ("550 5.7.606 Access denied, banned sending IP [192.0.2.1].", "blocked", "ip-blocklisted", False),
    (
        "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your "
        "Internet service "
        "provider since part of their network is on our block list (S3150).",
        "blocked",
        "ip-blocklisted",
        False,
    ),
    (
        "550 SC-001 (BAY004-MC4F49) Unfortunately, messages from 192.0.2.1 weren't sent.",
        "blocked",
        "ip-reputation",
        False,
    ),
    ("550 5.7.708 Access denied, traffic not accepted from this IP.", "speeding", "ip-reputation", False),
    (
        "550 5.7.509 Access denied, sending domain example.org does not pass DMARC verification and has a "
        "DMARC policy of reject.",
        "authfailure",
        "dmarc-policy",
        False,
    ),
    ("550 5.7.510 Access denied, example.org does not accept email over IPv6", "blocked", "blocked", False),
    (
        "550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains.",
        "rejected",
        "sender-rejected",
        False,
    ),
    ("550 5.7.12 Sender was not authenticated by organization", "rejected", "recipient-filter", False),
    (
        "550 5.7.133 RESOLVER.RST.SenderNotAuthenticatedForGroup; authentication required",
        "rejected",
        "recipient-filter",
        False,
    ),
    (
        "451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (AS761)",
        "blocked",
        "ip-reputation",
        False,
    ),
    (
        "451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP "
        "reputation. (S775)",
        "badreputation",
        "ip-reputation",
        False,
    ),
    ("550 5.7.505 Access denied, banned recipient", "suspend", "mailbox-disabled", False),
    ("550 5.7.901 Delivery not authorized, message refused.", "policyviolation", "policy", False),
    # Yahoo / AOL: Sender Hub SMTP error codes
    (
        "554 delivery error: dd This user doesn't have a yahoo.com account (nobody@yahoo.com) [0]",
        "userunknown",
        "mailbox-unknown",
        True,
    ),
    ("552 1 Requested mail action aborted, mailbox not found", "userunknown", "mailbox-unknown", True),
    ("552 1 Requested mail action aborted, mailbox full", "mailboxfull", "mailbox-full", False),
    (
        "554 delivery error: dd nobody@yahoo.com is no longer valid. [-20]",
        "suspend",
        "mailbox-disabled",
        False,
    ),
    (
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user "
        "complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        "rejected",
        "rate-limited",
        False,
    ),
    (
        "553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; Retrying will "
        "NOT succeed.",
        "rejected",
        "retry-forbidden",
        False,
    ),
    (
        "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.1, because the ip is in "
        "Spamhaus's list",
        "blocked",
        "ip-blocklisted",
        False,
    ),
    (
        "554 5.7.9 Message not accepted for policy reasons. See https://postmaster.yahooinc.com/error-codes",
        "policyviolation",
        "policy",
        False,
    ),
    # Apple iCloud
    ("550 5.1.1 <nobody@icloud.com>: user does not exist", "userunknown", "mailbox-unknown", True),
    ("550 5.1.1 <nobody@icloud.com>: inactive email address", "suspend", "mailbox-disabled", False),
    (
        "554 5.7.1 [HM08] Message rejected due to local policy. Please visit "
        "https://support.apple.com/en-us/HT204137",
        "policyviolation",
        "policy",
        False,
    ),
    (
        "554 5.7.1 Your message was rejected due to example.org's DMARC policy. See "
        "https://support.apple.com/en-us/HT204137",
        "authfailure",
        "dmarc-policy",
        False,
    ),
    (
        "421 4.7.1 Messages to nobody@icloud.com deferred due to excessive volume. Try again later",
        "speeding",
        "rate-limited",
        False,
    ),
    # Zoho, Comcast, SES, GMX
    ("550 5.1.1 User does not exist - <nobody@zoho.com>", "userunknown", "mailbox-unknown", True),
    (
        "554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam.",
        "spamdetected",
        "spam-content",
        False,
    ),
    (
        "554 resimta-ch2-18v.sys.comcast.net comcast 192.0.2.1 found on one or more DNSBLs, see "
        "http://postmaster.comcast.net/smtp-error-codes.php#BL000001",
        "blocked",
        "ip-blocklisted",
        False,
    ),
    (
        "421 resimta-ch2-18v.sys.comcast.net comcast 192.0.2.1 Too many emails per connection. Please see "
        "http://postmaster.comcast.net/smtp-error-codes.php#RL000001",
        "speeding",
        "rate-limited",
        False,
    ),
    ("554 Message rejected: Sending paused for this account.", "rejected", "sender-rejected", False),
    (
        "554-gmx.net (mxgmx104) Nemesis ESMTP Service not available 554-No SMTP service 554-IP address is "
        "block listed. 554 For explanation visit https://postmaster.gmx.net/en/case?c=r0201",
        "blocked",
        "ip-blocklisted",
        False,
    ),
]


@pytest.mark.parametrize(("reply", "reason", "cause", "hard"), PUBLISHED, ids=lambda v: str(v)[:40])
def test_published_reply_without_remote_host(reply: str, reason: str, cause: str, hard: bool) -> None:
    c = default_classifier().classify_reply(reply)
    assert (str(c.reason), str(c.cause), c.hardbounce) == (reason, cause, hard), c.rule_id


@pytest.mark.parametrize(
    "reply",
    [
        # Gmail reuses RFC 7505's null-MX code 5.7.27 for SPF: never notaccept, never hard.
        "550 5.7.27 This mail has been blocked because SPF does not pass.",
        "550-5.7.27 This mail has been blocked because the sender is unauthenticated. 550-5.7.27 Gmail "
        "requires all senders to authenticate with SPF. - gsmtp",
        # Sender-side quotas are not the recipient's mailbox.
        "550 5.4.5 Daily sending quota exceeded.",
        "550 5.2.2 Submission quota exceeded",
        "554 5.2.2 mailbox full; STOREDRV.Submission.Exception:SubmissionQuotaExceededException",
        # Microsoft policy, reputation and tenant configuration.
        "550 5.4.1 Relay Access Denied ATTR35",
        "550 5.7.649 Access denied, banned sending IP [192.0.2.1]",
        "550 5.7.134 RESOLVER.RST.SenderNotAuthenticatedForMailbox; authentication required",
        "550 5.7.504 Recipient address rejected: Access denied",
        "451 4.7.550 Access denied, please try again later",
        # Yahoo and Apple policy replies.
        "553 5.7.2 [TSS11] All messages from 192.0.2.1 will be permanently deferred; Retrying will "
        "NOT succeed.",
        "550 5.7.1 [CS01] Message rejected due to local policy. Please visit "
        "https://support.apple.com/en-us/HT204137",
    ],
)
def test_policy_auth_and_quota_replies_are_never_hard(reply: str) -> None:
    c = default_classifier().classify_reply(reply)
    assert not c.hardbounce, (c.reason, c.rule_id)
    assert str(c.reason) not in ("notaccept", "userunknown", "hostunknown", "hasmoved", "mailboxfull")


def test_sender_quota_is_not_the_recipients_mailboxfull() -> None:
    for reply in (
        "550 5.4.5 Daily user sending limit exceeded.",
        "550 5.2.2 Submission quota exceeded",
        "550 5.7.1 Daily SMTP relay limit exceeded for customer.",
    ):
        c = default_classifier().classify_reply(reply)
        assert (c.reason, str(c.cause)) == ("speeding", "sender-quota"), reply
    full = default_classifier().classify_reply(
        "554 5.2.2 mailbox full; STOREDRV.Deliver; mailbox quota exceeded"
    )
    assert (full.reason, str(full.cause)) == ("mailboxfull", "mailbox-full")


def test_every_provider_rule_names_a_cause() -> None:
    for rule in _provider_rules():
        assert rule.cause is not None, rule.id
