"""The dashboard knows our side as configured (``[verp] domain``, a direct transport's HELO): a
timeline row names the party at fault with our real envelope domain, and the postmaster letter
computes alignment from it — as ``mailfate trace`` and ``mailfate report`` do."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from mailfate.client import Client
from mailfate.config import load_settings
from mailfate.delivery.transports.base import result_from_reply
from mailfate.model import AttemptRecord, NewMessage
from mailfate.runtime.serve import build_app
from mailfate.store import Store

SPF_FAIL = "5.7.23 Message rejected: SPF validation failed for the sender"  # names no domain


def test_the_timeline_and_the_letter_use_the_configured_envelope_domain(tmp_path: Path) -> None:
    config = tmp_path / "mailfate.toml"
    config.write_text('[verp]\ndomain = "bounces.app.example"\n')
    settings = load_settings(config, data_dir=tmp_path / "d")
    store = Store.open(tmp_path / "s.db")
    try:
        now = datetime.now(UTC)
        sent = store.queue.submit(
            NewMessage("no-reply@app.example", ("kim@naver.com",), b"Subject: c\r\n\r\nx\r\n"), now
        )
        rid = store.messages.find_recipient(sent.message_id, "kim@naver.com")
        assert rid is not None
        store.queue.claim(1, now=now, lease=60, owner="t")
        result = result_from_reply(
            550, SPF_FAIL, command="DATA", transport="direct", remote_host="mx.naver.com"
        )
        assert result.cause == "spf-fail"
        store.queue.record_attempts([AttemptRecord(rid, result, now + timedelta(seconds=1), None)], owner="t")
        key = store.keys.create_key({"read"}, at=now)
        app = build_app(store, Client(store, settings=settings))

        async def pages() -> tuple[httpx.Response, httpx.Response]:
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as http:
                page = await http.get(f"/messages/{sent.message_id}")
                letter = await http.get(f"/messages/{sent.message_id}/inquiry", params={"format": "md"})
            return page, letter

        page, letter = asyncio.run(pages())
        assert page.status_code == 200
        assert "mailfate doctor domain bounces.app.example" in page.text  # our envelope domain's SPF
        assert letter.status_code == 200 and "bounces.app.example" in letter.text
    finally:
        store.close()
