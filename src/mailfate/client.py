"""The Python client: hand a message over, get its id at once, ask for its fate later.

::

    from mailfate import Client

    client = Client()                                  # ./mailfate-data/mailfate.db, or $MAILFATE_STORE_URL
    sent = client.send(from_="App <no-reply@app.example>", to="kim@naver.com",
                       template="verification-code", variables={"code": "428913"}, lang="ko",
                       deadline="10m")
    state = client.wait(sent.message_id, timeout=20)   # returns as soon as the fate is known
    if state.fate != "delivered":
        offer_sms_instead(state)                       # the code is stuck: say why, offer another way

``send`` writes the message to the store in one transaction and returns; a ``mailfate worker``
(or :class:`mailfate.runtime.WorkerService` in the same process) delivers it.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Unpack

from mailfate.config import Settings, load_settings
from mailfate.errors import InputError
from mailfate.model import FINAL_FATES, Fate
from mailfate.model.duration import parse_duration
from mailfate.store import MessageView, NewMessage, Store, SubmitResult
from mailfate.submit.addresses import parse_recipients, validate_address
from mailfate.submit.compose import MessageFields, compose, message_fields
from mailfate.submit.idempotency import MAX_KEY_LENGTH, derived_key, normalize_message_id

__all__ = ["Client", "Sent", "SuppressedError"]


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: str
    created: bool
    """False when the idempotency key named a message sent before (nothing new was queued)."""
    suppressed: tuple[tuple[str, str, datetime], ...] = ()
    """Recipients refused because they are suppressed: (address, reason, since)."""


class SuppressedError(InputError):
    """Every recipient is on the suppression list: nothing will be sent (the refusal is recorded)."""

    def __init__(self, message_id: str, suppressed: tuple[tuple[str, str, datetime], ...]) -> None:
        self.message_id = message_id
        self.suppressed = suppressed
        detail = "; ".join(f"{a}: {r} since {s:%Y-%m-%d %H:%M} UTC" for a, r, s in suppressed)
        super().__init__(f"not sent, every recipient is suppressed ({detail}); message {message_id}")


def _deadline(value: datetime | timedelta | float | str | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InputError("deadline: give an aware datetime (with a time zone)")
        return value.astimezone(UTC)
    if isinstance(value, timedelta):
        return now + value
    try:
        seconds = parse_duration(value)  # strings and numbers: finite, > 0, bounded
    except InputError as exc:
        raise InputError(f"deadline: {exc}") from exc
    return now + timedelta(seconds=seconds)


class Client:
    """Submit messages to a mailfate store and follow them (in-process, no server needed)."""

    def __init__(
        self,
        store: Store | str | Path | None = None,
        *,
        settings: Settings | None = None,
        template_dirs: Sequence[Path] = (),
        on_submit: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings or load_settings()
        if isinstance(store, Store):
            self.store, self._owned = store, False
        else:
            self.store, self._owned = Store.open(store or self.settings.url), True
        self.template_dirs = tuple(template_dirs)
        self.on_submit = on_submit
        self.clock = clock
        self.max_age = float(self.settings.retry.get("max_age", 5 * 86400))

    def send(
        self,
        *,
        idempotency_key: str | None = None,
        deadline: datetime | timedelta | float | str | None = None,
        **fields: Unpack[MessageFields],
    ) -> Sent:
        """Queue one message; its id at once. Raises InputError for anything unusable (naming the
        field), :class:`SuppressedError` when every recipient is suppressed. ``fields``: from_, to,
        subject, text, html, template, variables, lang, headers, tags, category, reply_to,
        list_unsubscribe (:class:`mailfate.submit.compose.MessageFields`).

        ``idempotency_key`` (1 to 200 characters) makes a retry safe: a ``send`` with a key seen
        before stores nothing and returns the first message (``created`` is False), so a caller
        that lost the answer (a timeout, a crash) sends again with the same key and never queues
        a second copy. Derive it from what the message is for (``f"signup-{user_id}"``); keys are
        unique across the store. None, the default, means no key: every call queues a message
        (a composed message gets a fresh Message-ID each call, so nothing could be derived).
        ``deadline``: give up after this (a duration such as "10m", seconds, or an aware datetime)."""
        message = self.prepare(idempotency_key=idempotency_key, deadline=deadline, **fields)
        return self.finish(message, self.store.submit(message, self.clock()))

    def prepare(
        self,
        *,
        idempotency_key: str | None = None,
        deadline: datetime | timedelta | float | str | None = None,
        **fields: Unpack[MessageFields],
    ) -> NewMessage:
        """The message ``send`` would store: composed, validated, not stored yet."""
        message_fields(fields, "send")
        now = self.clock()
        if idempotency_key is not None and not (0 < len(idempotency_key) <= 200):
            raise InputError("idempotency_key: 1 to 200 characters")
        composed = compose(now=now, template_dirs=self.template_dirs, **fields)
        return NewMessage(
            from_addr=composed.from_addr,
            recipients=composed.recipients,
            raw=composed.raw,
            subject=composed.subject,
            category=composed.category,
            tags=composed.tags,
            idempotency_key=idempotency_key,
            deadline=_deadline(deadline, now),
            header_message_id=composed.header_message_id,
            max_age=self.max_age,
        )

    def finish(self, message: NewMessage, result: SubmitResult) -> Sent:
        """What ``send`` returns for a stored message (wakes the worker; all suppressed → error)."""
        if result.created and self.on_submit is not None:
            self.on_submit()
        if result.created and result.suppressed and len(result.suppressed) == len(message.recipients):
            raise SuppressedError(result.message_id, result.suppressed)
        return Sent(result.message_id, result.created, result.suppressed)

    def send_raw(
        self,
        raw: bytes,
        *,
        mail_from: str,
        rcpt_to: Sequence[str],
        tags: Sequence[str] = (),
        category: str = "transactional",
        idempotency_key: str | None = None,
        idempotency_scope: str = "client",
    ) -> Sent:
        """Queue a message the application composed itself (SMTP submission): the envelope is
        validated, a missing Date or Message-ID is added; the sending domain is the From header's.

        Retries are safe by default: with ``idempotency_key`` None the key is derived from the
        message's Message-ID, ``idempotency_scope`` (who submits; SMTP submission passes the API
        key), the envelope and the message's bytes (:mod:`mailfate.submit.idempotency`), so the
        same message handed over again returns the first one (``created`` False). A message
        without a Message-ID gets no key (the one added here is new each time). A key given
        explicitly (1 to 200 characters) is used as it is."""
        now = self.clock()
        if idempotency_key is not None and not (0 < len(idempotency_key) <= MAX_KEY_LENGTH):
            raise InputError(f"idempotency_key: 1 to {MAX_KEY_LENGTH} characters")
        recipients = parse_recipients(list(rcpt_to))
        sender = validate_address(mail_from) if mail_from else ""
        head, sep, _ = raw.partition(b"\r\n\r\n")
        if not sep:
            head, sep, _ = raw.partition(b"\n\n")
        if b"\x00" in head:
            raise InputError("the message's header holds a NUL character (RFC 5322 2.2 allows none)")
        parsed = email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.compat32)
        from_header = email.utils.parseaddr(str(parsed.get("From", "")))[1]
        from_addr = from_header if "@" in from_header else sender
        if not from_addr:
            raise InputError("the message has no From address and the envelope sender is empty")
        extra = b""
        if parsed.get("Date") is None:
            extra += f"Date: {email.utils.format_datetime(now)}\r\n".encode()
        message_id = normalize_message_id(str(parsed.get("Message-ID", "")))
        if idempotency_key is None:
            idempotency_key = derived_key(
                message_id, principal=idempotency_scope, mail_from=sender, recipients=recipients, raw=raw
            )
        if not message_id:
            message_id = f"<{now:%Y%m%d%H%M%S}.{secrets.token_hex(8)}@{from_addr.rpartition('@')[2]}>"
            extra += f"Message-ID: {message_id}\r\n".encode()
        result = self.store.submit(
            NewMessage(
                from_addr=from_addr,
                recipients=recipients,
                raw=extra + raw,
                subject=str(parsed.get("Subject", ""))[:998],
                category=category,
                tags=tuple(tags),
                idempotency_key=idempotency_key,
                header_message_id=message_id,
                max_age=self.max_age,
            ),
            now,
        )
        if result.created and self.on_submit is not None:
            self.on_submit()
        if result.created and result.suppressed and len(result.suppressed) == len(recipients):
            raise SuppressedError(result.message_id, result.suppressed)
        return Sent(result.message_id, result.created, result.suppressed)

    def message(self, message_id: str) -> MessageView:
        """The message, its recipients' fates and its timeline (InputError if there is none)."""
        view = self.store.message(message_id)
        if view is None:
            raise InputError(f"no message {message_id!r} in {self.store.shown}")
        return view

    def wait(self, message_id: str, timeout: float = 30.0, *, poll: float = 0.05) -> MessageView:
        """The message as soon as every recipient's fate is known, or when ``timeout`` seconds
        have passed — whichever comes first; look at ``.fate`` (still ``deferred``? the last
        event says why and when the next attempt is)."""
        end = time.monotonic() + timeout
        while True:
            view = self.message(message_id)
            if all(Fate(r.fate) in FINAL_FATES for r in view.recipients) or time.monotonic() >= end:
                return view
            time.sleep(min(poll, max(0.0, end - time.monotonic())))

    def close(self) -> None:
        if self._owned:
            self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
