"""Idempotency as the normal path: SMTP submission and ``Client.send_raw`` derive a key from the
message's Message-ID, so a retry after a lost answer never queues a second copy — and mail that
only shares a Message-ID (another key, another body, other recipients) is still queued."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from mailfate.client import Client, Sent
from mailfate.config import load_settings
from mailfate.errors import InputError
from mailfate.intake.smtp_submission import SubmissionServer
from mailfate.model import MessageQuery
from mailfate.store import Store
from mailfate.submit.idempotency import MAX_KEY_LENGTH, derived_key
from tests.unit.intake.test_submission import run, smtp


def message(message_id: str | None, body: str = "123456") -> bytes:
    head = "From: App <no-reply@app.example>\r\nTo: kim@naver.test\r\nSubject: code\r\n"
    if message_id is not None:
        head += f"Message-ID: {message_id}\r\n"
    return f"{head}\r\n{body}\r\n".encode()


def stored(store: Store) -> list[str]:
    found, _ = store.messages.search_messages(MessageQuery(limit=100))
    return [m.id for m in found]


async def submit(
    server: SubmissionServer, ctx: Any, key: str, raw: bytes, rcpt: str = "kim@naver.test"
) -> str:
    """One SMTP session (a retry is a new connection); the message id from the 250."""
    async with smtp(server, ctx) as client:
        await client.login("app", key)
        errors, text = await client.sendmail("bounces@app.example", [rcpt], raw)
    assert not errors and "Ok: queued as m" in text, text
    return text.rsplit(" ", 1)[1]


def test_the_same_message_twice_is_stored_once_and_both_get_its_id(tmp_path: Path) -> None:
    raw = message("<signup-7731.1@app.example>")

    async def body(server: SubmissionServer, keys: dict[str, str], ctx: Any) -> None:
        first = await submit(server, ctx, keys["send"], raw)
        again = await submit(server, ctx, keys["send"], raw)
        assert again == first
        assert stored(server.client.store) == [first]
        assert server.client.store.queue.raw(first).endswith(raw)

    run(tmp_path, body)


def test_different_message_ids_are_two_messages(tmp_path: Path) -> None:
    async def body(server: SubmissionServer, keys: dict[str, str], ctx: Any) -> None:
        a = await submit(server, ctx, keys["send"], message("<a@app.example>"))
        b = await submit(server, ctx, keys["send"], message("<b@app.example>"))
        assert a != b and sorted(stored(server.client.store)) == sorted([a, b])

    run(tmp_path, body)


def test_a_commit_whose_answer_was_lost_is_not_queued_again_by_the_retry(tmp_path: Path) -> None:
    """The server stores the message and dies before answering (here: fails after the commit,
    so the client hears no 250); the client retries the same message."""
    raw = message("<lost-250@app.example>")

    async def body(server: SubmissionServer, keys: dict[str, str], ctx: Any) -> None:
        service = server.client.service  # the submission service SMTP submission commits through
        real = service.send_async
        committed: list[Sent] = []

        async def commit_then_die(*args: Any, **kw: Any) -> Sent:
            sent = await real(*args, **kw)
            if not committed:
                committed.append(sent)
                raise RuntimeError("the process died before answering")
            return sent

        service.send_async = commit_then_die  # type: ignore[method-assign]
        async with smtp(server, ctx) as smtp_client:
            await smtp_client.login("app", keys["send"])
            with pytest.raises(aiosmtplib.SMTPResponseException) as info:
                await smtp_client.sendmail("bounces@app.example", ["kim@naver.test"], raw)
            assert info.value.code == 451
        retried = await submit(server, ctx, keys["send"], raw)
        assert retried == committed[0].message_id
        assert stored(server.client.store) == [retried]

    run(tmp_path, body)


def test_only_a_true_repeat_is_deduplicated(tmp_path: Path) -> None:
    """A Message-ID alone is not enough: another API key, another body (an application with a fixed
    Message-ID) or other recipients is another message; no Message-ID, no key."""
    raw = message("<fixed@app.example>")

    async def body(server: SubmissionServer, keys: dict[str, str], ctx: Any) -> None:
        other_key = server.client.store.keys.create_key({"send"}, at=datetime.now(UTC))
        ids = [
            await submit(server, ctx, keys["send"], raw),
            await submit(server, ctx, other_key, raw),
            await submit(server, ctx, keys["send"], message("<fixed@app.example>", body="654321")),
            await submit(server, ctx, keys["send"], raw, rcpt="lee@daum.test"),
            await submit(server, ctx, keys["send"], message(None)),
            await submit(server, ctx, keys["send"], message(None)),
        ]
        assert len(set(ids)) == 6 and len(stored(server.client.store)) == 6

    run(tmp_path, body)


# -- the Python client ---------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    store = Store.open(tmp_path / "c.db")
    with Client(store, settings=load_settings(None, data_dir=tmp_path)) as c:
        yield c
    store.close()


def test_send_raw_derives_a_key_from_the_message_id(client: Client) -> None:
    raw = message("<r1@app.example>")
    first = client.send_raw(raw, mail_from="b@app.example", rcpt_to=["kim@naver.test"])
    again = client.send_raw(raw, mail_from="b@app.example", rcpt_to=["kim@naver.test"])
    assert first.created and not again.created and again.message_id == first.message_id
    other = client.send_raw(
        message("<r2@app.example>"), mail_from="b@app.example", rcpt_to=["kim@naver.test"]
    )
    assert other.created and other.message_id != first.message_id
    # without a Message-ID there is nothing to derive from: each call is a message
    bare = [
        client.send_raw(message(None), mail_from="b@app.example", rcpt_to=["kim@naver.test"]) for _ in "ab"
    ]
    assert all(s.created for s in bare) and bare[0].message_id != bare[1].message_id


def test_send_raw_takes_an_explicit_key_and_checks_it(client: Client) -> None:
    a = client.send_raw(message(None), mail_from="", rcpt_to=["kim@naver.test"], idempotency_key="job-1")
    b = client.send_raw(
        message("<x@app.example>"), mail_from="", rcpt_to=["kim@naver.test"], idempotency_key="job-1"
    )
    assert a.created and not b.created and b.message_id == a.message_id
    for bad in ("", "k" * (MAX_KEY_LENGTH + 1)):
        with pytest.raises(InputError, match="idempotency_key"):
            client.send_raw(message(None), mail_from="", rcpt_to=["kim@naver.test"], idempotency_key=bad)


def test_send_without_a_key_queues_every_call_and_with_one_once(client: Client) -> None:
    def send(key: str | None) -> Sent:
        return client.send(
            from_="no-reply@app.example", to="kim@naver.test", subject="s", text="t", idempotency_key=key
        )

    assert send(None).message_id != send(None).message_id
    first, again = send("signup-7731"), send("signup-7731")
    assert first.created and not again.created and again.message_id == first.message_id


def test_the_derived_key_is_short_whatever_the_message_id() -> None:
    common: dict[str, Any] = {"principal": "key:1", "mail_from": "b@app.example", "recipients": ["k@n.test"]}
    long_id = "<" + "x" * 5000 + "@app.example>"
    key = derived_key(long_id, raw=b"m", **common)
    assert key is not None and len(key) <= MAX_KEY_LENGTH
    assert derived_key("", raw=b"m", **common) is None and derived_key(" \r\n ", raw=b"m", **common) is None
    # folding of the header does not change the key; the recipients' order does not either
    assert derived_key("<a@b>", raw=b"m", **common) == derived_key(" <a@b>\r\n", raw=b"m", **common)
    two = {**common, "recipients": ["a@x.test", "b@y.test"]}
    assert derived_key("<a@b>", raw=b"m", **two) == derived_key(
        "<a@b>", raw=b"m", **{**two, "recipients": ["b@y.test", "a@x.test"]}
    )
    assert derived_key("<a@b>", raw=b"m", **common) != derived_key(
        "<a@b>", raw=b"m", **{**common, "principal": "key:2"}
    )
