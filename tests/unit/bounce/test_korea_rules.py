"""Korean receivers' reply rules (``data/bounce_rules/20-korea.toml``) on hand-made replies.

The replies follow the shapes quoted in the sources cited in the rule file: Naver's
``<id> - nsmtp`` suffix, Daum's ``<CODE> <client ip>: <text>`` form, and Korean-language texts.
Addresses and IPs are example.org / example.net / 192.0.2.0/24.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pytest

from mailfate.bounce import parse_bounce
from mailfate.bounce.classify import Classifier, default_classifier
from mailfate.bounce.mail import Mail
from mailfate.bounce.rulecheck import check_rules
from mailfate.bounce.rules import load_rule_files
from mailfate.model.reasons import Reason

KOREA_FILE = resources.files("mailfate").joinpath("data", "bounce_rules", "20-korea.toml")


@pytest.fixture(scope="module")
def korea() -> Classifier:
    """Only the Korean rules, so a test names the rule that must decide."""
    return Classifier(load_rule_files([KOREA_FILE]))


@dataclass(frozen=True)
class Case:
    reply: str
    remote: str
    reason: Reason
    hard: bool
    rule_id: str


REPLIES: list[Case] = [
    Case(
        "550 5.1.1 No such user. For more information, go to "
        "https://help.naver.com/alias/mail/newmail10.naver Zk3pQ0aTRbWc1v9xYh2LmA - nsmtp",
        "mx1.naver.com",
        Reason.USERUNKNOWN,
        True,
        "kr.naver.userunknown",
    ),
    Case(
        "550 5.7.2 Your email has been blocked because the sender is unauthenticated. For more "
        "information, go to https://help.naver.com/alias/mail/newmail10.naver Qm0s8Xc1TnO2b4dZx7rK-w - nsmtp",
        "mx2.naver.com",
        Reason.AUTHFAILURE,
        False,
        "kr.naver.unauthenticated",
    ),
    Case(
        "554 5.7.1 The sender address is unauthorized Ab3dEf6hIj9kLm2nOp5qRs - nsmtp",
        "smtp.naver.com",
        Reason.REJECTED,
        False,
        "kr.naver.sender-unauthorized",
    ),
    Case(
        "421 4.3.2 Your IP(192.0.2.77) is filtered and this connection will be closed. "
        "You must register your IP to http://realip.naver.com",
        "mx1.naver.com",
        Reason.BLOCKED,
        False,
        "kr.naver.realip-filtered",
    ),
    Case(
        "550 5.1.1 RUSR 192.0.2.30: No such user: <ghost@hanmail.net>",
        "mx2.hanmail.net",
        Reason.USERUNKNOWN,
        True,
        "kr.daum.userunknown",
    ),
    Case(
        "550 5.2.1 RACT 192.0.2.30: Mailbox is inactive: <dormant@hanmail.net>",
        "mx1.hanmail.net",
        Reason.SUSPEND,
        False,
        "kr.daum.inactive",
    ),
    Case(
        "550 5.2.1 RBLK 192.0.2.30: Mailbox is blocked: <locked@daum.net>",
        "mx3.hanmail.net",
        Reason.SUSPEND,
        False,
        "kr.daum.mailbox-blocked",
    ),
    Case(
        "550 5.2.1 DDENY 192.0.2.30 : The receiver denied your mail. "
        "Please contact the receiver with another way.",
        "mx4.hanmail.net",
        Reason.REJECTED,
        False,
        "kr.daum.receiver-denied",
    ),
    Case(
        "450 4.7.1 MMCNT 192.0.2.30: Message refused. Your IP address has sent too many mails.",
        "mx1.hanmail.net",
        Reason.SPEEDING,
        False,
        "kr.daum.too-many-mails",
    ),
    Case(
        "421 4.4.5 CCRT 192.0.2.30: Connection refused. Server is busy(RT)",
        "mx2.hanmail.net",
        Reason.BLOCKED,
        False,
        "kr.daum.spam-ip-refused",
    ),
    Case(
        "554 5.7.1 DAS51 192.0.2.30: Your mail is blocked automatically by anti-spam system. (E06)",
        "mx1.hanmail.net",
        Reason.BLOCKED,
        False,
        "kr.daum.antispam-blocked",
    ),
    Case(
        "554 5.7.1 Service unavailable; Client host [192.0.2.30] blocked using spamlist.or.kr",
        "mail.example.co.kr",
        Reason.BLOCKED,
        False,
        "kr.kisa.rbl",
    ),
    Case(
        "550 5.1.1 <nobody@example.net>: 수신자가 존재하지 않습니다",
        "",
        Reason.USERUNKNOWN,
        True,
        "kr.text.userunknown",
    ),
    Case("550 존재 하지 않는 사용자 입니다", "", Reason.USERUNKNOWN, True, "kr.text.userunknown"),
    Case("550 받는 사람의 메일 주소를 찾을 수 없습니다", "", Reason.USERUNKNOWN, True, "kr.text.userunknown"),
    Case("552 5.2.2 메일함 용량 초과", "", Reason.MAILBOXFULL, False, "kr.text.mailboxfull"),
    Case("552 받는 사람의 사서함이 가득 찼습니다", "", Reason.MAILBOXFULL, False, "kr.text.mailboxfull"),
    Case(
        "552 5.3.4 첨부파일 크기가 허용 용량을 초과했습니다",
        "",
        Reason.MESGTOOBIG,
        False,
        "kr.text.mesgtoobig",
    ),
    Case("550 5.2.1 휴면계정 전환으로 메일을 받을 수 없습니다", "", Reason.SUSPEND, False, "kr.text.suspend"),
    Case("550 5.1.2 존재하지 않는 도메인입니다", "", Reason.HOSTUNKNOWN, True, "kr.text.hostunknown"),
    Case(
        "421 4.7.0 귀하의 IP가 스팸 발송으로 차단되었습니다", "", Reason.BLOCKED, False, "kr.text.ip-blocked"
    ),
    Case(
        "550 5.7.1 스팸메일로 분류되어 수신이 거부되었습니다",
        "",
        Reason.SPAMDETECTED,
        False,
        "kr.text.spamdetected",
    ),
    Case(
        "550 5.7.1 SPF 레코드가 없어 발신자 인증에 실패했습니다",
        "",
        Reason.AUTHFAILURE,
        False,
        "kr.text.authfailure",
    ),
    Case(
        "550 5.7.25 역방향 DNS(PTR) 조회에 실패했습니다", "", Reason.REQUIREPTR, False, "kr.text.requireptr"
    ),
    Case("450 4.7.1 발송량 한도를 초과하였습니다", "", Reason.SPEEDING, False, "kr.text.speeding"),
    Case("421 4.7.0 동시접속 제한을 초과했습니다", "", Reason.TOOMANYCONN, False, "kr.text.toomanyconn"),
    Case(
        "550 5.7.1 수신자가 보낸 사람을 차단했습니다", "", Reason.REJECTED, False, "kr.text.rejected-sender"
    ),
    Case(
        "554 5.7.1 바이러스에 감염된 첨부파일이 있습니다",
        "",
        Reason.VIRUSDETECTED,
        False,
        "kr.text.virusdetected",
    ),
    Case(
        "554 5.7.1 이 서버는 릴레이를 허용하지 않습니다", "", Reason.NORELAYING, False, "kr.text.norelaying"
    ),
    Case(
        "550 5.7.1 보안 정책에 의해 거부되었습니다",
        "",
        Reason.POLICYVIOLATION,
        False,
        "kr.text.policyviolation",
    ),
]


@pytest.mark.parametrize("case", REPLIES, ids=lambda c: c.rule_id)
def test_korean_reply_is_decided_by_its_rule(korea: Classifier, case: Case) -> None:
    got = korea.classify_reply(case.reply, remote_mta=case.remote)
    assert (got.rule_id, got.reason, got.hardbounce) == (case.rule_id, case.reason, case.hard)
    assert got.source


@pytest.mark.parametrize("case", REPLIES, ids=lambda c: c.rule_id)
def test_packaged_rules_give_the_same_reason(case: Case) -> None:
    got = default_classifier().classify_reply(case.reply, remote_mta=case.remote)
    assert (got.reason, got.hardbounce) == (case.reason, case.hard)


def test_status_and_replycode_come_from_the_reply(korea: Classifier) -> None:
    got = korea.classify_reply("550 5.2.1 RACT 192.0.2.30: Mailbox is inactive: <dormant@hanmail.net>")
    assert (got.replycode, got.status) == ("550", "5.2.1")
    got = korea.classify_reply("421", "4.3.2", "Your IP(192.0.2.77) is filtered ... http://realip.naver.com")
    assert (got.replycode, got.status, got.hardbounce) == ("421", "4.3.2", False)


def test_naver_auth_rule_needs_naver_mx(korea: Classifier) -> None:
    reply = "550 5.7.1 DKIM signature of example.org failed verification"
    assert korea.classify_reply(reply, remote_mta="mx3.naver.com").rule_id == "kr.naver.dkim-spf-dmarc"
    assert korea.classify_reply(reply, remote_mta="mx4.mail.naver.com.").reason is Reason.AUTHFAILURE
    for other in ("mx.example.net", "naver.com.example.net", "mx.notnaver.com", ""):
        assert not korea.classify_reply(reply, remote_mta=other).rule_id.startswith("kr."), other


def test_daum_auth_rule_needs_daum_or_kakao_mx(korea: Classifier) -> None:
    reply = "550 5.7.1 SPF validation failed for example.org"
    for host in ("mx1.hanmail.net", "mx2.daum.net", "mx.kakao.com"):
        assert korea.classify_reply(reply, remote_mta=host).rule_id == "kr.daum.dkim-spf-dmarc", host
    lookalike = korea.classify_reply(reply, remote_mta="mx1.hanmail.net.example.org")
    assert lookalike.rule_id.startswith("fallback")


def test_naver_suffix_is_a_word_not_part_of_opensmtpd(korea: Classifier) -> None:
    got = korea.classify_reply("550 5.1.1 No such user (opensmtpd relay example.org)")
    assert not got.rule_id.startswith("kr.")


def test_sender_domain_unknown_is_rejected_not_hostunknown(korea: Classifier) -> None:
    got = korea.classify_reply("553 5.1.8 발신자 메일 주소의 도메인이 존재하지 않습니다")
    assert (got.rule_id, got.reason) == ("kr.text.rejected-sender", Reason.REJECTED)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("552 메일함 용량 초과로 수신 거부되었습니다", Reason.MAILBOXFULL),
        ("550 받는 사람의 도메인 주소를 찾을 수 없습니다", Reason.HOSTUNKNOWN),
        ("550 스팸으로 판단되어 수신을 거부합니다", Reason.SPAMDETECTED),
        ("421 스팸 발송 IP로 등록되어 접속이 차단되었습니다", Reason.BLOCKED),
        ("552 메시지 크기가 제한을 초과하여 거부되었습니다", Reason.MESGTOOBIG),
        ("550 받는 사람이 귀하의 메일 주소를 수신 거부 목록에 등록했습니다", Reason.REJECTED),
    ],
)
def test_overlapping_korean_phrases_resolve_to_the_specific_reason(
    korea: Classifier, reply: str, reason: Reason
) -> None:
    assert korea.classify_reply(reply).reason is reason


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table",
        "552 5.2.2 Mailbox full",
        "550-5.7.26 This mail has been blocked because the sender is unauthenticated. - gsmtp",
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        "421 4.7.0 Try again later, closing connection. (EHLO) - gsmtp",
        "550 5.7.1 Message rejected due to SPF failure for example.org",
        "452 4.2.2 The email account that you tried to reach is over quota - gsmtp",
        "550 Requested action not taken: mailbox unavailable (recipient ip 192.0.2.1 blocked)",
    ],
)
def test_english_replies_are_not_decided_by_korean_rules(korea: Classifier, reply: str) -> None:
    assert not korea.classify_reply(reply, remote_mta="mx.example.net").rule_id.startswith("kr.")


def test_every_korean_rule_has_a_source_and_reachable_examples(korea: Classifier) -> None:
    report = check_rules(korea)
    assert report.problems == []
    assert report.without_examples == []
    assert all(rule.source.startswith("http") for rule in korea.rules)


def test_garbage_does_not_raise_or_stall(korea: Classifier) -> None:
    junk = ("발송 ip 차단 " * 2000) + ("메일함" + "가" * 5000) + ("spf " * 3000) + "\x00\ufffd" * 100
    got = korea.classify_reply(junk)
    assert got.reason in set(Reason)
    assert korea.classify_reply("").reason is Reason.UNDEFINED


# A Korean server's DSN, EUC-KR throughout: the readable part declares euc-kr and the
# Diagnostic-Code fields carry raw 8-bit EUC-KR text, as Korean MTAs write them.
EUC_KR_DSN = """\
Return-Path: <>
Received: from mail.example.co.kr (mail.example.co.kr [192.0.2.60])
\tby mx.example.org with ESMTP id 4F1A2B3C; Tue, 24 Nov 2026 10:15:02 +0900
Date: Tue, 24 Nov 2026 10:15:01 +0900
From: Mail Delivery Subsystem <MAILER-DAEMON@mail.example.co.kr>
To: <sender@example.org>
Subject: =?EUC-KR?B?uN7Az8DMILndvNu1x776vcC0z7TZ?=
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="KR-DSN-0001"
Auto-Submitted: auto-replied

