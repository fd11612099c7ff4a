"""sign_dkim's own signer (cryptography signs, dkimpy canonicalizes), checked by dkimpy's verifier.

test_checks.py signs and verifies through Knot and mailfate's verify_dkim; here the key record
comes from a ``dnsfunc``, and each case is a message shape that the signer must get byte-exact.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from dkim.util import parse_tag_value
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.errors import InputError
from mailfate.mailauth import dkim as mailauth_dkim
from mailfate.mailauth.dkim import DEFAULT_SIGNED_HEADERS, generate_key, sign_dkim

DOMAIN = "app.example"
SELECTOR = "s1"

_QUIET = logging.getLogger("tests.dkim_sign")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


@dataclass(frozen=True)
class Key:
    pem: bytes
    txt: str


@pytest.fixture(scope="module")
def rsa_key() -> Key:
    pem, txt = generate_key(2048)
    return Key(pem, txt)


@pytest.fixture(scope="module")
def ed_key() -> Key:
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return Key(pem, f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode('ascii')}")


def _dns(key: Key) -> Callable[..., str]:
    def dnsfunc(name: bytes, timeout: float = 5) -> str:
        assert name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode()
        return key.txt

    return dnsfunc


def verifies(signed: bytes, key: Key) -> bool:
    return bool(dkimpy.verify(signed, logger=_QUIET, dnsfunc=_dns(key)))


def tags(signed: bytes) -> dict[bytes, bytes]:
    """The top DKIM-Signature's tags, white space removed from the values."""
    [(name, value), *_], _ = dkimpy.rfc822_parse(signed)
    assert name == b"DKIM-Signature"
    return {k: re.sub(rb"\s+", b"", v) for k, v in parse_tag_value(re.sub(rb"\r?\n", b"", value)).items()}


PLAIN = (
    b"From: App <no-reply@app.example>\r\n"
    b"To: kim@naver.com\r\n"
    b"Subject: Your code\r\n"
    b"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
    b"Message-ID: <m1@app.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Your code is 428913.\r\n"
)

SHAPES = {
    "plain": PLAIN,
    "folded-headers-trailing-whitespace": (
        b"From: App\r\n\t<no-reply@app.example>  \r\n"
        b"To: kim@naver.com,\r\n   lee@daum.net \t\r\n"
        b"Subject:   Your   code\t \r\n"
        b"\r\n"
        b"Line with trailing blanks   \t\r\n"
        b"  indented\t\tand  spaced  \r\n"
        b"\r\n\r\n\r\n"
    ),
    "body-without-final-crlf": PLAIN.removesuffix(b"\r\n"),
    "empty-body": PLAIN.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n",
    "headers-only": PLAIN.split(b"\r\n\r\n", 1)[0] + b"\r\n",
    "lf-only": PLAIN.replace(b"\r\n", b"\n") + b"second line\n\n",
    "8bit-utf8-body": PLAIN.replace(
        b"Your code is 428913.", "인증 코드는 428913 입니다. Grüße — ünïcode ✓".encode()
    ),
    "odd-case-names": (
        b"fROM: App <no-reply@app.example>\r\n"
        b"SUBJECT: Your code\r\n"
        b"mime-VERSION: 1.0\r\n"
        b"to: kim@naver.com\r\n"
        b"\r\n"
        b"body\r\n"
    ),
}


@pytest.mark.parametrize("raw", SHAPES.values(), ids=SHAPES.keys())
def test_signature_verifies_with_dkimpy(raw: bytes, rsa_key: Key) -> None:
    signed = sign_dkim(raw, DOMAIN, SELECTOR, rsa_key.pem)
    assert signed.endswith(raw)
    assert verifies(signed, rsa_key)


