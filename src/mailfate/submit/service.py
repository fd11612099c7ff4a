"""The one submission service every door uses: prepare → commit → finish.

- **prepare**: :meth:`SubmitService.prepare` composes a message from its fields
  (:class:`~mailfate.submit.compose.MessageFields`, the API's schema too);
  :meth:`SubmitService.prepare_raw` takes one the application composed itself
  (:mod:`mailfate.submit.raw`). Either is a :class:`~mailfate.model.NewMessage`, validated, not
  stored; InputError names what is unusable.
- **commit**: from a thread through the store's group commit (``store.queue.submit``:
  :meth:`SubmitService.send`), from an event loop through :class:`~.batcher.SubmitBatcher`
  (:meth:`SubmitService.send_async`). Concurrent submits share one transaction either way.
- **finish**: :meth:`SubmitService.finish` wakes the worker when something was queued
  (``on_submit``, wired by :mod:`mailfate.runtime`) and raises :class:`SuppressedError` when every
  recipient is suppressed — once, here, for ``Client``, the HTTP API and SMTP submission alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, TypedDict, Unpack

from mailfate.errors import InputError
from mailfate.model import NewMessage, SubmitResult
from mailfate.model.duration import parse_duration
from mailfate.submit.batcher import BatchStore, SubmitBatcher
from mailfate.submit.compose import MessageFields, compose, message_fields
from mailfate.submit.idempotency import MAX_KEY_LENGTH
from mailfate.submit.raw import prepare_raw

__all__ = ["Deadline", "RawOptions", "Sent", "SubmitService", "SubmitStore", "SuppressedError", "deadline_at"]

Deadline = datetime | timedelta | float | str | None


class RawOptions(TypedDict, total=False):
    """What a message the application composed itself may carry besides its bytes and envelope —
    the keyword arguments of ``SubmitService.prepare_raw`` and ``Client.send_raw``, written once.
    Defaults: no tags, ``category`` "transactional", no ``deadline``, ``idempotency_scope``
    "client", and ``idempotency_key`` None (derived from the Message-ID, the scope, the envelope
    and the bytes; none without a Message-ID)."""

    tags: Sequence[str]
    category: str
    idempotency_key: str | None
    idempotency_scope: str
    deadline: Deadline


"""When to give up: an aware datetime, a duration from now ("10m", seconds, a timedelta), or None."""


class SubmitStore(BatchStore, Protocol):
    """Messages into the queue: one from a thread (group commit), many in one transaction."""

    def submit(self, msg: NewMessage, now: datetime) -> SubmitResult: ...


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


def deadline_at(value: Deadline, now: datetime) -> datetime | None:
    """The moment ``value`` names (InputError, prefixed ``deadline:``, when it names none)."""
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


def _check_key(idempotency_key: str | None) -> None:
    if idempotency_key is not None and not (0 < len(idempotency_key) <= MAX_KEY_LENGTH):
        raise InputError(f"idempotency_key: 1 to {MAX_KEY_LENGTH} characters")


class SubmitService:
    """Prepare, commit and finish submits to ``store``. ``on_submit`` is called (from any thread)
    after a message was queued; ``max_age`` is how long a message may wait for delivery."""

    def __init__(
        self,
        store: SubmitStore,
        *,
        template_dirs: Sequence[Path] = (),
        max_age: float = 5 * 86400.0,
        on_submit: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.template_dirs = tuple(template_dirs)
        self.max_age = max_age
        self.on_submit = on_submit
        self.clock = clock
        self.batcher = SubmitBatcher(store, clock=clock)
        """The event loop's group commit (:meth:`send_async`)."""

    # -- prepare --------------------------------------------------------------------------------
    def prepare(
        self,
        *,
        idempotency_key: str | None = None,
        deadline: Deadline = None,
        **fields: Unpack[MessageFields],
    ) -> NewMessage:
        """A composed message: validated, not stored yet."""
        message_fields(fields, "send")
        now = self.clock()
        _check_key(idempotency_key)
        composed = compose(now=now, template_dirs=self.template_dirs, **fields)
        return NewMessage(
            from_addr=composed.from_addr,
            recipients=composed.recipients,
            raw=composed.raw,
            subject=composed.subject,
            category=composed.category,
            tags=composed.tags,
            idempotency_key=idempotency_key,
            deadline=deadline_at(deadline, now),
            header_message_id=composed.header_message_id,
            max_age=self.max_age,
        )

    def prepare_raw(
        self, raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], **options: Unpack[RawOptions]
    ) -> NewMessage:
        """A message the application composed itself (:func:`mailfate.submit.raw.prepare_raw`)."""
        _check_key(options.get("idempotency_key"))
        now = self.clock()
        message = prepare_raw(
            raw,
            mail_from=mail_from,
            rcpt_to=rcpt_to,
            now=now,
            max_age=self.max_age,
            tags=options.get("tags", ()),
            category=options.get("category", "transactional"),
            idempotency_key=options.get("idempotency_key"),
            idempotency_scope=options.get("idempotency_scope", "client"),
        )
        deadline = options.get("deadline")
        return message if deadline is None else replace(message, deadline=deadline_at(deadline, now))

    # -- commit and finish ----------------------------------------------------------------------
    def send(self, message: NewMessage) -> Sent:
        """Store ``message`` from a thread (the store's group commit) and finish."""
        return self.finish(message, self.store.submit(message, self.clock()))

    async def send_async(self, message: NewMessage) -> Sent:
        """Store ``message`` from the event loop (:class:`SubmitBatcher`) and finish."""
        return self.finish(message, await self.batcher.submit(message))

    def finish(self, message: NewMessage, result: SubmitResult) -> Sent:
        """What a door answers for a stored message: wakes the worker when something was queued;
        :class:`SuppressedError` when every recipient is suppressed."""
        if result.created and self.on_submit is not None:
            self.on_submit()
        if result.created and result.suppressed and len(result.suppressed) == len(message.recipients):
            raise SuppressedError(result.message_id, result.suppressed)
        return Sent(result.message_id, result.created, result.suppressed)
