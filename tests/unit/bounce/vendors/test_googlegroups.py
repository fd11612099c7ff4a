"""Google Groups refusing a post."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import googlegroups

NOTICE = (
    "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
    "Subject: Delivery Status Notification (Failure)\n"
    "X-Failed-Recipients: club@googlegroups.com\n"
    "Content-Type: text/plain; charset=UTF-8\n\n"
    "Hello sender@example.net,\n\n"
    "We're writing to let you know that the group you tried to contact (club) may not exist, or you "
    "may not have permission to post messages to the group.\n\n"
    " * You might have spelled or formatted the group name incorrectly.\n"
    " * The owner of the group may have removed this group.\n"
    " * You may need to join the group before receiving permission to post.\n"
    " * This group may not be open to posting.\n\n"
    "If you have questions related to this or any other Google Group, visit the Help Center at "
    "https://groups.google.com/support/.\n\n"
    "----- Original message -----\n\nSubject: hi\n"
)


def test_group_refusal_is_rejected_and_soft() -> None:
    (record,) = parse_bounce(NOTICE.encode())
    assert record.parser == "googlegroups"
    assert record.recipient == "club@googlegroups.com"
    assert str(record.reason) == "rejected"
    assert record.hardbounce is False
    assert record.replycode == ""


def test_group_on_a_workspace_domain() -> None:
    other = NOTICE.replace("club@googlegroups.com", "team@example.org")
    (draft,) = googlegroups.parse(Mail(other.encode())) or []
    assert draft.recipient == "team@example.org"


def test_plain_gmail_notice_is_not_a_group_refusal() -> None:
    other = NOTICE.replace("groups.google.com", "support.google.com")
    assert googlegroups.parse(Mail(other.encode())) is None


def test_garbage_does_not_raise() -> None:
    garbage = NOTICE.split("\n\n", 1)[0] + "\n\n" + "groups.google.com \x00\x01 " * 100
    drafts = googlegroups.parse(Mail(garbage.encode())) or []
    assert [d.recipient for d in drafts] == ["club@googlegroups.com"]
