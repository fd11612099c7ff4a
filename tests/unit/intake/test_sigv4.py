"""The server-side SigV4 check (:mod:`mailfate.intake.api.sigv4`): AWS's published test-suite
signatures, requests signed by botocore's own signer, and every way a request is refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from mailfate.intake.api import sigv4
from mailfate.intake.api.ses_keys import KEY_ID, load_master, new_key_id, secret_for
from mailfate.intake.api.sigv4 import Claim, Refusal, Request, SigV4Error
from tests.support.aws_sign import sign

# The AWS Signature Version 4 test suite (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html):
# its example key, time and scope, and the signatures it publishes.
SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SUITE_DATE = "20150830T123600Z"
SUITE_SCOPE = "20150830/us-east-1/service/aws4_request"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _suite(method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes) -> str:
    base = [("host", "example.amazonaws.com"), ("x-amz-date", SUITE_DATE)]
    request = Request(method, path, query, [*headers, *base], body)
    names = tuple(sorted(n for n, _ in request.headers))
    claim = Claim(
        "AKIDEXAMPLE", SUITE_DATE, SUITE_SCOPE, "us-east-1", names, "", hashlib.sha256(body).hexdigest()
    )
    return sigv4.signature(SUITE_SECRET, claim, request)


def test_aws_test_suite_get_vanilla() -> None:
    assert (
        _suite("GET", "/", "", [], b"") == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


def test_aws_test_suite_query_order_key_case() -> None:
    assert (
        _suite("GET", "/", "Param2=value2&Param1=value1", [], b"")
        == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    )


def test_aws_test_suite_post_x_www_form_urlencoded() -> None:
    assert (
        _suite("POST", "/", "", [("content-type", "application/x-www-form-urlencoded")], b"Param1=value1")
        == "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
    )


def test_aws_test_suite_canonical_request_of_get_vanilla() -> None:
    request = Request("GET", "/", "", [("host", "example.amazonaws.com"), ("x-amz-date", SUITE_DATE)], b"")
    assert sigv4.canonical_request(request, ("host", "x-amz-date"), EMPTY) == (
        f"GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:{SUITE_DATE}\n\nhost;x-amz-date\n{EMPTY}"
    )


NOW = datetime(2026, 12, 6, 4, 0, 0, tzinfo=UTC)
KEY, SECRET = "MFAKABCDEFGHIJKL", "mf_" + "a" * 40
URL = "http://127.0.0.1:8025/v2/email/outbound-emails"


def _signed(
    body: bytes = b'{"FromEmailAddress": "a@b.test"}',
    url: str = URL,
    method: str = "POST",
    *,
    when: datetime = NOW,
    service: str = "ses",
    headers: dict[str, str] | None = None,
) -> Request:
    """A request as botocore signs it, as the server would receive it."""
    sent = sign(
        method, url, body, KEY, SECRET, service=service, when=when.replace(tzinfo=None), headers=headers
    )
    parts = urlsplit(url)
    lower = [(k.lower(), v) for k, v in sent.items()] + [("host", parts.netloc)]
    return Request(method, parts.path, parts.query, lower, body)


def _verify(request: Request, now: datetime = NOW, secret: str = SECRET) -> Claim:
    claim = sigv4.parse_claim(request, now)
    sigv4.check_signature(secret, claim, request)
    return claim


def test_botocore_signed_requests_verify() -> None:
    claim = _verify(_signed())
    assert (claim.key_id, claim.region) == (KEY, "us-east-1")
    _verify(_signed(b"", "http://127.0.0.1:8025/v2/email/account", "GET"))
    # an address in the path is percent-encoded once by the client and again in the canonical form
    _verify(_signed(b"", "http://127.0.0.1:8025/v2/email/suppression/addresses/a%2Bb%40x.test", "DELETE"))
    _verify(
        _signed(b"", "http://127.0.0.1:8025/v2/email/suppression/addresses?Reason=BOUNCE&PageSize=10", "GET")
    )
    _verify(_signed(b"Action=SendRawEmail&RawMessage.Data=aGk%3D", "http://127.0.0.1:8025/"))


def _refusal(request: Request, now: datetime = NOW, secret: str = SECRET) -> Refusal:
    with pytest.raises(SigV4Error) as caught:
        _verify(request, now, secret)
    return caught.value.refusal


def _with(request: Request, **changes: object) -> Request:
    fields: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": list(request.headers),
        "body": request.body,
    }
    fields.update(changes)
    return Request(**fields)


def _headers(request: Request, name: str, value: str | None) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in request.headers if k != name]
    return kept if value is None else [*kept, (name, value)]


def test_anything_changed_after_signing_is_a_mismatch() -> None:
    good = _signed()
    assert _refusal(good, secret="mf_" + "b" * 40) is Refusal.MISMATCH
    assert _refusal(_with(good, body=good.body.replace(b"a@", b"e@"))) is Refusal.MISMATCH
    assert _refusal(_with(good, path="/v2/email/outbound-emails/")) is Refusal.MISMATCH
    assert _refusal(_with(good, query="x=1")) is Refusal.MISMATCH
    assert _refusal(_with(good, method="PUT")) is Refusal.MISMATCH
    assert _refusal(_with(good, headers=_headers(good, "host", "evil.test"))) is Refusal.MISMATCH
    auth = good.header("authorization")[0]
    flipped = auth[:-1] + ("0" if auth[-1] != "0" else "1")
    assert _refusal(_with(good, headers=_headers(good, "authorization", flipped))) is Refusal.MISMATCH


def test_the_body_hash_is_computed_not_believed() -> None:
    good = _signed()
    for claimed in ("UNSIGNED-PAYLOAD", EMPTY):
        lied = _with(good, headers=_headers(good, "x-amz-content-sha256", claimed))
        assert _refusal(lied) is Refusal.MISMATCH
        # signed with the claimed hash (botocore signs the header's value): refused all the same
        assert _refusal(_signed(headers={"X-Amz-Content-SHA256": claimed})) is Refusal.MISMATCH


def test_stale_or_future_dates_are_expired() -> None:
    assert _refusal(_signed(when=NOW - timedelta(minutes=5, seconds=1))) is Refusal.EXPIRED
    assert _refusal(_signed(when=NOW + timedelta(minutes=5, seconds=1))) is Refusal.EXPIRED
    _verify(_signed(when=NOW - timedelta(minutes=4, seconds=59)))


def test_incomplete_authorizations() -> None:
    good = _signed()
    auth = good.header("authorization")[0]
    assert _refusal(_with(good, headers=_headers(good, "authorization", None))) is Refusal.MISSING
    for bad in (
        "Bearer mf_x",
        "AWS4-HMAC-SHA256 Credential=x",
        auth.replace("/ses/", "/s3/"),
        auth.replace("SignedHeaders=", "SignedHeaders=content-type;").replace(";host", ";host"),
        auth.replace("host;", ""),
        auth.replace(";x-amz-date", ""),
        auth.replace(f"{NOW:%Y%m%d}/", "20200101/"),
        auth.replace("aws4_request", "aws5_request"),
    ):
        changed = _with(good, headers=_headers(good, "authorization", bad))
        assert _refusal(changed) in (Refusal.INCOMPLETE, Refusal.MISMATCH), bad
    assert _refusal(_signed(service="email")) is Refusal.INCOMPLETE
    twice = _with(good, headers=[*good.headers, ("authorization", auth)])
    assert _refusal(twice) is Refusal.INCOMPLETE
    no_date = _with(good, headers=_headers(good, "x-amz-date", None))
    assert _refusal(no_date) is Refusal.INCOMPLETE
    bad_date = _with(good, headers=_headers(good, "x-amz-date", "20261306T000000Z"))
    assert _refusal(bad_date) is Refusal.INCOMPLETE


def test_header_values_are_trimmed_and_joined_as_aws_does() -> None:
    request = Request(
        "GET",
        "/",
        "",
        [("host", "h"), ("my-header", "  a   b  "), ("my-header", "c"), ("x-amz-date", "d")],
        b"",
    )
    assert "my-header:a b,c\n" in sigv4.canonical_request(request, ("host", "my-header", "x-amz-date"), EMPTY)


def test_dot_segments_and_double_slashes_are_normalised() -> None:
    request = Request("GET", "/a/./b/../c//d/", "", [("host", "h")], b"")
    assert sigv4.canonical_request(request, ("host",), EMPTY).split("\n")[1] == "/a/c/d/"


def test_aws_keys_derive_from_the_master_and_the_key_id(tmp_path: Path) -> None:
    master = load_master(tmp_path)
    assert load_master(tmp_path) == master and (tmp_path / "aws.key").stat().st_mode & 0o777 == 0o600
    one, two = new_key_id(), new_key_id()
    assert KEY_ID.fullmatch(one) and one != two and len(one) == 16
    secret = secret_for(master, one)
    assert secret == secret_for(master, one) and secret != secret_for(master, two)
    assert secret.startswith("mf_") and len(secret) == 43  # the shape of any mailfate API key
    assert secret != secret_for(b"another master", one)
