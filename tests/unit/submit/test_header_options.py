"""SMTP submission carries the API's options in ``X-Mailfate-*`` header fields, which are read and
taken out before the message is stored (issue 16, point 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailfate.errors import InputError
from mailfate.submit.raw import HeaderOptions, take_options
from tests.unit.submit.test_doors import Doors, run

MAIL = (
    b"From: App <no-reply@app.example>\r\nTo: kim@naver.test\r\nSubject: code\r\n"
    b"X-Mailfate-Tags: signup, web\r\nX-Mailfate-Deadline: 10m\r\n"
    b"X-Mailfate-Idempotency-Key:\r\n signup-42\r\nX-Mailfate-Category: transactional\r\n"
    b"Message-ID: <1@app.example>\r\n\r\n428913\r\nX-Mailfate-Tags: not a header, the body\r\n"
)


def test_the_fields_are_read_and_taken_out_and_the_rest_is_untouched() -> None:
    raw, options = take_options(MAIL)
    assert options == HeaderOptions(("signup", "web"), "transactional", "10m", "signup-42")
    assert raw == (
        b"From: App <no-reply@app.example>\r\nTo: kim@naver.test\r\nSubject: code\r\n"
        b"Message-ID: <1@app.example>\r\n\r\n428913\r\nX-Mailfate-Tags: not a header, the body\r\n"
    )
    plain = b"From: a@b.test\nSubject: x\n\nbody\n"
    assert take_options(plain) == (plain, HeaderOptions())  # LF-only mail, nothing asked: the same bytes


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (b"X-Mailfate-Tags: a\r\nx-mailfate-tags: b\r\n", "given twice"),
        (b"X-Mailfate-Tags: no spaces allowed\r\n", "tag"),
        (b"X-Mailfate-Category: newsletter\r\n", "one of transactional, marketing"),
    ],
)
def test_bad_options_are_refused_by_name(header: bytes, why: str) -> None:
    with pytest.raises(InputError, match=why):
        take_options(b"From: a@b.test\r\n" + header + b"\r\nbody\r\n")


@given(st.binary(max_size=400))
def test_any_bytes_either_pass_or_are_refused_cleanly(raw: bytes) -> None:
    try:
        kept, _ = take_options(raw)
    except InputError:
        return
    assert len(kept) <= len(raw)


def test_through_smtp_submission_the_options_apply_and_never_reach_the_receiver(tmp_path: Path) -> None:
    async def body(doors: Doors, woken: list[int]) -> None:
        reply = await doors.smtp_data(MAIL, "no-reply@app.example", ["kim@naver.test"])
        assert reply.startswith("250"), reply
        message_id = reply.rsplit(" ", 1)[1]
        view = doors.store.messages.message(message_id)
        assert view is not None and set(view.tags) == {"signup", "web"}
        assert view.deadline is not None
        assert timedelta(minutes=9) < view.deadline - datetime.now(UTC) <= timedelta(minutes=10)
        assert b"X-Mailfate" not in doors.store.queue.raw(message_id).split(b"\r\n\r\n", 1)[0]
        again = await doors.smtp_data(
            MAIL.replace(b"<1@", b"<2@"), "no-reply@app.example", ["kim@naver.test"]
        )
        assert again.endswith(message_id)  # the same idempotency key: the first message, not a copy
        bad = MAIL.replace(b"X-Mailfate-Deadline: 10m", b"X-Mailfate-Deadline: 10")
        refused = await doors.smtp_data(bad, "no-reply@app.example", ["kim@naver.test"])
        assert refused.startswith("550 5.6.0") and "unit" in refused

    run(tmp_path, body)