--KR-DSN-0001
Content-Type: text/plain; charset=euc-kr
Content-Transfer-Encoding: 8bit

메일이 반송되었습니다.
아래 수신자에게 메일을 전달하지 못했습니다.

<nobody@example.net>: 수신자가 존재하지 않습니다
<full@example.net>: 수신자의 메일함 용량이 초과되었습니다

--KR-DSN-0001
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.co.kr
Arrival-Date: Tue, 24 Nov 2026 10:14:58 +0900

Final-Recipient: rfc822; nobody@example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>: 수신자가 존재하지 않습니다

Final-Recipient: rfc822; full@example.net
Action: failed
Status: 5.2.2
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 552 5.2.2 <full@example.net>: 수신자의 메일함 용량이 초과되었습니다

--KR-DSN-0001
Content-Type: text/rfc822-headers

From: Sender <sender@example.org>
To: nobody@example.net, full@example.net
Subject: test
Message-ID: <kr-dsn-test-0001@example.org>
Date: Tue, 24 Nov 2026 10:14:57 +0900

--KR-DSN-0001--
""".encode("euc-kr")


def test_euc_kr_dsn_text_decodes_and_classifies(korea: Classifier) -> None:
    mail = Mail(EUC_KR_DSN)
    assert "반송" in mail.subject
    assert "수신자가 존재하지 않습니다" in mail.text
    assert korea.classify_reply("550", "5.1.1", "수신자가 존재하지 않습니다").reason is Reason.USERUNKNOWN


def test_euc_kr_dsn_through_parse_bounce() -> None:
    records = parse_bounce(EUC_KR_DSN)
    got = [(r.recipient, r.status, r.replycode, r.reason, r.hardbounce) for r in records]
    assert got == [
        ("nobody@example.net", "5.1.1", "550", Reason.USERUNKNOWN, True),
        ("full@example.net", "5.2.2", "552", Reason.MAILBOXFULL, False),
    ]
    assert "존재하지" in records[0].diagnostic


def test_every_korean_rule_names_a_cause(korea: Classifier) -> None:
    assert all(rule.cause is not None for rule in korea.rules), [r.id for r in korea.rules if r.cause is None]


@pytest.mark.parametrize(
    ("reply", "reason", "cause", "hard"),
    [
        # Naver (nsmtp) and Daum/Kakao (<CODE> <ip>: <text>), read from the text alone, without the MX.
        (
            "550 5.1.1 No such user. For more information, go to "
            "https://help.naver.com/alias/mail/newmail10.naver Zk3pQ0aTRbWc1v9xYh2LmA - nsmtp",
            Reason.USERUNKNOWN,
            "mailbox-unknown",
            True,
        ),
        (
            "550 5.7.2 Your email has been blocked because the sender is unauthenticated. For more "
            "information, go to https://help.naver.com/alias/mail/newmail10.naver "
            "Qm0s8Xc1TnO2b4dZx7rK-w - nsmtp",
            Reason.AUTHFAILURE,
            "auth-fail",
            False,
        ),
        (
            "550 5.1.1 RUSR 192.0.2.30: No such user: <ghost@hanmail.net>",
            Reason.USERUNKNOWN,
            "mailbox-unknown",
            True,
        ),
        (
            "550 5.2.1 RACT 192.0.2.30: Mailbox is inactive: <dormant@hanmail.net>",
            Reason.SUSPEND,
            "mailbox-disabled",
            False,
        ),
        (
            "450 4.7.1 MMCNT 192.0.2.30: Message refused. Your IP address has sent too many mails.",
            Reason.SPEEDING,
            "rate-limited",
            False,
        ),
        ("421 4.4.1 CHIC 192.0.2.30: Network is busy.", Reason.SYSTEMERROR, "server-error", False),
    ],
)
def test_korean_reply_reason_cause_and_hardness_without_remote(
    reply: str, reason: Reason, cause: str, hard: bool
) -> None:
    got = default_classifier().classify_reply(reply)
    assert (got.reason, str(got.cause), got.hardbounce) == (reason, cause, hard), got.rule_id


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.7.1 RDENY 192.0.2.21: The receiver denied your mail. Please contact the "
        "receiver with another way.",
        "421 4.3.2 Your IP(192.0.2.10) is filtered and this connection will be closed. You "
        "must register your IP "
        "to http://realip.naver.com",
        "554 5.7.1 The sender address is unauthorized e8elkxYhRzaLlkY-Ah049w - nsmtp",
    ],
)
def test_korean_policy_replies_are_not_hard(reply: str) -> None:
    assert not default_classifier().classify_reply(reply).hardbounce
