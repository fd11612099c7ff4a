"""Microsoft Exchange 2007+ (on premises) non-delivery reports."""

from __future__ import annotations

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import Mail
from mailfate.bounce.vendors import exchange2007

SAMPLE = (
    "From: postmaster@example.org\nTo: sender@example.net\nSubject: Undeliverable: hello\n"
    "Content-Language: en-US\nMIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
    "--B\nContent-Type: text/plain\n\n"
    "Delivery has failed to these recipients or distribution lists:\n\n"
    "nobody@example.org<mailto:nobody@example.org>\n"
    "The recipient's e-mail address was not found in the recipient's e-mail system.\n\n"
    "Diagnostic information for administrators:\n\nGenerating server: exch01.example.org\n\n"
    "nobody@example.org\n#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n\n"
    "Original message headers:\n\nSubject: hello\n\n"
    "--B--\n"
)


def test_text_report() -> None:
    (draft,) = exchange2007.parse(Mail(SAMPLE.encode())) or []
    assert draft.reporting_mta == "exch01.example.org"
    (record,) = parse_bounce(SAMPLE.encode())
    assert (record.recipient, record.status, record.replycode, str(record.reason), record.hardbounce) == (
        "nobody@example.org",
        "5.1.1",
        "550",
        "userunknown",
        True,
    )


def test_size_limit_token() -> None:
    text = SAMPLE.replace(
        "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##",
        "#550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient ##",
    )
    (record,) = parse_bounce(text.encode())
    assert (record.status, str(record.reason)) == ("5.2.3", "exceedlimit")


def test_office365_is_left_to_its_parser() -> None:
    cloud = SAMPLE.replace(
        "Content-Language: en-US\n", "Content-Language: en-US\nX-MS-Exchange-CrossTenant-Id: x\n"
    )
    assert exchange2007.parse(Mail(cloud.encode())) is None


def test_foreign_and_garbage() -> None:
    assert exchange2007.parse(Mail(b"From: a@example.org\nSubject: Undeliverable: hi\n\nhello\n")) is None
    assert exchange2007.parse(Mail(b"\xff" * 64)) is None
