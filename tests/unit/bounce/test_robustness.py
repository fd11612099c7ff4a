"""Pathological mail never crashes or hangs ``parse_bounce``: a result or a ParseError, in under a second.

Time is CPU time of this process (``time.process_time``), so other work on the machine does not make
the limits flaky; every case takes a few milliseconds to a few hundred.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable

import pytest

from mailfate.bounce import parse_bounce
from mailfate.bounce.mail import MAX_PARSE_BYTES, Mail
from mailfate.bounce.record import BounceRecord
from mailfate.errors import ParseError

LIMIT_SECONDS = 1.0

REPORT_HEAD = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\n"
    b"To: sender@example.org\n"
    b"Subject: Undelivered Mail Returned to Sender\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="RPT"\n\n'
)
DSN = REPORT_HEAD + (
    b"--RPT\nContent-Type: text/plain\n\n<bob@example.net>: host mx.example.net said:\n"
    b"    550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown\n\n"
    b"--RPT\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
    b"Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n"
    b"Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown\n\n"
    b"--RPT\nContent-Type: text/rfc822-headers\n\nFrom: sender@example.org\nMessage-ID: <m1@example.org>\n\n"
    b"--RPT--\n"
)


def _random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _nested_multipart(levels: int) -> bytes:
    head = "".join(f"Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n" for i in range(levels))
    tail = "".join(f"--b{i}--\n" for i in reversed(range(levels)))
    return (head + "Content-Type: text/plain\n\n550 5.1.1 user unknown\n" + tail).encode()


def _nested_rfc822(levels: int) -> bytes:
    return (
        b"Subject: Returned mail\n" + b"Content-Type: message/rfc822\n\n" * levels + b"Subject: x\n\nbody\n"
    )


def _korean_dsn() -> bytes:
    encoded = base64.b64encode("이메일은 수신자 계정이 없습니다.".encode("cp949")).decode()
    text = (
        "From: =?EUC-KR?B?uN7AzyC8rbn2?= <postmaster@example.kr>\n"
        "Subject: 메일 전송 실패\n"
        'Content-Type: multipart/mixed; boundary="K"\n\n'
        "--K\nContent-Type: text/plain; charset=euc-kr\n\n받는 사람의 메일함이 가득 찼습니다. 552 5.2.2\n"
        "--K\nContent-Type: text/plain; charset=ks_c_5601-1987\nContent-Transfer-Encoding: base64\n\n"
        f"{encoded}\n"
        "--K\nContent-Type: text/plain; charset=x-no-such-charset\n\n똠방각하 없는 사용자\n"
        "--K--\n"
    )
    return text.encode("cp949")


def _iso2022kr() -> bytes:
    body = "수신자 없음 550 5.1.1".encode("iso2022_kr")
    return (
        b"Subject: =?ISO-2022-KR?B?GyQpQw4+Ri5DGyhC?=\nContent-Type: text/plain; charset=iso-2022-kr\n\n"
        + body
    )


CASES: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "one newline": lambda: b"\n",
    "header only": lambda: b"From: MAILER-DAEMON@example.org\nSubject: Undelivered Mail Returned to Sender",
    "truncated in the report": lambda: DSN[: len(DSN) * 2 // 3],
    "truncated in the headers": lambda: DSN[:90],
    "truncated in a boundary": lambda: DSN[: DSN.index(b"--RPT") + 3],
    "binary 1 MiB": lambda: _random_bytes(1 << 20, 1),
    "binary after report headers": lambda: REPORT_HEAD + _random_bytes(1 << 20, 2),
    "NUL bytes": lambda: b"\0" * (1 << 20),
    "20 MB": lambda: DSN.replace(b"User unknown\n\n", b"User unknown\n" + b"x" * 76 * 270_000 + b"\n\n", 1),
    "20 MB of report lines": lambda: (
        REPORT_HEAD + b"--RPT\nContent-Type: text/plain\n\n" + b"550 5.1.1 nope\n" * 1_400_000
    ),
    "1000-level nested multipart": lambda: _nested_multipart(1000),
    "1000-level nested message/rfc822": lambda: _nested_rfc822(1000),
    "EUC-KR and CP949 headers and bodies": _korean_dsn,
    "ISO-2022-KR header and body": _iso2022kr,
    "8-bit without charset": lambda: b"Subject: \xb8\xde\xc0\xcf\n\n\xb8\xde\xc0\xcf \xb9\xdd\xbc\xdb 550\n",
    "4 MiB header line": lambda: b"Subject: " + b"a" * MAX_PARSE_BYTES + b"\n\nbody\n",
    "encoded-word bomb": lambda: b"Subject: " + b"=?x?q?" * 300_000 + b"\n\nbody\n",
    "200k header fields": lambda: b"".join(b"X-H%d: v\n" % i for i in range(200_000)) + b"\nbody\n",
    "100k parts": lambda: REPORT_HEAD + b"--RPT\nContent-Type: text/plain\n\nx\n" * 100_000 + b"--RPT--\n",
    "200 delivery-status blocks": lambda: (
        REPORT_HEAD
        + b"--RPT\nContent-Type: message/delivery-status\n\n"
        + b"Final-Recipient: rfc822; a@example.net\nAction: failed\nStatus: 5.1.1\n\n" * 200
        + b"--RPT--\n"
    ),
    "boundary parameter bomb": lambda: (
        b'Content-Type: multipart/mixed; boundary="' + b";" * 200_000 + b"\n\nx\n"
    ),
    "regex characters in the boundary": lambda: (
        b'Content-Type: multipart/mixed; boundary="(.*)+[\\\\"\n\n--(.*)+[\\\nContent-Type: text/plain\n\nx\n'
    ),
    "RFC 2231 parameters that crash the stdlib": lambda: (
        b"Content-Type: multipart/report; boundary*0=a; boundary*=b; charset*0=x; charset*=y\n\n--a\n\nx\n"
    ),
    "punycode charset (quadratic to decode)": lambda: (
        b"Subject: =?punycode?q?abc-def?=\nContent-Type: text/plain; charset=punycode\n\n"
        + b"a" * 200_000
        + b"-"
        + b"b" * 200_000
    ),
    "escape codecs as charsets": lambda: (
        b"Content-Type: multipart/mixed; boundary=E\n\n"
        b"--E\nContent-Type: text/plain; charset=unicode_escape\n\n"
        b"\\]\\N{x}\\u12\n--E\nContent-Type: text/plain; charset=raw-unicode-escape\n\n\\u12\n--E--\n"
    ),
    "4 MiB of blank lines": lambda: b"Subject: x\n\n" + b"\n" * MAX_PARSE_BYTES,
    "4 MiB without a line break": lambda: b"x" * MAX_PARSE_BYTES,
    "CR only": lambda: DSN.replace(b"\n", b"\r"),
    "mixed line breaks": lambda: DSN.replace(b"\n", b"\r\r\n", 20),
}


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    parse_bounce(DSN)  # imports every parser and compiles the rules once, outside the timings


def _run(raw: bytes) -> tuple[list[BounceRecord] | None, float]:
    start = time.process_time()
    try:
        records: list[BounceRecord] | None = parse_bounce(raw)
    except ParseError:
        records = None
    return records, time.process_time() - start


@pytest.mark.parametrize("name", list(CASES))
def test_pathological_mail_finishes_quickly(name: str) -> None:
    raw = CASES[name]()
    records, seconds = _run(raw)
    assert seconds < LIMIT_SECONDS, f"{name}: {seconds:.2f} s"
    assert records is None or all(isinstance(r, BounceRecord) for r in records)


@pytest.mark.parametrize("name", list(CASES))
def test_mail_views_survive_pathological_mail(name: str) -> None:
    raw = CASES[name]()
    start = time.process_time()
    mail = Mail(raw)
    views = (mail.subject, mail.sender, mail.date, mail.content_type, mail.text, mail.lines)
    assert isinstance(views[4], str)
    assert isinstance(mail.original_message_id(), str)
    for part in mail.parts:
        assert isinstance(part.text, str)
        assert isinstance(part.header("Content-Type"), str)
    assert time.process_time() - start < LIMIT_SECONDS


def test_the_sample_dsn_still_classifies() -> None:
    [record] = parse_bounce(DSN)
    assert (record.recipient, record.status, record.replycode, str(record.reason), record.hardbounce) == (
        "bob@example.net",
        "5.1.1",
        "550",
        "userunknown",
        True,
    )
    assert record.original_message_id == "<m1@example.org>"


def test_deep_nesting_keeps_the_mail() -> None:
    mail = Mail(_nested_multipart(1000))
    assert "550 5.1.1 user unknown" in "".join(p.text for p in mail.parts)


def test_korean_mail_is_decoded() -> None:
    mail = Mail(_korean_dsn())
    assert mail.subject == "메일 전송 실패"
    assert "받는 사람의 메일함이 가득 찼습니다" in mail.text
    assert "이메일은 수신자 계정이 없습니다." in mail.text
    assert "똠방각하 없는 사용자" in mail.text
    assert "수신자 없음" in Mail(_iso2022kr()).text


def test_a_big_mail_is_cut_not_refused() -> None:
    mail = Mail(CASES["20 MB"]())
    assert mail.truncated
    assert "User unknown" in mail.text
