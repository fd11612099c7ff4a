"""The submission service: prepare → commit → finish, the same whichever way it commits.

``send`` (a thread: the store's group commit) and ``send_async`` (the event loop's batcher) are
the two commits behind the three doors; for the same input they give the same answers: a message
queued once per idempotency key, SuppressedError when every recipient is suppressed, InputError
naming the field — and the worker is woken only when something new was queued."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailfate.errors import InputError
from mailfate.model import MessageQuery, NewMessage, NewSuppression
from mailfate.store import Store
from mailfate.submit.service import Sent, SubmitService, SuppressedError

FIELDS = {"from_": "App <no-reply@app.example>", "subject": "code", "text": "123456"}
RAW = (
    b"From: App <no-reply@app.example>\r\nTo: kim@naver.test\r\nSubject: code\r\n"
    b"Message-ID: <signup-1@app.example>\r\n\r\n123456\r\n"
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "s.db")
    yield store
    store.close()


@pytest.fixture
def woken() -> list[int]:
    return []


@pytest.fixture
def service(store: Store, woken: list[int]) -> SubmitService:
    return SubmitService(store.queue, on_submit=lambda: woken.append(1))


def commit(service: SubmitService, how: str, **fields: object) -> Sent:
    """Prepare a composed message and commit it ``how`` ("thread" or "loop")."""
    message = service.prepare(**{**FIELDS, **fields})  # type: ignore[arg-type]
    if how == "thread":
        return service.send(message)
    return asyncio.run(service.send_async(message))


@pytest.mark.parametrize(("first", "second"), [("thread", "loop"), ("loop", "thread")])
def test_an_idempotency_key_queues_once_whichever_way_it_commits(
    service: SubmitService, store: Store, woken: list[int], first: str, second: str
) -> None:
    a = commit(service, first, to="kim@naver.test", idempotency_key="signup-7")
    b = commit(service, second, to="kim@naver.test", idempotency_key="signup-7")
    assert a.created and not b.created and b.message_id == a.message_id
    assert len(woken) == 1  # the retry queued nothing: the worker is not woken for it
    found, _ = store.messages.search_messages(MessageQuery(limit=10))
    assert [m.id for m in found] == [a.message_id]


@pytest.mark.parametrize("how", ["thread", "loop"])
def test_every_recipient_suppressed_is_an_error_some_suppressed_is_an_answer(
    service: SubmitService, store: Store, how: str
) -> None:
    store.suppressions.suppress(NewSuppression("*", "gone@naver.test", "hard_bounce"), at=datetime.now(UTC))
    with pytest.raises(SuppressedError) as info:
        commit(service, how, to="gone@naver.test")
    assert info.value.suppressed[0][:2] == ("gone@naver.test", "hard_bounce")
    view = store.messages.message(info.value.message_id)  # the refusal is recorded, with the message
    assert view is not None and view.fate == "suppressed"
    sent = commit(service, how, to=["gone@naver.test", "kim@naver.test"])
    assert sent.created and [s[0] for s in sent.suppressed] == ["gone@naver.test"]


@pytest.mark.parametrize("how", ["thread", "loop"])
def test_bad_input_is_refused_before_anything_is_stored(
    service: SubmitService, store: Store, how: str
) -> None:
    with pytest.raises(InputError, match="not-an-address"):
        commit(service, how, to="not-an-address")
    with pytest.raises(InputError, match="idempotency_key"):
        commit(service, how, to="kim@naver.test", idempotency_key="k" * 201)
    with pytest.raises(InputError, match="deadline"):
        commit(service, how, to="kim@naver.test", deadline="soon")
    with pytest.raises(InputError, match="no From address"):
        service.prepare_raw(b"Subject: x\r\n\r\nbody\r\n", mail_from="", rcpt_to=["kim@naver.test"])
    with pytest.raises(InputError, match="NUL"):
        service.prepare_raw(b"From: a@b.test\x00\r\n\r\nx", mail_from="", rcpt_to=["kim@naver.test"])
    assert store.messages.search_messages(MessageQuery(limit=10))[0] == []


def test_a_raw_message_gets_a_derived_key_so_a_resubmission_is_the_first_message(
    service: SubmitService, store: Store
) -> None:
    def raw(scope: str) -> NewMessage:
        message = service.prepare_raw(
            RAW, mail_from="bounces@app.example", rcpt_to=["kim@naver.test"], idempotency_scope=scope
        )
        assert message.idempotency_key is not None and message.from_addr == "no-reply@app.example"
        assert message.raw.startswith(b"Date: ") and message.raw.endswith(RAW)  # a Date was added
        return message

    first = service.send(raw("key:1"))
    again = asyncio.run(service.send_async(raw("key:1")))
    other = service.send(raw("key:2"))
    assert first.created and not again.created and again.message_id == first.message_id
    assert other.created and other.message_id != first.message_id  # another sender: its own message


def test_concurrent_submits_on_the_loop_share_transactions(service: SubmitService, store: Store) -> None:
    async def burst() -> list[Sent]:
        messages = [service.prepare(**FIELDS, to=f"u{i}@naver.test") for i in range(60)]  # type: ignore[arg-type]
        return await asyncio.gather(*(service.send_async(m) for m in messages))

    sent = asyncio.run(burst())
    assert len({s.message_id for s in sent}) == 60 and all(s.created for s in sent)
    assert service.batcher.batches < 60  # grouped: one commit for many requests
    assert len(store.messages.search_messages(MessageQuery(limit=100))[0]) == 60
