"""Garbage in, findings out: lint_message never raises on any bytes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.doctor.compliance import lint_message
from mailfate.doctor.compliance.message import read_message
from mailfate.doctor.findings import Finding

_HEADERS = st.sampled_from(
    [
        b"Subject: ",
        b"From: ",
        b"Date: ",
        b"List-Unsubscribe: ",
        b"List-Unsubscribe-Post: ",
        b"Content-Type: text/html; charset=",
        b"Content-Type: multipart/alternative; boundary=",
        b"Content-Transfer-Encoding: ",
        b"--",
    ]
)
_VALUES = st.one_of(
    st.binary(max_size=60),
    st.sampled_from(
        [
            b"=?euc-kr?B?KLGksO0p?=",
            b"=?iso-2022-kr?Q?=1B$)C?=",
            b"=?x-bogus?B?!!!?=",
            b"iso-2022-kr",
            b"euc-kr",
            b"base64",
            b"quoted-printable",
            b"<https://a.example/u>, <mailto:x@y>",
            b"Mon, 07 Dec 99999 25:61:00 +9900",
            "(광고) 할인 수신거부".encode("cp949"),
        ]
    ),
)
_MESSAGES = st.lists(st.tuples(_HEADERS, _VALUES), max_size=12).map(
    lambda pairs: b"\r\n".join(h + v for h, v in pairs) + b"\r\n\r\n"
)


@settings(max_examples=200, deadline=None)
@given(
    raw=st.one_of(
        st.binary(max_size=2000), _MESSAGES, st.tuples(_MESSAGES, st.binary(max_size=500)).map(b"".join)
    )
)
def test_lint_never_raises_on_garbage(raw: bytes) -> None:
    for country in ("KR", "US"):
        for kind in ("marketing", "transactional"):
            findings = lint_message(raw, country=country, kind=kind)
            assert findings and all(isinstance(f, Finding) and f.source for f in findings)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_read_message_never_raises_on_text(text: str) -> None:
    read_message(text.encode("utf-8", "surrogatepass"))
