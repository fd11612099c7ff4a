"""Greylisting and rate-limit deferrals get a deliberate reason, not a status-code fallback.

Sisimai has no greylisting reason; its SpamDetected class is the one that knows greylisting
wording, so ``text.spamdetected.greylisting`` says ``spamdetected`` for any 4xx naming it, before
the 4.2.x / 4.7.1 code rules. Gmail's "temporarily rate limited" deferral is ``speeding``
(Sisimai's Speeding class), even though the same reply says "unsolicited mail".
"""

from __future__ import annotations

import pytest

from mailfate.bounce.classify import classify_reply
from mailfate.model.reasons import Reason


@pytest.mark.parametrize(
    "reply",
    [
        # postgrey through Postfix: 450 4.2.0 (fell to onhold before the rule)
        "450 4.2.0 <a@b.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/b.test.html",
        # a greylister with 4.2.2 would otherwise read as a full mailbox
        "422 4.2.2 Greylisted, please try again in a few moments.",
        # the common 451 4.7.1 greylisting texts would otherwise read as an IP block
        "451 4.7.1 <a@b.test>: Recipient address rejected: Greylisted, please try again later",
        "451 4.7.1 Greylisting in action, please come back later",
        "450 4.7.1 <a@b.test>: Recipient address rejected: Greylisted for 300 seconds",
        "451 4.7.1 Please try again later (graylisted)",
        "450 Greylisted, please try again in 300 seconds",
    ],
)
def test_greylisting_deferrals_are_spamdetected_and_soft(reply: str) -> None:
    result = classify_reply(reply)
    assert result.reason is Reason.SPAMDETECTED
    assert result.rule_id == "text.spamdetected.greylisting"
    assert not result.hardbounce


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("550 5.7.1 Your IP is on our greylisting blocklist", Reason.BLOCKED),
        ("452 4.2.2 <a@b.test>: Recipient address rejected: Mailbox full", Reason.MAILBOXFULL),
        ("451 4.7.1 Client host rejected: Please try again slower", Reason.SPEEDING),
    ],
)
def test_the_rule_keeps_to_4xx_greylisting_wording(reply: str, reason: Reason) -> None:
    result = classify_reply(reply)
    assert result.rule_id != "text.spamdetected.greylisting"
    assert result.reason is reason


def test_gmail_rate_limited_deferral_is_speeding() -> None:
    reply = (
        "421-4.7.0 [192.0.2.1 15] Our system has detected an unusual rate of\r\n"
        "421-4.7.0 unsolicited mail originating from your IP address. To protect our\r\n"
        "421-4.7.0 users from spam, mail sent from your IP address has been temporarily rate limited.\r\n"
        "421 4.7.0 Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError - gsmtp"
    )
    result = classify_reply(reply)
    assert result.reason is Reason.SPEEDING
    assert result.rule_id == "text.speeding.temporarily-rate-limited"


def test_gmail_temporarily_blocked_is_not_speeding() -> None:
    result = classify_reply(
        "421 4.7.0 Our system has detected an unusual rate of unsolicited mail originating from your IP "
        "address. To protect our users from spam, mail sent from your IP address has been temporarily "
        "blocked."
    )
    assert result.reason is not Reason.SPEEDING
