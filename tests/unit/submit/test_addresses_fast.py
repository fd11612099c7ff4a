"""The fast path of address validation (a plain local part, a domain checked once) gives exactly
what email-validator gives for the whole address: the same normalized address, or the same
error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mailfate.errors import InputError
from mailfate.submit import addresses
from mailfate.submit.addresses import validate_address

DOMAINS = [
    "naver.test",
    "Naver.TEST",
    "gmail.com",
    "한국.test",
    "xn--3e0b707e.test",
    "sub.domain.example",
    "y.invalid",
    "x.localhost",
    "b",
    "-bad.test",
    "bad-.test",
    "a..b.test",
    "123.456",
    "[127.0.0.1]",
    "x.test.",
    "x<y.test",
    'x"y.test',
    "x y.test",
    "ex\u0301ample.test",
    "\u0301x.test",
    "a" * 63 + ".test",
    "a" * 64 + ".test",
    ".".join(["a" * 60] * 4) + ".test",
    "",
]
LOCAL_CHARS = st.sampled_from([*"abcXYZ019._+-!#$%&'*/=?^`{|}~\"\\ @<>()[],;:", "é", "한", "\u0301"])
LABELS = st.from_regex(r"[a-zA-Z0-9-]{1,12}(\.[a-zA-Z0-9-]{1,8}){0,2}", fullmatch=True)


def outcome(addr: str, check: Callable[[str], str]) -> str:
    try:
        return "ok " + check(addr)
    except InputError as exc:
        return "error " + str(exc)


@settings(max_examples=400, deadline=None)
@given(
    local=st.one_of(
        st.text(LOCAL_CHARS, min_size=0, max_size=70),
        st.sampled_from(["kim", "Kim.Lee", "a+b", "postmaster", "PostMaster", "info", "x" * 64, "x" * 65]),
    ),
    domain=st.one_of(st.sampled_from(DOMAINS), LABELS),
    around=st.sampled_from(["", " ", "\t", "\r\n", "\n", "\x00"]),
)
@example(local="kim", domain="naver.test", around="")
@example(local="x" * 64, domain=".".join(["a" * 60] * 3) + ".test", around="")
def test_the_fast_path_answers_as_email_validator_does(local: str, domain: str, around: str) -> None:
    addr = f"{around}{local}@{domain}{around}"
    validate_address.cache_clear()
    assert outcome(addr, validate_address) == outcome(addr, addresses._validate)


def test_plain_addresses_take_the_fast_path() -> None:
    validate_address.cache_clear()
    assert addresses._plain_address("Kim.Lee+x@Naver.TEST") == "Kim.Lee+x@naver.test"
    assert addresses._plain_address("kim@한국.test") == "kim@xn--3e0b707e.test"
    # left to email-validator: its own wording for errors, RFC 2142 names it lowercases
    for addr in ("kim@y.invalid", "a..b@x.test", "Postmaster@x.test", '"a b"@x.test', "kim@x.test\n"):
        assert addresses._plain_address(addr) is None


@pytest.mark.parametrize("addr", ["kim@y.invalid", "kim@b", "kim@x.test\r\nBcc: x@y.test"])
def test_refused_addresses_are_still_refused(addr: str) -> None:
    validate_address.cache_clear()
    with pytest.raises(InputError):
        validate_address(addr)
