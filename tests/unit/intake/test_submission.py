"""The SMTP submission server with real clients: never an open relay, AUTH only over TLS with an
API key, the message id in the 250, brute force stopped, a rate per key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.intake.smtp_submission import SubmissionServer
from mailfate.store import Store
from tests.support.tls import certificate, client_context, server_context

MSG = b"From: App <no-reply@app.example>\r\nTo: kim@naver.test\r\nSubject: code\r\n\r\n123456\r\n"


def run(
    tmp_path: Path,
    body: Callable[[SubmissionServer, dict[str, str], Any], Coroutine[Any, Any, None]],
    **kw: Any,
) -> None:
    cert, key = certificate(tmp_path)
    store = Store.open(tmp_path / "s.db")
    now = datetime.now(UTC)
    keys = {s: store.keys.create_key({s}, at=now) for s in ("send", "read")}

    async def main() -> None:
        client = Client(store, settings=load_settings(None, data_dir=tmp_path))
        server = SubmissionServer(store, client, server_context(cert, key), hostname="localhost", **kw)
        await server.start()
        try:
            await body(server, keys, client_context(cert))
        finally:
            await server.stop()

    try:
        asyncio.run(main())
    finally:
        store.close()


def smtp(server: SubmissionServer, ctx: Any, **kw: Any) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(hostname="localhost", port=server.port, tls_context=ctx, timeout=10, **kw)


def test_without_auth_nothing_is_accepted_for_any_domain(tmp_path: Path) -> None:
    async def body(server: SubmissionServer, keys: dict[str, str], ctx: Any) -> None:
        async with smtp(server, ctx, start_tls=False) as client:
            with pytest.raises(aiosmtplib.SMTPResponseException) as info:
                await client.sendmail("spammer@evil.test", ["victim@gmail.test"], MSG)
            assert info.value.code == 530
        async with smtp(server, ctx) as client:  # TLS, still no AUTH
            with pytest.raises(aiosmtplib.SMTPResponseException) as info:
                await client.sendmail("spammer@evil.test", ["victim@gmail.test"], MSG)
            assert info.value.code == 530

    run(tmp_path, body)


def test_auth_needs_tls_and_a_send_key_and_the_250_names_the_message(tmp_path: Path) -> None:
    async def body(server: SubmissionServer, keys: dict[str, str], ctx: Any) -> None:
        async with smtp(server, ctx, start_tls=False) as client:
            with pytest.raises(aiosmtplib.SMTPException):
                await client.login("app", keys["send"])  # no AUTH over plaintext
        async with smtp(server, ctx) as client:
            with pytest.raises(aiosmtplib.SMTPAuthenticationError):
                await client.login("app", keys["read"])
        async with smtp(server, ctx) as client:
            await client.login("app", keys["send"])
            errors, text = await client.sendmail("bounces@app.example", ["kim@naver.test"], MSG)
            assert not errors and "Ok: queued as m" in text
        mid = text.rsplit(" ", 1)[1]
        view = server.client.store.messages.message(mid)
        assert view is not None and view.fate == "queued" and view.from_addr == "no-reply@app.example"
        raw = server.client.store.queue.raw(mid)
        assert raw.endswith(MSG) and b"Message-ID: <" in raw and b"Date: " in raw

    run(tmp_path, body)


def test_repeated_auth_failures_close_the_door(tmp_path: Path) -> None:
    async def body(server: SubmissionServer, keys: dict[str, str], ctx: Any) -> None:
        for _ in range(2):  # aiosmtplib tries PLAIN, then LOGIN: two failures per login
            async with smtp(server, ctx) as client:
                with pytest.raises(aiosmtplib.SMTPAuthenticationError):
                    await client.login("app", "mf_wrong")
        async with smtp(server, ctx) as client:
            with pytest.raises((aiosmtplib.SMTPResponseException, aiosmtplib.SMTPServerDisconnected)) as info:
                await client.login("app", keys["send"])  # even the right key: the IP is blocked for now
            assert getattr(info.value, "code", 421) == 421
        assert len(server.failures["127.0.0.1"]) == 4

    run(tmp_path, body, max_auth_failures=4)


def test_a_rate_per_key(tmp_path: Path) -> None:
    async def body(server: SubmissionServer, keys: dict[str, str], ctx: Any) -> None:
        async with smtp(server, ctx) as client:
            await client.login("app", keys["send"])
            codes = []
            for _ in range(3):
                try:
                    await client.sendmail("b@app.example", ["kim@naver.test"], MSG)
                    codes.append(250)
                except aiosmtplib.SMTPResponseException as exc:
                    codes.append(exc.code)
            assert codes == [250, 250, 451]

    run(tmp_path, body, rate_per_key=2)
