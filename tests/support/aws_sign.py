"""Requests signed by botocore's own SigV4 signer (AWS's canonicalisation, not ours), for tests
that send what boto3 would not: hostile bodies, a fixed or stale ``x-amz-date``."""

from __future__ import annotations

from datetime import datetime
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

__all__ = ["sign"]


def sign(
    method: str,
    url: str,
    body: bytes,
    key_id: str,
    secret: str,
    *,
    region: str = "us-east-1",
    service: str = "ses",
    when: datetime | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """The headers to send with ``body`` (Authorization, X-Amz-Date, and ``headers``), signed
    now or at ``when`` (naive UTC, as botocore's clock)."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer = botocore.auth.SigV4Auth(Credentials(key_id, secret), service, region)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(request)
    return {k: v for k, v in request.headers.items()}
