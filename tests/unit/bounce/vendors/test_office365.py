"""Exchange Online NDRs."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import office365

HEAD = (
    "From: Microsoft Outlook <postmaster@outlook.example.net>\n"
    "To: sender@example.net\n"
    "Subject: Undeliverable: hello\n"
    "X-MS-Exchange-Message-Is-Ndr:\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
)
TEXT_PART = (
    "--b1\nContent-Type: text/plain; charset=utf-8\n\n"
    "Delivery has failed to these recipients or groups:\n\n"
    "nobody@example.org<mailto:nobody@example.org>\n"
    "The email address wasn't found at the destination domain.\n\n"
    "Diagnostic information for administrators:\n\n"
    "Generating server: AM0PR01MB0001.eurprd01.prod.outlook.com\n\n"
    "nobody@example.org\n"
    "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP "
    "address lookup'\n\n"
    "Original message headers:\n\nMessage-ID: <m-1@example.net>\n\n"
)
TEXT_ONLY = HEAD + TEXT_PART + "--b1--\n"
WITH_DSN = (
    HEAD + TEXT_PART + "--b1\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns;AM0PR01MB0001.eurprd01.prod.outlook.com\n\n"
    "Final-Recipient: rfc822;offline@example.org\n"
    "Action: failed\n"
    "Status: 5.4.312\n"
    "Diagnostic-Code: smtp;550 5.4.312 Message expired, DNS query failed\n\n"
    "--b1--\n"
)


def test_text_only_ndr() -> None:
    (record,) = parse_bounce(TEXT_ONLY.encode())
    assert record.parser == "office365"
    assert record.recipient == "nobody@example.org"
    assert (record.status, record.replycode, str(record.reason)) == ("5.1.10", "550", "userunknown")
    assert record.hardbounce is True
    assert record.reporting_mta == "am0pr01mb0001.eurprd01.prod.outlook.com"


def test_dsn_part_wins_and_keeps_microsoft_codes() -> None:
    (record,) = parse_bounce(WITH_DSN.encode())
    assert record.recipient == "offline@example.org"
    assert (record.status, str(record.reason), record.hardbounce) == ("5.4.312", "networkerror", False)


def test_on_premises_exchange_is_not_exchange_online() -> None:
    onprem = TEXT_ONLY.replace("eurprd01.prod.outlook.com", "mail.example.net")
    assert office365.parse(Mail(onprem.encode())) is None
    assert office365.parse(Mail(b"From: a@example.org\nSubject: hi\n\nhello\n")) is None


def test_garbage_does_not_raise() -> None:
    garbage = HEAD + "--b1\nContent-Type: text/plain\n\nGenerating server: x.prod.outlook.com\n" + "@\n" * 100
    assert office365.parse(Mail(garbage.encode())) is None