def test_tags_match_dkimpys_own_signature(rsa_key: Key) -> None:
    """Same a=, c=, d=, i=, s=, h= and bh= as dkimpy's signer given the same inputs."""
    raw = SHAPES["folded-headers-trailing-whitespace"]
    ours = tags(sign_dkim(raw, DOMAIN, SELECTOR, rsa_key.pem))
    theirs = tags(
        dkimpy.sign(
            raw,
            SELECTOR.encode(),
            DOMAIN.encode(),
            rsa_key.pem,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=[b"from", b"to", b"subject"],
            logger=_QUIET,
        )
    )
    for tag in (b"v", b"a", b"c", b"d", b"i", b"q", b"s", b"h", b"bh"):
        assert ours[tag] == theirs[tag], tag


def test_default_headers_are_those_present(rsa_key: Key) -> None:
    signed = sign_dkim(SHAPES["odd-case-names"], DOMAIN, SELECTOR, rsa_key.pem)
    assert tags(signed)[b"h"] == b"from:to:subject:mime-version"
    plain = tags(sign_dkim(PLAIN, DOMAIN, SELECTOR, rsa_key.pem))
    expected = [h.lower() for h in DEFAULT_SIGNED_HEADERS if h.lower().encode() + b":" in PLAIN.lower()]
    assert plain[b"h"] == ":".join(expected).encode()
    assert (plain[b"a"], plain[b"c"]) == (b"rsa-sha256", b"relaxed/relaxed")


def test_signature_lines_stay_short(rsa_key: Key) -> None:
    long_headers = [*DEFAULT_SIGNED_HEADERS, "X-Campaign-Identifier-With-A-Long-Name"] * 2
    signed = sign_dkim(PLAIN, DOMAIN, SELECTOR, rsa_key.pem, headers=long_headers)
    header = signed[: signed.index(b"\r\nFrom:")]
    assert all(len(line) <= 78 for line in header.split(b"\r\n"))
    assert verifies(signed, rsa_key)


def test_repeated_headers_are_signed_bottom_up(rsa_key: Key) -> None:
    raw = PLAIN.replace(b"Subject:", b"X-Tag: first\r\nX-Tag: second\r\nSubject:")
    once = sign_dkim(raw, DOMAIN, SELECTOR, rsa_key.pem, headers=["From", "X-Tag"])
    assert verifies(once, rsa_key)
    assert verifies(once.replace(b"X-Tag: first", b"X-Tag: other"), rsa_key)  # the top one is not signed
    assert not verifies(once.replace(b"X-Tag: second", b"X-Tag: other"), rsa_key)

    both = sign_dkim(raw, DOMAIN, SELECTOR, rsa_key.pem, headers=["From", "X-Tag", "X-Tag"])
    assert tags(both)[b"h"] == b"from:x-tag:x-tag"
    assert verifies(both, rsa_key)
    swapped = both.replace(b"X-Tag: first\r\nX-Tag: second", b"X-Tag: second\r\nX-Tag: first")
    assert not verifies(swapped, rsa_key)


def test_ed25519_key_signs_ed25519_sha256(ed_key: Key) -> None:
    for raw in (PLAIN, SHAPES["lf-only"], SHAPES["empty-body"]):
        signed = sign_dkim(raw, DOMAIN, SELECTOR, ed_key.pem)
        assert tags(signed)[b"a"] == b"ed25519-sha256"
        assert verifies(signed, ed_key)
    assert not verifies(sign_dkim(PLAIN, DOMAIN, SELECTOR, ed_key.pem).replace(b"428913", b"000000"), ed_key)


def test_tampered_body_fails_verification(rsa_key: Key) -> None:
    signed = sign_dkim(PLAIN, DOMAIN, SELECTOR, rsa_key.pem)
    assert verifies(signed, rsa_key)
    assert not verifies(signed.replace(b"428913", b"428914"), rsa_key)
    assert verifies(signed.replace(b"Your code is", b"Your  code   is"), rsa_key)  # relaxed body


