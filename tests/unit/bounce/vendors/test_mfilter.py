"""m-FILTER bounces."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import mfilter

SAMPLE = (
    "From: POSTMASTER <postmaster@mail.example.net>\nTo: sender@example.net\nSubject: failure notice\n"
    'X-Mailer: m-FILTER\nContent-Type: text/plain; charset="UTF-8"\n\n'
    "このメールは「m-FILTER」が自動的に生成して送信しています。\n"
    "以下のメールアドレスへの送信に失敗しました。\nnobody@example.org\n\n\n"
    "-------server message\n"
    "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table\n\n"
    "-------SMTP command\nRCPT TO:<nobody@example.org>\n\n-------original message\nSubject: hi\n"
)


def test_server_message_and_command() -> None:
    (draft,) = mfilter.parse(Mail(SAMPLE.encode("utf-8"))) or []
    assert (draft.recipient, draft.command, draft.status, draft.replycode) == (
        "nobody@example.org",
        "RCPT",
        "5.1.1",
        "550",
    )
    (record,) = parse_bounce(SAMPLE.encode("utf-8"))
    assert str(record.reason) == "userunknown"
    assert record.hardbounce is True


def test_one_block_per_address() -> None:
    text = SAMPLE.replace(
        "-------original message",
        "other@example.net\n\n-------server message\n552 5.2.2 Mailbox full\n\n"
        "-------SMTP command\nDATA\n\n-------original message",
    )
    first, second = mfilter.parse(Mail(text.encode("utf-8"))) or []
    assert (first.recipient, first.status, first.command) == ("nobody@example.org", "5.1.1", "RCPT")
    assert (second.recipient, second.status, second.command) == ("other@example.net", "5.2.2", "DATA")


def test_foreign_and_garbage() -> None:
    assert mfilter.parse(Mail(b"From: a@example.org\nX-Mailer: m-FILTER\n\nhello\n")) is None
    assert mfilter.parse(Mail(b"From: a@example.org\nSubject: hi\n\nhello\n")) is None
    assert mfilter.parse(Mail(b"\xff" * 64)) is None
