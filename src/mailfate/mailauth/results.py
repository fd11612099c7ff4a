"""The ``Authentication-Results`` header (RFC 8601) for SPF, DKIM and DMARC verdicts, via ``authres``."""

from __future__ import annotations

import re
from collections.abc import Sequence

import authres
import authres.dmarc

from mailfate.mailauth.dkim import DkimResult
from mailfate.mailauth.dmarc import DmarcResult
from mailfate.mailauth.spf import SpfResult

__all__ = ["authentication_results"]

_UNSAFE = re.compile(r"[()\\\r\n]+")


def _comment(text: str) -> str | None:
    cleaned = " ".join(_UNSAFE.sub(" ", text).split())
    return cleaned[:200] or None


def authentication_results(
    authserv_id: str,
    spf: SpfResult | None,
    dkims: Sequence[DkimResult],
    dmarc: DmarcResult | None,
) -> str:
    """The header *value* (``mx.example; spf=pass smtp.mailfrom=…; dkim=…; dmarc=…``).

    ``dkim=none`` results (unsigned mail) appear once; a missing check is left out; nothing at
    all gives ``authserv-id; none``.
    """
    results: list[authres.BaseAuthenticationResult] = []
    if spf is not None:
        identity = {"smtp_helo": spf.domain} if spf.identity == "helo" else {"smtp_mailfrom": spf.domain}
        results.append(
            authres.SPFAuthenticationResult(
                result=spf.result, result_comment=_comment(spf.explanation), **identity
            )
        )
    for dkim in dkims:
        if dkim.result == "none":
            results.append(
                authres.DKIMAuthenticationResult(result="none", result_comment=_comment(dkim.reason))
            )
            continue
        results.append(
            authres.DKIMAuthenticationResult(
                result=dkim.result,
                result_comment=None if dkim.passed else _comment(dkim.reason),
                header_d=dkim.domain or None,
                header_s=dkim.selector or None,
            )
        )
    if dmarc is not None:
        results.append(
            authres.dmarc.DMARCAuthenticationResult(
                result=dmarc.result,
                result_comment=_comment(f"p={dmarc.policy}" if dmarc.policy else dmarc.reason),
                header_from=dmarc.from_domain or None,
                policy=dmarc.policy,
            )
        )
    header = authres.AuthenticationResultsHeader(authserv_id=authserv_id, results=results)
    text = str(header)
    prefix = "Authentication-Results: "
    return text[len(prefix) :] if text.startswith(prefix) else text
