"""The Python client: hand a message over, get its id at once, ask for its fate later.

::

    from mailfate import Client

    client = Client()                                  # ./mailfate-data/mailfate.db, or $MAILFATE_STORE_URL
    sent = client.send(from_="App <no-reply@app.example>", to="kim@naver.com",
                       template="verification-code", variables={"code": "428913"}, lang="ko",
                       deadline="10m")
    state = client.wait(sent.message_id, timeout=20)   # returns as soon as the fate is known
    if state.no_worker:                                # nothing delivers: no worker runs on the store
        print(state.no_worker)
    elif state.fate != "delivered":
        offer_sms_instead(state)                       # the code is stuck: say why, offer another way

``send`` writes the message to the store in one transaction and returns; a ``mailfate worker``
(or :class:`mailfate.runtime.WorkerService` in the same process) delivers it. The client is a thin
facade over :class:`mailfate.submit.service.SubmitService`, which the HTTP API and SMTP submission
use too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Unpack

from mailfate.config import Settings, load_settings
from mailfate.errors import InputError
from mailfate.model import FINAL_FATES, Fate, MessageView, NewMessage, SubmitResult
from mailfate.model.workers import STALE_AFTER, WorkerStatus
from mailfate.store import Store
from mailfate.submit.compose import MessageFields
from mailfate.submit.service import Deadline, RawOptions, Sent, SubmitService, SuppressedError

__all__ = ["Client", "Sent", "SuppressedError", "Waited", "WorkerStatus"]

_ASK_WORKERS_EVERY = 1.0  # seconds between two looks at the heartbeats while waiting


@dataclass(frozen=True, slots=True)
class Waited(MessageView):
    """What :meth:`Client.wait` returns: the message, and why the wait ended early if it did."""

    no_worker: str | None = None
    """Set when the fate is not known yet and no worker is running on the store (none beat for
    ``worker_threshold`` seconds): "no worker has run for N s …" / "no worker has ever run on this
    store …". ``wait`` then returns at once instead of at its timeout. None otherwise."""


class Client:
    """Submit messages to a mailfate store and follow them (in-process, no server needed)."""

    def __new__(cls, *args: Any, url: str | None = None, key: str | None = None, **kwargs: Any) -> Client:
        """``Client(url=..., key=...)`` is a :class:`~mailfate.client.remote.RemoteClient`: the same
        methods over the HTTP API; without ``url``, the client on the store itself."""
        if url is not None and cls is Client:
            from mailfate.client.remote import RemoteClient  # only what a remote client needs

            return super().__new__(RemoteClient)
        return super().__new__(cls)

    def __init__(
        self,
        store: Store | str | Path | None = None,
        *,
        settings: Settings | None = None,
        template_dirs: Sequence[Path] = (),
        on_submit: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        worker_threshold: float = STALE_AFTER,
        url: str | None = None,
        key: str | None = None,
    ) -> None:
        """The client on ``store`` (a path, a URL, a :class:`Store`; default ``$MAILFATE_STORE_URL``
        or the data directory's SQLite file). ``template_dirs``: template folders searched before
        the settings' (``[templates] dirs``, ``<data_dir>/templates``) and the packaged ones.
        ``url`` and ``key``: see :meth:`__new__`."""
        self.settings = settings or load_settings()
        if isinstance(store, Store):
            self.store, self._owned = store, False
        else:
            self.store, self._owned = Store.open(store or self.settings.url), True
        self.clock = clock
        self.worker_threshold = worker_threshold
        """Seconds without a heartbeat after which no worker counts as running (``wait``)."""
        self.service = SubmitService(
            self.store.queue,
            template_dirs=(*template_dirs, *self.settings.templates),
            max_age=float(self.settings.retry.get("max_age", 5 * 86400)),
            on_submit=on_submit,
            clock=clock,
        )
        """The submission service: the HTTP API and SMTP submission share this client's."""

    def send(
        self,
        *,
        idempotency_key: str | None = None,
        deadline: Deadline = None,
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
        return self.service.send(self.prepare(idempotency_key=idempotency_key, deadline=deadline, **fields))

    def prepare(
        self,
        *,
        idempotency_key: str | None = None,
        deadline: Deadline = None,
        **fields: Unpack[MessageFields],
    ) -> NewMessage:
        """The message ``send`` would store: composed, validated, not stored yet."""
        return self.service.prepare(idempotency_key=idempotency_key, deadline=deadline, **fields)

    def finish(self, message: NewMessage, result: SubmitResult) -> Sent:
        """What ``send`` returns for a stored message (wakes the worker; all suppressed → error)."""
        return self.service.finish(message, result)

    def send_raw(
        self, raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], **options: Unpack[RawOptions]
    ) -> Sent:
        """Queue a message the application composed itself (SMTP submission): the envelope is
        validated, a missing Date or Message-ID is added; the sending domain is the From header's.

        Retries are safe by default: with ``idempotency_key`` None the key is derived from the
        message's Message-ID, ``idempotency_scope`` (who submits; SMTP submission passes the API
        key), the envelope and the message's bytes (:mod:`mailfate.submit.idempotency`), so the
        same message handed over again returns the first one (``created`` False). A message
        without a Message-ID gets no key (the one added here is new each time). A key given
        explicitly (1 to 200 characters) is used as it is. ``deadline`` as for :meth:`send`.
        ``options``: tags, category, idempotency_key, idempotency_scope, deadline
        (:class:`mailfate.submit.service.RawOptions`)."""
        return self.service.send(
            self.service.prepare_raw(raw, mail_from=mail_from, rcpt_to=rcpt_to, **options)
        )

    def message(self, message_id: str) -> MessageView:
        """The message, its recipients' fates and its timeline (InputError if there is none)."""
        view = self.store.messages.message(message_id)
        if view is None:
            raise InputError(f"no message {message_id!r} in {self.store.shown}")
        return view

    def worker_status(self) -> WorkerStatus:
        """Whether a worker runs on this store (its heartbeat; ``.hint`` says what to do if none).
        Wall-clock time, as the workers beat, whatever ``clock`` the client was given."""
        return self.store.workers.worker_status(datetime.now(UTC), threshold=self.worker_threshold)

    def wait(self, message_id: str, timeout: float = 30.0, *, poll: float = 0.05) -> Waited:
        """The message as soon as every recipient's fate is known, or when ``timeout`` seconds
        have passed — whichever comes first; look at ``.fate`` (still ``deferred``? the last
        event says why and when the next attempt is). When no worker runs on the store, it
        returns at once with ``.no_worker`` saying so (nothing would change while it waits)."""
        end = time.monotonic() + timeout
        ask_workers = 0.0  # at once, then every second
        while True:
            view = self.message(message_id)
            if all(Fate(r.fate) in FINAL_FATES for r in view.recipients):
                return _waited(view)
            if time.monotonic() >= ask_workers:
                status = self.worker_status()
                if not status.alive:
                    return _waited(view, status.hint)
                ask_workers = time.monotonic() + _ASK_WORKERS_EVERY
            if time.monotonic() >= end:
                return _waited(view)
            time.sleep(min(poll, max(0.0, end - time.monotonic())))

    def close(self) -> None:
        if self._owned:
            self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _waited(view: MessageView, no_worker: str | None = None) -> Waited:
    fields = {name: getattr(view, name) for name in MessageView.__dataclass_fields__}
    return Waited(**fields, no_worker=no_worker)
