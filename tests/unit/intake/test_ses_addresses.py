"""The SES endpoint's shortcuts read requests as the long way does: a plain destination address
is taken as it is (what parsing finds), an X-Amz-Date is read as ``strptime`` reads it."""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.intake.api import ses_mail, sigv4

ITEMS = st.text(st.sampled_from([*"aZ09_+-.@ <>\"'(),;:\t", "é"]), min_size=1, max_size=30)


@settings(max_examples=1000, deadline=None)
@given(item=st.one_of(ITEMS, st.from_regex(r"[a-z0-9_+.-]{1,8}@[a-z0-9.-]{1,12}", fullmatch=True)))
def test_a_destination_gives_the_address_parsing_finds(item: str) -> None:
    found = email.utils.parseaddr(item)[1]
    if "@" in found:
        assert ses_mail._bare([item]) == [found]
    elif ses_mail._PLAIN_ADDRESS.fullmatch(item):
        raise AssertionError(f"{item!r}: taken as an address, parsing finds none")


def test_names_and_brackets_are_parsed() -> None:
    assert ses_mail._bare(["Kim <kim@naver.test>", "kim.lee+x@naver.test", " a@b.test "]) == [
        "kim@naver.test",
        "kim.lee+x@naver.test",
        "a@b.test",
    ]


DIGITS = st.sampled_from([*"0123456789", "٣", "５"])


@settings(max_examples=1000, deadline=None)
@given(
    date=st.one_of(
        st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)).map(
            lambda d: d.strftime("%Y%m%dT%H%M%SZ")
        ),
        st.tuples(st.text(DIGITS, min_size=8, max_size=8), st.text(DIGITS, min_size=6, max_size=6)).map(
            lambda p: f"{p[0]}T{p[1]}Z"
        ),
    )
)
def test_an_amz_date_reads_as_strptime_reads_it(date: str) -> None:
    def read(parse: Callable[[str], datetime]) -> datetime | None:
        try:
            return parse(date)
        except ValueError:
            return None

    assert sigv4._AMZ_DATE.fullmatch(date)
    expected = read(lambda d: datetime.strptime(d, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
    assert read(sigv4._amz_time) == expected
