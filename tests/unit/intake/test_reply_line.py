"""The last reply as people read it: code, enhanced status once, text."""

from __future__ import annotations

import pytest

from mailfate.intake.api.responses import reply_line


@pytest.mark.parametrize(
    ("code", "status", "text", "line"),
    [
        (
            554,
            "5.7.1",
            "5.7.1 <kim@naver.com>: Relay access denied",
            "554 5.7.1 <kim@naver.com>: Relay access denied",
        ),
        (550, "5.1.1", "User unknown", "550 5.1.1 User unknown"),
        (250, "", "Ok: queued as ABC", "250 Ok: queued as ABC"),
        (None, None, None, ""),
        (451, "4.7.1", " 4.7.1 Greylisted", "451 4.7.1 Greylisted"),
    ],
)
def test_the_status_is_written_once(
    code: int | None, status: str | None, text: str | None, line: str
) -> None:
    assert reply_line(code, status, text) == line
