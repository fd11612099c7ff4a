"""Amazon SES (SESv2 ``SendEmail`` with raw content) as a transport.

SES answers at once with a MessageId (accepted) or an error; what happens at the receiver comes
later through SNS (issue 5's intake). Errors become attempt results that say whether retrying can
help and what the sender must fix:

- ``MessageRejected`` → bounced (``rejected``); in the sandbox ("not verified") the fix says so;
- ``MailFromDomainNotVerifiedException`` → bounced (``rejected``): verify the MAIL FROM domain;
- ``AccountSendingPausedException`` / ``SendingPausedException`` → deferred (``suspend``);
- ``TooManyRequestsException``, ``Throttling``, ``LimitExceededException`` → deferred (``speeding``);
- anything else from SES (5xx, network) → deferred.

Options: ``region`` (us-east-1), ``configuration_set``, ``endpoint_url`` (an SES-compatible endpoint
instead of AWS's, e.g. a local one in tests). Credentials come from boto3's usual chain.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mailfate.delivery.transports.registry import Options, TransportContext, register
from mailfate.errors import ConfigError
from mailfate.model import AttemptResult, Envelope, Outcome

__all__ = ["SesTransport"]

_FIX = {
    "MessageRejected": "SES refused the message itself; read the text, fix the content or addresses",
    "MailFromDomainNotVerifiedException": "verify the MAIL FROM domain in SES (custom MAIL FROM: MX and SPF)",
    "AccountSendingPausedException": "SES paused sending for this account (often for the bounce or complaint "
    "rate): look at the account's reputation dashboard; mailfate retries",
    "SendingPausedException": "sending is paused for this configuration set; resume it in SES",
    "TooManyRequestsException": "over the SES sending rate: mailfate slows down and retries",
    "Throttling": "over the SES API rate: mailfate slows down and retries",
    "LimitExceededException": "a daily SES quota is used up: ask AWS for more or wait; mailfate retries",
}
_SANDBOX = "the account is in the SES sandbox: verify each recipient, or request production access"


class SesTransport:
    name = "ses"

    def __init__(
        self,
        region: str = "us-east-1",
        *,
        configuration_set: str | None = None,
        client: Any = None,
        endpoint_url: str | None = None,
    ) -> None:
        if client is None:
            # boto3 is imported only when an SES transport is built: it takes longer to import than
            # everything else a worker loads, and most workers never talk to SES.
            try:
                import boto3
            except ModuleNotFoundError as exc:
                raise ConfigError(
                    "the ses transport needs boto3, which is not installed: pip install 'mailfate[ses]'"
                ) from exc

            client = boto3.client("sesv2", region_name=region, endpoint_url=endpoint_url)
        self.client = client
        self.configuration_set = configuration_set

    async def deliver(self, envelope: Envelope) -> list[AttemptResult]:
        started = time.perf_counter()
        kwargs: dict[str, Any] = {
            "FromEmailAddress": envelope.mail_from,
            "Destination": {"ToAddresses": list(envelope.recipients)},
            "Content": {"Raw": {"Data": envelope.data}},
        }
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        try:
            answer = await asyncio.to_thread(self.client.send_email, **kwargs)
        except Exception as exc:
            result = self._error(exc, (time.perf_counter() - started) * 1000)
        else:
            mid = str(answer.get("MessageId", ""))
            result = AttemptResult(
                "delivered",
                250,
                "2.0.0",
                f"accepted by Amazon SES (MessageId {mid})",
                "delivered",
                False,
                rule_id="ses",
                command="api",
                transport=self.name,
                remote_host="email.amazonaws.com",
                total_ms=(time.perf_counter() - started) * 1000,
                remote_id=mid,
            )
        return [result] * len(envelope.recipients)

    def _error(self, exc: Exception, total_ms: float) -> AttemptResult:
        response = getattr(exc, "response", None) or {}
        code = str(response.get("Error", {}).get("Code", type(exc).__name__))
        text = str(response.get("Error", {}).get("Message", exc))[:1000]
        fix = _FIX.get(code, "")
        outcome: Outcome
        if code == "MessageRejected" and "not verified" in text.lower():
            fix = _SANDBOX
        if code in ("MessageRejected", "MailFromDomainNotVerifiedException"):
            outcome, smtp, status, reason = "bounced", 554, "5.7.1", "rejected"
        elif code in ("AccountSendingPausedException", "SendingPausedException"):
            outcome, smtp, status, reason = "deferred", 451, "4.7.1", "suspend"
        elif code in (
            "TooManyRequestsException",
            "Throttling",
            "ThrottlingException",
            "LimitExceededException",
        ):
            outcome, smtp, status, reason = "deferred", 421, "4.7.0", "speeding"
        else:
            outcome, smtp, status, reason = "deferred", 0, "4.4.1", "networkerror"
        return AttemptResult(
            outcome,
            smtp,
            status,
            f"SES {code}: {text}",
            reason,
            False,
            rule_id=f"ses.{code}",
            command="api",
            transport=self.name,
            remote_host="email.amazonaws.com",
            total_ms=total_ms,
            retry_after=60.0 if reason == "speeding" else None,
            fix=fix,
        )

    async def aclose(self) -> None:
        """boto3 clients hold no connection worth closing."""


@register("ses", options=("region", "configuration_set", "endpoint_url"))
async def build(options: Options, context: TransportContext) -> SesTransport:
    return SesTransport(
        options.text("region", "us-east-1"),
        configuration_set=options.text("configuration_set") or None,
        endpoint_url=options.text("endpoint_url") or None,
    )
