"""``mailfate.django.EmailBackend``: Django's mail goes out through mailfate, in process.

Settings (``settings.MAILFATE``, a dict; every key optional)::

    EMAIL_BACKEND = "mailfate.django.EmailBackend"
    MAILFATE = {
        "STORE": "postgresql+psycopg://mailfate:***@db/mailfate",  # default: $MAILFATE_STORE_URL
        "CONFIG": "/etc/mailfate.toml",                              # default: $MAILFATE_CONFIG
    }
    # or remote, through the HTTP API of a mailfate serve (no database credentials in the app):
    MAILFATE = {"URL": "https://mailfate.internal:8025", "KEY": os.environ["MAILFATE_KEY"]}

A ``mailfate worker`` (or ``mailfate serve``) on the same store delivers. Per message, as
attributes of the ``EmailMessage`` (anymail's names where it has one)::

    msg.tags = ["signup"]                       # mailfate tags
    msg.category = "transactional"              # or "marketing"
    msg.deadline = "10m"                        # give up after this
    msg.idempotency_key = f"signup-{user.pk}"   # a retry never queues a second copy
    msg.send()
    msg.mailfate_message_id                     # the id to trace (also msg.anymail_status.message_id)

Without ``idempotency_key`` the key is derived from the Message-ID, envelope and bytes (as for SMTP
submission): the same bytes handed over again are queued once. Django writes a new Message-ID
each time a message is sent, so a retry of ``send()`` needs ``idempotency_key`` to be safe.

Errors follow Django: with ``fail_silently`` an unusable message or a store error is logged and
counted as not sent; without, it is raised (:class:`mailfate.errors.InputError` for the message,
:class:`mailfate.errors.MailfateError` for the rest).
"""

from __future__ import annotations

import email.utils
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.errors import MailfateError

__all__ = ["EmailBackend", "SendStatus"]

log = logging.getLogger(__name__)


@dataclass
class SendStatus:
    """What ``send`` set on a message: its mailfate id, and per recipient "queued" or "suppressed"
    (the names anymail uses for ``anymail_status``)."""

    message_id: str | None = None
    status: set[str] = field(default_factory=set)
    recipients: dict[str, str] = field(default_factory=dict)


def _envelope(address: str) -> str:
    """The address of ``"Name <a@b>"`` (as Django's SMTP backend puts it in MAIL FROM and RCPT TO)."""
    found = email.utils.parseaddr(address)[1]
    return found or address


class EmailBackend(BaseEmailBackend):  # type: ignore[misc]  # Django has no type hints
    """Queues each message in the mailfate store; ``send_messages`` returns how many were queued."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        options: dict[str, Any] = dict(getattr(django_settings, "MAILFATE", {}) or {})
        options.update({k.upper(): v for k, v in kwargs.items()})
        self.store = options.get("STORE")
        self.config = options.get("CONFIG")
        self.url = options.get("URL")
        self.key = options.get("KEY")
        self._client: Client | None = None
        self._lock = threading.Lock()

    def open(self) -> bool:
        """Open the store once (Django calls this around a batch); True when it opened it now."""
        with self._lock:
            if self._client is not None:
                return False
            try:
                if self.url:  # remote: the HTTP API of a mailfate serve, no database here
                    self._client = Client(url=self.url, key=self.key)
                else:
                    settings = load_settings(self.config) if self.config else load_settings()
                    self._client = Client(self.store, settings=settings)
            except MailfateError:
                if not self.fail_silently:
                    raise
                log.exception("mailfate: cannot open the store")
                return False
            return True

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        opened = self.open()
        if self._client is None:  # could not open, failing silently
            return 0
        sent = 0
        try:
            for message in email_messages:
                if self._send(self._client, message):
                    sent += 1
        finally:
            if opened:
                self.close()
        return sent

    def _send(self, client: Client, message: EmailMessage) -> bool:
        # to + cc + bcc make the envelope (Bcc is not in the header); "Name <a@b>" gives a@b
        recipients = [_envelope(r) for r in message.recipients()]
        if not recipients:
            return False
        try:
            sent = client.send_raw(
                message.message().as_bytes(linesep="\r\n"),
                mail_from=_envelope(message.from_email or django_settings.DEFAULT_FROM_EMAIL),
                rcpt_to=recipients,
                tags=tuple(getattr(message, "tags", ()) or ()),
                category=str(getattr(message, "category", "transactional")),
                idempotency_key=getattr(message, "idempotency_key", None),
                idempotency_scope="django",
                deadline=getattr(message, "deadline", None),
            )
        except MailfateError:
            if not self.fail_silently:
                raise
            log.exception("mailfate: message to %s not queued", ", ".join(recipients))
            return False
        suppressed = {address for address, _, _ in sent.suppressed}
        status = SendStatus(
            sent.message_id,
            {"queued"} | ({"rejected"} if suppressed else set()),
            {r: "rejected" if r in suppressed else "queued" for r in recipients},
        )
        message.mailfate_message_id = sent.message_id
        message.anymail_status = status
        return True