def test_key_is_parsed_once_per_pem(rsa_key: Key) -> None:
    mailauth_dkim._signing_key.cache_clear()
    for _ in range(3):
        sign_dkim(PLAIN, DOMAIN, SELECTOR, rsa_key.pem)
    sign_dkim(PLAIN, DOMAIN, SELECTOR, rsa_key.pem.decode("ascii"))  # str: the same PEM
    info = mailauth_dkim._signing_key.cache_info()
    assert (info.misses, info.hits) == (1, 3)


def _encrypted_pem() -> bytes:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )


def _ec_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.mark.parametrize(
    "pem",
    [
        pytest.param(
            b"-----BEGIN PRIVATE KEY-----\nAAAAnotbase64DER==\n-----END PRIVATE KEY-----\n", id="garbled"
        ),
        pytest.param(b"", id="empty"),
        pytest.param(_encrypted_pem, id="encrypted"),
        pytest.param(_ec_pem, id="ec-key"),
    ],
)
def test_unusable_pem_is_input_error(pem: bytes | Callable[[], bytes]) -> None:
    with pytest.raises(InputError):
        sign_dkim(PLAIN, DOMAIN, SELECTOR, pem() if callable(pem) else pem)


def test_truncated_rsa_pem_is_input_error(rsa_key: Key) -> None:
    lines = rsa_key.pem.splitlines()
    truncated = b"\n".join([*lines[:5], lines[-1]]) + b"\n"
    with pytest.raises(InputError):
        sign_dkim(PLAIN, DOMAIN, SELECTOR, truncated)


@pytest.mark.parametrize(
    ("raw", "domain", "selector", "headers"),
    [
        pytest.param(PLAIN.replace(b"From:", b"Sender:"), DOMAIN, SELECTOR, None, id="no-from"),
        pytest.param(PLAIN, DOMAIN, SELECTOR, ["From", "Bcc"], id="should-not-sign"),
        pytest.param(PLAIN, DOMAIN, SELECTOR, ["From", "Bad Name"], id="bad-field-name"),
        pytest.param(PLAIN, "app.example; x=y", SELECTOR, None, id="bad-domain"),
        pytest.param(PLAIN, DOMAIN, "sélecteur", None, id="non-ascii-selector"),
        pytest.param(b" folded before any field\r\n\r\nbody", DOMAIN, SELECTOR, None, id="not-a-message"),
        pytest.param(b"From: a@app.example\r\n\x01bad\r\n\r\n", DOMAIN, SELECTOR, None, id="bad-header-line"),
    ],
)
def test_bad_input_is_input_error(
    rsa_key: Key, raw: bytes, domain: str, selector: str, headers: list[str] | None
) -> None:
    with pytest.raises(InputError):
        sign_dkim(raw, domain, selector, rsa_key.pem, headers=headers)


# --- property: any printable header values and bodies verify ------------------------------------

_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("\t "), max_size=60
)
_NAMES = st.sampled_from(["Subject", "To", "Cc", "Reply-To", "X-Mailer", "x-odd-CASE", "Date"])


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    sep = draw(st.sampled_from([b"\r\n", b"\n"]))
    lines = [b"From: " + draw(_TEXT).encode()]
    for name, value, fold_at in draw(st.lists(st.tuples(_NAMES, _TEXT, st.integers(0, 60)), max_size=6)):
        text = value.encode()
        if 0 < fold_at < len(text):  # fold: a line break followed by white space
            text = text[:fold_at] + sep + b" " + text[fold_at:]
        lines.append(name.encode() + b":" + text)
    body = [line.encode() for line in draw(st.lists(_TEXT, max_size=8))]
    end = sep if draw(st.booleans()) else b""
    return sep.join([*lines, b"", *body]) + end


@settings(max_examples=150, deadline=None)
@given(raw=messages(), extra=st.lists(_NAMES, max_size=3))
def test_property_any_printable_message_verifies(rsa_key: Key, raw: bytes, extra: list[str]) -> None:
    headers = None if not extra else ["From", *extra]
    signed = sign_dkim(raw, DOMAIN, SELECTOR, rsa_key.pem, headers=headers)
    assert verifies(signed, rsa_key)
