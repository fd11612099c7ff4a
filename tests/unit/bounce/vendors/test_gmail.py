"""Gmail's own notices: the classic text notice and the Google Workspace "** ... **" notice."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import gmail

HEAD = (
    "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
    "To: sender@example.net\n"
    "Subject: Delivery Status Notification (Failure)\n"
    "Content-Type: text/plain; charset=UTF-8\n\n"
)

PERMANENT = HEAD + (
    "Delivery to the following recipient failed permanently:\n\n"
    "     nobody@example.org\n\n"
    "Technical details of permanent failure:\n"
    "Google tried to deliver your message, but it was rejected by the server for the recipient "
    "domain example.org by mx.example.org. [192.0.2.25].\n\n"
    "The error that the other server returned was:\n"
    "550 5.1.1 <nobody@example.org>... User Unknown\n\n"
    "----- Original message -----\n\n"
    "Message-ID: <original-1@example.net>\nSubject: hello\n"
)


def _mail(text: str) -> Mail:
    return Mail(text.encode())


def test_permanent_failure_user_unknown() -> None:
    (record,) = parse_bounce(PERMANENT.encode())
    assert record.parser == "gmail"
    assert record.recipient == "nobody@example.org"
    assert record.status == "5.1.1"
    assert record.replycode == "550"
    assert str(record.reason) == "userunknown"
    assert record.hardbounce is True
    assert record.remote_mta == "mx.example.org"
    assert record.original_message_id == "<original-1@example.net>"


def test_state_marks_the_smtp_stage() -> None:
    text = PERMANENT.replace(
        "550 5.1.1 <nobody@example.org>... User Unknown",
        "554 554 5.7.0 Header error (state 18).",
    )
    (draft,) = gmail.parse(_mail(text)) or []
    assert draft.command == "DATA"
    (record,) = parse_bounce(text.encode())
    assert str(record.reason) == "filtered"
    assert record.status == "5.7.0"


def test_state_six_is_a_starttls_failure() -> None:
    text = PERMANENT.replace(
        "550 5.1.1 <nobody@example.org>... User Unknown", "500 Remote server does not support TLS (state 6)."
    )
    (record,) = parse_bounce(text.encode())
    assert str(record.reason) == "failedstarttls"
    assert record.replycode == "500"


def test_delayed_notice_is_expired_and_soft() -> None:
    text = HEAD.replace("(Failure)", "(Delay)") + (
        "THIS IS A WARNING MESSAGE ONLY.\n\n"
        "Delivery to the following recipient has been delayed:\n\n"
        "     slow@example.org\n\n"
        "Message will be retried for 2 more day(s)\n\n"
        "Technical details of temporary failure:\n"
        "The recipient server did not accept our requests to connect. Learn more at "
        "https://support.google.com/mail/answer/7720\n"
        "[example.org 192.0.2.7: socket error]\n\n"
        "----- Original message -----\n"
    )
    (record,) = parse_bounce(text.encode())
    assert record.action == "delayed"
    assert str(record.reason) == "expired"
    assert record.hardbounce is False


def test_two_recipients_share_one_error() -> None:
    text = PERMANENT.replace("     nobody@example.org\n", "     one@example.org\n     two@example.org\n")
    drafts = gmail.parse(_mail(text)) or []
    assert [d.recipient for d in drafts] == ["one@example.org", "two@example.org"]
    assert all(d.diagnostic.startswith("550 5.1.1") for d in drafts)


def test_workspace_notice_without_dsn_fields() -> None:
    text = (
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n"
        "Subject: Delivery Status Notification (Failure)\n"
        "X-Failed-Recipients: team@example.org\n"
        'Content-Type: multipart/report; boundary="b1"; report-type=delivery-status\n\n'
        "--b1\nContent-Type: text/plain; charset=UTF-8\n\n"
        "** Message not delivered **\n\n"
        "You're sending this from a different address or alias using the 'Send mail as' feature. "
        "The settings for your 'Send mail as' account are misconfigured or out of date.\n\n"
        "Learn more here: https://support.google.com/mail/?p=CustomFromDenied\n\n"
        "The response was:\n\nUnspecified Error (SENT_SECOND_EHLO): Smtp server does not advertise AUTH\n"
        "--b1\nContent-Type: message/delivery-status\n\n\n"
        "--b1\nContent-Type: message/rfc822\n\nTo: <team@example.org>\nSubject: hi\n\nbody\n--b1--\n"
    )
    (record,) = parse_bounce(text.encode())
    assert record.parser == "gmail"
    assert record.recipient == "team@example.org"
    assert str(record.reason) == "rejected"


def test_foreign_mail_is_not_gmail() -> None:
    foreign = PERMANENT.replace("mailer-daemon@googlemail.com", "mailer-daemon@example.net")
    assert gmail.parse(_mail(foreign)) is None
    assert gmail.parse(_mail("From: a@example.org\nSubject: hello\n\nhi\n")) is None


def test_garbage_does_not_raise() -> None:
    garbage = HEAD + "Delivery to the following recipient\n\x00\xff  @@@ \n" * 50
    assert gmail.parse(_mail(garbage)) is None
