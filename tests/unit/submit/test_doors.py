"""The three doors — ``Client``, ``POST /v1/messages`` and SMTP submission — over real servers on
127.0.0.1 and one store: the same input gets the same answer through each, because each goes
through the one submission service (``mailfate.submit.service``).

- an idempotent retry returns the first message, whichever door the first try came through;
- every recipient suppressed: SuppressedError / 409 / 550 naming the message, recorded once;
- bad input: InputError / 422 / 550 with the same words;
- the worker is woken once per message queued, whichever door queued it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest
import uvicorn

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.errors import InputError
from mailfate.intake.api.app import create_app
from mailfate.intake.smtp_submission import SubmissionServer
from mailfate.model import ApiKey, MessageQuery, NewSuppression
from mailfate.store import Store
from mailfate.submit.service import SuppressedError
from tests.support.tls import certificate, client_context, server_context


class Doors:
    def __init__(self, client: Client, http: httpx.AsyncClient, smtp: Callable[[], aiosmtplib.SMTP]) -> None:
        self.client, self.http, self.smtp = client, http, smtp
        self.store = client.store
        self.key: ApiKey | None = None
        self.secret = ""

    async def smtp_data(self, raw: bytes, mail_from: str, rcpt: list[str], before_data: Any = None) -> str:
        """One SMTP transaction; the reply to DATA (or the first refusal) as ``"code text"``."""
        async with self.smtp() as session:
            await session.login("app", self.secret)
            await session.mail(mail_from)
            for address in rcpt:
                await session.rcpt(address)
            if before_data is not None:
                await asyncio.to_thread(before_data)
            try:
                reply = await session.data(raw)
            except aiosmtplib.SMTPResponseException as exc:
                return f"{exc.code} {exc.message}"
            return f"{reply.code} {reply.message}"


def run(tmp_path: Path, body: Callable[[Doors, list[int]], Awaitable[None]]) -> None:
    cert, key = certificate(tmp_path)
    store = Store.open(tmp_path / "s.db")
    secret = store.keys.create_key({"send", "read"}, at=datetime.now(UTC))
    woken: list[int] = []

    async def main() -> None:
        client = Client(
            store, settings=load_settings(None, data_dir=tmp_path), on_submit=lambda: woken.append(1)
        )
        submission = SubmissionServer(store, client, server_context(cert, key), hostname="localhost")
        await submission.start()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(store, client), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        ctx = client_context(cert)
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {secret}"}, timeout=20
            ) as http:
                doors = Doors(
                    client,
                    http,
                    lambda: aiosmtplib.SMTP(
                        hostname="localhost", port=submission.port, tls_context=ctx, timeout=10
                    ),
                )
                doors.secret = secret
                doors.key = store.keys.find_key(secret)
                await body(doors, woken)
        finally:
            server.should_exit = True
            await serving
            await submission.stop()

    try:
        asyncio.run(main())
    finally:
        store.close()


def stored(store: Store) -> list[str]:
    return [m.id for m in store.messages.search_messages(MessageQuery(limit=100))[0]]


MESSAGE = {"subject": "code", "text": "123456"}


def test_an_idempotent_retry_through_another_door_is_the_first_message(tmp_path: Path) -> None:
    async def body(doors: Doors, woken: list[int]) -> None:
        first = await asyncio.to_thread(
            doors.client.send,
            from_="no-reply@app.example",
            to="kim@naver.test",
            idempotency_key="signup-7",
            subject="code",
            text="123456",
        )
        answer = await doors.http.post(
            "/v1/messages",
            json={
                "from": "no-reply@app.example",
                "to": ["kim@naver.test"],
                "idempotency_key": "signup-7",
                **MESSAGE,
            },
        )
        assert answer.status_code == 202 and answer.json() == {
            "message_id": first.message_id,
            "existing": True,
        }
        # a raw message: Client.send_raw on behalf of an API key, then the same through SMTP with that key
        raw = (
            b"From: no-reply@app.example\r\nTo: lee@naver.test\r\nMessage-ID: <r-1@app.example>\r\n\r\nhi\r\n"
        )
        assert doors.key is not None
        by_client = await asyncio.to_thread(
            doors.client.send_raw,
            raw,
            mail_from="bounces@app.example",
            rcpt_to=["lee@naver.test"],
            idempotency_scope=f"key:{doors.key.id}",
        )
        reply = await doors.smtp_data(raw, "bounces@app.example", ["lee@naver.test"])
        assert reply == f"250 2.0.0 Ok: queued as {by_client.message_id}"
        assert sorted(stored(doors.store)) == sorted([first.message_id, by_client.message_id])
        assert len(woken) == 2  # one wake per message queued; the retries queued nothing

    run(tmp_path, body)


def test_every_recipient_suppressed_is_refused_by_each_door_naming_the_message(tmp_path: Path) -> None:
    async def body(doors: Doors, woken: list[int]) -> None:
        doors.store.suppressions.suppress(
            NewSuppression("*", "gone@naver.test", "complaint"), at=datetime.now(UTC)
        )
        with pytest.raises(SuppressedError) as info:
            await asyncio.to_thread(
                doors.client.send,
                from_="no-reply@app.example",
                to="gone@naver.test",
                subject="code",
                text="123456",
            )
        answer = await doors.http.post(
            "/v1/messages", json={"from": "no-reply@app.example", "to": ["gone@naver.test"], **MESSAGE}
        )
        assert answer.status_code == 409
        detail = answer.json()["detail"]
        assert detail["suppressed"][0]["reason"] == "complaint"
        # SMTP refuses a suppressed recipient at RCPT; one suppressed after RCPT is refused at DATA
        raw = b"From: no-reply@app.example\r\nTo: park@naver.test\r\n\r\nhi\r\n"
        reply = await doors.smtp_data(
            raw,
            "bounces@app.example",
            ["park@naver.test"],
            before_data=lambda: doors.store.suppressions.suppress(
                NewSuppression("*", "park@naver.test", "complaint"), at=datetime.now(UTC)
            ),
        )
        assert reply.startswith("550 5.1.1 every recipient is suppressed (message m"), reply
        smtp_id = reply.rsplit(" ", 1)[1].rstrip(")")
        for message_id in (info.value.message_id, detail["message_id"], smtp_id):
            view = doors.store.messages.message(message_id)
            assert view is not None and view.fate == "suppressed"  # recorded, never delivered
        assert len(stored(doors.store)) == 3

    run(tmp_path, body)


def test_bad_input_gets_the_same_words_from_each_door(tmp_path: Path) -> None:
    async def body(doors: Doors, woken: list[int]) -> None:
        with pytest.raises(InputError) as info:
            await asyncio.to_thread(
                doors.client.send, from_="no-reply@app.example", to="kim@naver.test", subject="s"
            )
        answer = await doors.http.post(
            "/v1/messages", json={"from": "no-reply@app.example", "to": ["kim@naver.test"], "subject": "s"}
        )
        assert answer.status_code == 422 and answer.json()["detail"] == str(info.value)
        no_from = b"To: kim@naver.test\r\nSubject: s\r\n\r\nhi\r\n"
        with pytest.raises(InputError) as raw_info:
            await asyncio.to_thread(doors.client.send_raw, no_from, mail_from="", rcpt_to=["kim@naver.test"])
        reply = await doors.smtp_data(no_from, "", ["kim@naver.test"])
        assert reply == f"550 5.6.0 {raw_info.value}"
        assert stored(doors.store) == [] and woken == []

    run(tmp_path, body)


def test_the_null_reverse_path_is_an_empty_sender_at_every_door(tmp_path: Path) -> None:
    """``MAIL FROM:<>`` (aiosmtpd keeps it as ``<>``) is the empty sender ``send_raw`` takes: the
    sending domain is the From header's (it was once refused as "address '<>'")."""

    async def body(doors: Doors, woken: list[int]) -> None:
        raw = b"From: no-reply@app.example\r\nTo: kim@naver.test\r\n\r\nhi\r\n"
        reply = await doors.smtp_data(raw, "", ["kim@naver.test"])
        assert reply.startswith("250 2.0.0 Ok: queued as m"), reply
        by_client = await asyncio.to_thread(
            doors.client.send_raw, raw, mail_from="", rcpt_to=["kim@naver.test"]
        )
        for message_id in (reply.rsplit(" ", 1)[1], by_client.message_id):
            view = doors.store.messages.message(message_id)
            assert view is not None and view.from_addr == "no-reply@app.example"

    run(tmp_path, body)
