"""The client over HTTP: ``Client(url=..., key=...)`` — the same ``send``, ``send_raw``, ``message``
and ``wait`` as the in-process client, for an application that reaches mailfate through its API
(another container, another machine) and holds no database credentials.

::

    client = Client(url="https://mailfate.internal:8025", key=os.environ["MAILFATE_KEY"])
    sent = client.send(from_="no-reply@app.example", to="kim@naver.com", template="verification-code",
                       variables={"code": "428913"}, lang="ko")
    state = client.wait(sent.message_id, timeout=20)   # one long-poll, answered when the fate is known

- Retries are safe by default: ``send`` gives every message an idempotency key (the caller's, or a
  fresh one per call) and sends the same key again when a request fails on the network, on a 5xx or
  on a 429 (after its Retry-After), so a lost answer never queues a second copy. ``send_raw``
  leaves the key to the server, which derives it from the message's Message-ID and bytes.
- ``wait`` long-polls ``GET /v1/messages/{id}?wait=S``: the server answers as soon as every
  recipient's fate is final, or at once with ``no_worker`` when nothing delivers.
- Errors are the in-process client's: :class:`~mailfate.errors.InputError` (422, 404),
  :class:`~mailfate.submit.service.SuppressedError` (409), :class:`~mailfate.errors.ConfigError`
  for a refused key (401, 403), :class:`~mailfate.errors.MailfateError` when the server cannot be
  reached after the retries.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Unpack

import httpx

from mailfate.client import Client, Waited
from mailfate.errors import ConfigError, InputError, MailfateError
from mailfate.model import FINAL_FATES, Event, Fate, MessageView, NewMessage, RecipientView, SubmitResult
from mailfate.model.workers import WorkerStatus
from mailfate.submit.compose import MessageFields
from mailfate.submit.service import Deadline, RawOptions, Sent, SuppressedError

__all__ = ["RemoteClient"]

MAX_WAIT = 30.0
"""The longest wait one request asks the server for (its ``?wait=`` limit)."""


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _view(doc: dict[str, Any]) -> MessageView:
    """A :class:`MessageView` from the API's ``MessageOut`` JSON."""
    recipients = tuple(
        RecipientView(
            r["id"], doc["message_id"], r["address"], r["domain"], r["fate"], r["attempts"],
            _time(r["next_attempt_at"]), r["reason"], r["last_code"], r["last_status"], r["last_text"],
        )
        for r in doc["recipients"]
    )  # fmt: skip
    ids = {r.address: r.id for r in recipients}
    top = {"id", "message_id", "recipient", "at", "type"}
    events = tuple(
        Event(
            e["id"],
            e["message_id"],
            ids.get(e["recipient"]),
            e["recipient"],
            datetime.fromisoformat(e["at"]),
            e["type"],
            {k: v for k, v in e.items() if k not in top},
        )
        for e in doc["events"]
    )
    created = datetime.fromisoformat(doc["created_at"])
    return MessageView(
        id=doc["message_id"], created_at=created, from_addr=doc["from"], subject=doc["subject"],
        category=doc["category"], tags=tuple(doc["tags"]), deadline=_time(doc["deadline"]),
        expires_at=_time(doc["expires_at"]) or created, header_message_id=doc["header_message_id"],
        size=doc["size"], fate=doc["fate"], recipients=recipients, events=events,
    )  # fmt: skip


def _suppressed(items: Sequence[dict[str, str]]) -> tuple[tuple[str, str, datetime], ...]:
    return tuple((s["address"], s["reason"], datetime.fromisoformat(s["since"])) for s in items)


def _detail(answer: httpx.Response) -> Any:
    try:
        return answer.json().get("detail", answer.text)
    except ValueError:
        return answer.text


