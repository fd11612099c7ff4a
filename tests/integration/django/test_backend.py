"""``mailfate.django.EmailBackend`` in a real Django project (pytest-django): Django builds the
mail, mailfate queues it, a real worker delivers it to the embedded simulator."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection, send_mail

from mailfate.client import Client, SuppressedError
from mailfate.errors import InputError, MailfateError
from mailfate.model import MessageQuery, NewSuppression
from mailfate.store import Store
from tests.support.serve import mailfate, running, serve_args
from tests.unit.engine.test_engine_paths import start_worker, stop_worker


@pytest.fixture
def store_path(tmp_path: Path, settings: Any) -> str:
    path = str(tmp_path / "d" / "mailfate.db")
    settings.MAILFATE = {"STORE": path, "WEBHOOK_SECRET": "s"}
    settings.EMAIL_BACKEND = "mailfate.django.EmailBackend"  # pytest-django swaps in locmem otherwise
    return path


@pytest.fixture
def stored(store_path: str) -> Iterator[Client]:
    Path(store_path).parent.mkdir(parents=True, exist_ok=True)
    with Client(store_path) as client:
        yield client


def parsed(client: Client, message_id: str) -> email.message.EmailMessage:
    """The message as the store keeps it: the bytes Django built, as they will go out."""
    raw = client.store.queue.raw(message_id)
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_send_mail_is_queued_and_delivered(tmp_path: Path, store_path: str) -> None:
    _, thread, loop, stop = start_worker(tmp_path)
    try:
        message = EmailMessage("Your code", "428913", to=["kim@accept.mailfate.test"])
        assert message.send() == 1
        message_id = message.mailfate_message_id
        assert message.anymail_status.message_id == message_id
        with Client(store_path) as client:
            view = client.wait(message_id, timeout=20)
        assert view.fate == "delivered"
        assert [r.address for r in view.recipients] == ["kim@accept.mailfate.test"]
        assert send_mail("Hi", "text", None, ["lee@accept.mailfate.test"]) == 1
    finally:
        stop_worker(thread, loop, stop)


def test_alternatives_attachments_cc_bcc_reply_to_and_headers(stored: Client) -> None:
    message = EmailMultiAlternatives(
        "Welcome",
        "plain body",
        "App <no-reply@app.example>",
        to=["a@accept.mailfate.test"],
        cc=["b@accept.mailfate.test"],
        bcc=["c@accept.mailfate.test"],
        reply_to=["support@app.example"],
        headers={"X-Campaign": "signup"},
    )
    message.attach_alternative("<p>html body</p>", "text/html")
    message.attach("code.txt", b"428913", "text/plain")
    message.tags = ["signup", "web"]
    assert message.send() == 1
    view = stored.message(message.mailfate_message_id)
    assert sorted(r.address for r in view.recipients) == [
        "a@accept.mailfate.test", "b@accept.mailfate.test", "c@accept.mailfate.test",
    ]  # fmt: skip
    assert set(view.tags) == {"signup", "web"} and view.subject == "Welcome"
    kept = parsed(stored, view.id)
    assert kept["Bcc"] is None and kept["Reply-To"] == "support@app.example"
    assert kept["X-Campaign"] == "signup" and kept["Cc"] == "b@accept.mailfate.test"
    parts = {(p.get_content_type(), p.get_filename()) for p in kept.walk() if not p.is_multipart()}
    assert parts == {("text/plain", None), ("text/html", None), ("text/plain", "code.txt")}
    html = kept.get_body(("html",))
    assert html is not None and html.get_content().strip() == "<p>html body</p>"


def test_an_idempotency_key_makes_a_retry_safe(stored: Client) -> None:
    first = EmailMessage("Code", "1", to=["kim@accept.mailfate.test"])
    first.idempotency_key = "signup-42"
    again = EmailMessage("Code", "1", to=["kim@accept.mailfate.test"])
    again.idempotency_key = "signup-42"
    assert first.send() == 1 and again.send() == 1
    assert first.mailfate_message_id == again.mailfate_message_id
    assert len(stored.store.messages.search_messages(MessageQuery(limit=10))[0]) == 1


def test_errors_follow_fail_silently(stored: Client) -> None:
    def bad() -> EmailMessage:  # a message keeps the connection it was first sent with: one each
        return EmailMessage("x", "y", "App <no-reply@app.example>", to=["not an address"])

    with pytest.raises(InputError):
        bad().send()
    assert bad().send(fail_silently=True) == 0
    stored.store.suppressions.suppress(
        NewSuppression("*", "gone@accept.mailfate.test", "hard bounce"), at=stored.clock()
    )
    gone = EmailMessage("x", "y", to=["gone@accept.mailfate.test"])
    with pytest.raises(SuppressedError):
        gone.send()
    mixed = EmailMessage("x", "y", to=["gone@accept.mailfate.test", "ok@accept.mailfate.test"])
    assert mixed.send() == 1
    assert mixed.anymail_status.recipients == {
        "gone@accept.mailfate.test": "rejected",
        "ok@accept.mailfate.test": "queued",
    }


def test_one_connection_sends_many_and_an_empty_list_opens_nothing(stored: Client, store_path: str) -> None:
    with get_connection() as connection:
        messages = [EmailMessage("n", str(i), to=[f"u{i}@accept.mailfate.test"]) for i in range(5)]
        assert connection.send_messages(messages) == 5
        assert connection.send_messages([]) == 0
    assert len(stored.store.messages.search_messages(MessageQuery(limit=10))[0]) == 5


def test_a_missing_store_fails_loudly_or_silently(tmp_path: Path, settings: Any) -> None:
    settings.MAILFATE = {"STORE": "postgresql+psycopg://u:secret@127.0.0.1:1/none"}
    settings.EMAIL_BACKEND = "mailfate.django.EmailBackend"
    assert EmailMessage("x", "y", to=["kim@accept.mailfate.test"]).send(fail_silently=True) == 0
    with pytest.raises(MailfateError, match=r"u:\*\*\*@") as caught:  # the password is never shown
        EmailMessage("x", "y", to=["kim@accept.mailfate.test"]).send()
    assert "secret" not in str(caught.value)


def test_the_store_is_the_one_the_settings_name(store_path: str) -> None:
    send_mail("x", "y", None, ["kim@accept.mailfate.test"])
    store = Store.open(store_path)
    try:
        assert store.stats.counts().get("queued", 0) == 1
    finally:
        store.close()


def test_remote_mode_sends_through_the_http_api(tmp_path: Path, settings: Any) -> None:
    """``MAILFATE = {"URL": ..., "KEY": ...}``: no store in the app, a ``mailfate serve`` delivers."""
    data = tmp_path / "d"
    made = mailfate("keys", "create", "--scope", "send,read", "--json", "--data-dir", str(data))
    key = json.loads(made.stdout)["key"]
    serve = serve_args(data)
    with running(*serve) as ready:
        settings.MAILFATE = {"URL": ready["http"], "KEY": key}
        settings.EMAIL_BACKEND = "mailfate.django.EmailBackend"
        message = EmailMultiAlternatives("Code", "428913", to=["kim@naver.com"], bcc=["audit@naver.com"])
        message.attach_alternative("<b>428913</b>", "text/html")
        message.deadline = "10m"
        message.idempotency_key = "signup-remote-django"
        assert message.send() == 1
        retry = EmailMessage("Code", "428913", to=["kim@naver.com"])
        retry.idempotency_key = "signup-remote-django"
        assert retry.send() == 1 and retry.mailfate_message_id == message.mailfate_message_id
        with Client(url=ready["http"], key=key) as client:
            state = client.wait(message.mailfate_message_id, timeout=25)
    assert state.fate == "delivered" and state.deadline is not None
    assert sorted(r.address for r in state.recipients) == ["audit@naver.com", "kim@naver.com"]
