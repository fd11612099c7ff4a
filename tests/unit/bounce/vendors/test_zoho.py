"""Zoho Mail bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import zoho

HEAD = (
    "From: mailer-daemon@mail.zoho.com\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "X-ZohoMail: Si CHF_MF_NL SS_10\n"
    'Content-Type: multipart/mixed; boundary="b1"\n\n'
    "--b1\nContent-Type: text/plain; charset=UTF-8\n\n"
    "This message was created automatically by mail delivery software.\n"
    "A message that you sent could not be delivered to one or more of its recipients.\n\n"
)
NOTICE = HEAD + (
    "nobody@example.org Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <nobody@example.org>... "
    "User Unknown\n"
    "away@example.org Error, ERROR_CODE :421, ERROR_CODE :, Host not reachable.\n\n"
    "--b1--\n"
)


def test_one_line_per_recipient() -> None:
    drafts = zoho.parse(Mail(NOTICE.encode())) or []
    assert [d.recipient for d in drafts] == ["nobody@example.org", "away@example.org"]
    first, second = parse_bounce(NOTICE.encode())
    assert (first.status, first.replycode, str(first.reason)) == ("5.1.1", "550", "userunknown")
    assert (second.replycode, str(second.reason), second.hardbounce) == ("421", "expired", False)


def test_delay_notice() -> None:
    text = HEAD.replace(
        "Undelivered Mail Returned to Sender", "Mail Delivery Status Notification (Delay)"
    ) + ("[Status: Error, Address: <later@example.org>, ResponseCode 421, , Host not reachable.]\n--b1--\n")
    (draft,) = zoho.parse(Mail(text.encode())) or []
    assert (draft.recipient, draft.action, draft.replycode) == ("later@example.org", "delayed", "421")


def test_foreign_mail_and_garbage() -> None:
    assert zoho.parse(Mail(NOTICE.replace("X-ZohoMail: Si CHF_MF_NL SS_10\n", "").encode())) is None
    assert zoho.parse(Mail((HEAD + "ERROR_CODE :, ERROR_CODE :\n" * 100 + "--b1--\n").encode())) is None
