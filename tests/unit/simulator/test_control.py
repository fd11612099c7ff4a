"""The control page against a running Simulator: uvicorn on 127.0.0.1 port 0 in the same event loop.

Mail is sent with a real aiosmtplib client; the counters, the HTML page and the greylist reset
are read back over real HTTP.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest

from mailfate.simulator.control import OUTCOMES, ControlServer, served_domains

runtime = pytest.importorskip("mailfate.simulator.runtime")
config = pytest.importorskip("mailfate.simulator.config")

MSG = b"From: a@app.example\r\nTo: x@accept.mailfate.test\r\nSubject: hi\r\n\r\nbody\r\n"


async def _send(port: int, rcpt: str) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="out.app.example", timeout=10)
    async with client:
        await client.sendmail("a@app.example", [rcpt], MSG)


def _run(tmp_path: Path, body: Any, overrides: dict[str, Any] | None = None) -> None:
    async def main() -> None:
        cfg = config.load_config(overrides=overrides)
        sim = runtime.Simulator(cfg, maildir=tmp_path / "maildir", journal=tmp_path / "j.jsonl")
        async with sim:
            control = ControlServer(sim, port=0)
            await control.start()
            try:
                assert control.port > 0
                async with httpx.AsyncClient(base_url=control.url, timeout=10) as http:
                    await body(sim, http)
            finally:
                await control.stop()

    asyncio.run(main())


def test_status_counts_what_the_server_answered(tmp_path: Path) -> None:
    async def body(sim: Any, http: httpx.AsyncClient) -> None:
        before = (await http.get("/status")).json()
        assert before["smtp"] == {"host": "127.0.0.1", "port": sim.port}
        assert before["total"]["accepted"] == 0
        assert set(OUTCOMES) <= set(before["domains"]["accept.mailfate.test"]["outcomes"])
        assert before["domains"]["accept.mailfate.test"]["personalities"] == ["accept"]
        await _send(sim.port, "x@accept.mailfate.test")
        await _send(sim.port, "y@accept.mailfate.test")
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await _send(sim.port, "nobody@unknown-users.mailfate.test")
        after = (await http.get("/status")).json()
        assert after["domains"]["accept.mailfate.test"]["outcomes"]["accepted"] == 2
        assert after["domains"]["unknown-users.mailfate.test"]["outcomes"]["rejected"] == 1
        assert after["total"]["accepted"] == 2
        assert after["total"]["rejected"] == 1
        assert after["uptime_seconds"] >= before["uptime_seconds"]

    _run(tmp_path, body)


def test_html_page_lists_domains_and_counts_escaped(tmp_path: Path) -> None:
    async def body(sim: Any, http: httpx.AsyncClient) -> None:
        await _send(sim.port, "x@accept.mailfate.test")
        page = await http.get("/counters")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        text = page.text
        assert "<script" not in text
        assert "greylist.mailfate.test" in text
        assert "hanmail.test" in text  # the alias is shown beside daum.test
        row = next(line for line in text.splitlines() if "<td>accept.mailfate.test</td>" in line)
        assert '<td class="n">1</td>' in row

    _run(tmp_path, body)


def test_root_is_the_web_inbox_and_links_the_counters(tmp_path: Path) -> None:
    async def body(sim: Any, http: httpx.AsyncClient) -> None:
        await _send(sim.port, "x@accept.mailfate.test")
        inbox = await http.get("/")
        assert inbox.status_code == 200
        assert 'href="/counters"' in inbox.text and ">hi</a>" in inbox.text  # the subject, linked
        assert 'href="/"' in (await http.get("/counters")).text
        assert (await http.get("/status")).json()["total"]["accepted"] == 1  # JSON as before

    _run(tmp_path, body)


def test_greylist_reset_forgets_triplets(tmp_path: Path) -> None:
    async def body(sim: Any, http: httpx.AsyncClient) -> None:
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as first:
            await _send(sim.port, "x@greylist.mailfate.test")
        assert first.value.recipients[0].code == 451
        reset = await http.post("/greylist/reset")
        assert reset.status_code == 200
        assert reset.json() == {"forgotten": 1}
        assert (await http.post("/greylist/reset")).json() == {"forgotten": 0}
        status = (await http.get("/status")).json()
        assert status["domains"]["greylist.mailfate.test"]["outcomes"]["deferred"] == 1

    _run(tmp_path, body)


def test_get_on_reset_is_not_allowed(tmp_path: Path) -> None:
    async def body(sim: Any, http: httpx.AsyncClient) -> None:
        assert (await http.get("/greylist/reset")).status_code == 405

    _run(tmp_path, body)


def test_control_port_in_use_is_an_oserror(tmp_path: Path) -> None:
    async def main() -> None:
        cfg = config.load_config()
        async with runtime.Simulator(cfg, maildir=tmp_path / "m", journal=tmp_path / "j.jsonl") as sim:
            first = ControlServer(sim, port=0)
            await first.start()
            try:
                with pytest.raises(OSError):
                    await ControlServer(sim, port=first.port).start()
            finally:
                await first.stop()

    asyncio.run(main())


def test_served_domains_folds_aliases_under_their_domain() -> None:
    domains = served_domains(config.load_config())
    assert "hanmail.test" not in domains
    assert "hanmail.test" in domains["daum.test"]["aliases"]
    assert domains["daum.test"]["preset"] == "daum"
    assert domains["greylist.mailfate.test"] == {"aliases": [], "personalities": ["greylist"], "preset": ""}
    assert list(domains) == sorted(domains)