class RemoteClient(Client):
    """:class:`Client` over the HTTP API (``Client(url=..., key=...)`` makes one)."""

    def __init__(
        self,
        store: object = None,
        *,
        url: str | None = None,
        key: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        **_ignored: Any,
    ) -> None:
        if not url or not key:
            raise ConfigError("a remote client needs url and key: Client(url='https://…', key='mf_…')")
        self.url, self.retries = url.rstrip("/"), retries
        self.http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {key}", "User-Agent": "mailfate-client/1"},
            timeout=httpx.Timeout(timeout, read=MAX_WAIT + timeout),
            transport=transport,
        )

    # -- sending --------------------------------------------------------------------------------
    def send(
        self,
        *,
        idempotency_key: str | None = None,
        deadline: Deadline = None,
        **fields: Unpack[MessageFields],
    ) -> Sent:
        body: dict[str, Any] = {("from" if k == "from_" else k): v for k, v in fields.items()}
        if isinstance(body.get("to"), str):
            body["to"] = [body["to"]]
        body["idempotency_key"] = idempotency_key or f"client-{uuid.uuid4().hex}"  # the same on a retry
        if deadline is not None:
            body["deadline"] = _seconds(deadline)
        return self._post("/v1/messages", body)

    def send_raw(
        self, raw: bytes, *, mail_from: str, rcpt_to: Sequence[str], **options: Unpack[RawOptions]
    ) -> Sent:
        """As :meth:`Client.send_raw`; the server derives the key (scoped to the API key) when none
        is given, so ``idempotency_scope`` is not sent."""
        body: dict[str, Any] = {
            "mail_from": mail_from,
            "to": list(rcpt_to),
            "raw": base64.b64encode(raw).decode("ascii"),
            "tags": list(options.get("tags", ())),
            "category": options.get("category", "transactional"),
        }
        if options.get("idempotency_key") is not None:
            body["idempotency_key"] = options["idempotency_key"]
        if options.get("deadline") is not None:
            body["deadline"] = _seconds(options["deadline"])
        return self._post("/v1/messages/raw", body)

    def _post(self, path: str, body: dict[str, Any]) -> Sent:
        answer = self._request("POST", path, json=body)
        if answer.status_code == 202:
            doc = answer.json()
            return Sent(
                doc["message_id"], not doc.get("existing", False), _suppressed(doc.get("suppressed", ()))
            )
        detail = _detail(answer)
        if answer.status_code == 409 and isinstance(detail, dict):
            raise SuppressedError(detail["message_id"], _suppressed(detail["suppressed"]))
        raise InputError(f"{path}: {detail}")

    # -- following ------------------------------------------------------------------------------
    def message(self, message_id: str) -> MessageView:
        return _view(self._get(message_id, 0.0))

    def wait(self, message_id: str, timeout: float = 30.0, *, poll: float = 0.05) -> Waited:
        end = time.monotonic() + timeout
        while True:
            doc = self._get(message_id, min(MAX_WAIT, max(0.0, end - time.monotonic())))
            view = _view(doc)
            done = all(Fate(r.fate) in FINAL_FATES for r in view.recipients)
            if done or doc.get("no_worker") or time.monotonic() >= end:
                fields = {name: getattr(view, name) for name in MessageView.__dataclass_fields__}
                return Waited(**fields, no_worker=None if done else doc.get("no_worker"))

    def _get(self, message_id: str, wait: float) -> dict[str, Any]:
        params = {"wait": f"{wait:.2f}"} if wait > 0 else None
        answer = self._request("GET", f"/v1/messages/{message_id}", params=params)
        if answer.status_code == 200:
            doc: dict[str, Any] = answer.json()
            return doc
        raise InputError(f"message {message_id!r}: {_detail(answer)}")

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The answer; retried on the network, a 5xx or a 429; ConfigError for a refused key."""
        problem = ""
        for attempt in range(self.retries + 1):
            try:
                answer = self.http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                problem, pause = f"{type(exc).__name__}: {exc}", 0.25 * 2**attempt
            else:
                if answer.status_code in (401, 403):
                    raise ConfigError(f"{self.url} refused the key ({answer.status_code}): {_detail(answer)}")
                if answer.status_code != 429 and answer.status_code < 500:
                    return answer
                problem = f"HTTP {answer.status_code}: {_detail(answer)}"
                pause = float(answer.headers.get("Retry-After") or 0.25 * 2**attempt)
            if attempt < self.retries:
                time.sleep(min(pause, 10.0))
        raise MailfateError(f"{method} {self.url}{path} failed after {self.retries + 1} tries: {problem}")

    # -- what only the in-process client has ----------------------------------------------------
    def prepare(
        self, *, idempotency_key: str | None = None, deadline: Deadline = None, **fields: Any
    ) -> NewMessage:
        raise NotImplementedError("a remote client sends through the API: use send()")

    def finish(self, message: NewMessage, result: SubmitResult) -> Sent:
        raise NotImplementedError("a remote client sends through the API: use send()")

    def worker_status(self) -> WorkerStatus:
        raise NotImplementedError("ask wait(): its .no_worker says when no worker runs on the server's store")

    def close(self) -> None:
        self.http.close()


def _seconds(deadline: Deadline) -> float | str:
    """A deadline as the API takes it: seconds from now, or the duration text as given."""
    if isinstance(deadline, datetime):
        if deadline.tzinfo is None:
            raise InputError("deadline: give an aware datetime (with a time zone)")
        return max(1.0, (deadline - datetime.now(UTC)).total_seconds())
    if isinstance(deadline, timedelta):
        return deadline.total_seconds()
    assert deadline is not None
    return deadline
