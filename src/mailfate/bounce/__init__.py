"""Bounce intelligence: classify SMTP replies, DSNs, vendor bounces, ARF complaints, auto-replies."""

from __future__ import annotations

from mailfate.bounce.api import parse_bounce, parse_mail
from mailfate.bounce.classify import Classification, Classifier, classify_reply, default_classifier
from mailfate.bounce.mail import Mail
from mailfate.bounce.record import BounceRecord, Draft
from mailfate.model.reasons import Kind, Reason, is_hard

__all__ = [
    "BounceRecord",
    "Classification",
    "Classifier",
    "Draft",
    "Kind",
    "Mail",
    "Reason",
    "classify_reply",
    "default_classifier",
    "is_hard",
    "parse_bounce",
    "parse_mail",
]
