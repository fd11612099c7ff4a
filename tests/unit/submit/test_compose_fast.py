"""The composer's shortcuts write the same bytes as the long way: a short header field unfolded,
the Date field once a second, encoded subjects once each, templates loaded once."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.submit import compose as composing
from mailfate.submit.compose import compose
from mailfate.submit.templates import render_template

TEXT = st.text(st.sampled_from([*"ab Z09:;<>@.,()\t", "é", "한", "\u00a0", "\u3000", "=", "?"]), max_size=120)


@settings(max_examples=500, deadline=None)
@given(
    name=st.sampled_from(["To", "Subject", "X-A", "List-Unsubscribe", "X-Very-Long-Field-Name-" * 3]),
    value=TEXT,
)
def test_a_field_is_written_as_the_folding_writes_it(name: str, value: str) -> None:
    assert composing._field(name, value) == composing._fold(name, value)


@settings(max_examples=200, deadline=None)
@given(
    when=st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
    )
)
def test_the_date_field_is_the_email_packages(when: datetime) -> None:
    assert composing._date(when.replace(microsecond=0)) == email.utils.format_datetime(when)


def test_messages_composed_in_one_second_share_the_date_and_differ_in_id() -> None:
    now = datetime(2026, 12, 6, 6, 34, 41, 5, tzinfo=UTC)
    one = compose(from_="a@app.test", to="kim@naver.test", subject="제목", text="x", now=now)
    two = compose(
        from_="a@app.test",
        to="kim@naver.test",
        subject="제목",
        text="x",
        now=now + timedelta(microseconds=900_000),
    )
    later = compose(
        from_="a@app.test", to="kim@naver.test", subject="제목", text="x", now=now + timedelta(seconds=1)
    )
    dates = [email.message_from_bytes(c.raw)["Date"] for c in (one, two, later)]
    assert dates[0] == dates[1] == "Sun, 06 Dec 2026 06:34:41 +0000" != dates[2]
    assert one.header_message_id != two.header_message_id
    assert one.raw.split(b"Subject: ")[1].split(b"\r\n")[0] == b"=?utf-8?b?7KCc66qp?="


def test_a_template_renders_alike_each_time_with_its_variables() -> None:
    first = render_template("verification-code", {"code": "111111"}, "ko")
    again = render_template("verification-code", {"code": "222222"}, "ko")
    assert "111111" in first.text and "222222" in again.text and "111111" not in again.text
    assert first.subject.replace("111111", "222222") == again.subject
    assert first.html is not None and first.html.replace("111111", "222222") == again.html
