"""The maildir writer: concurrent sessions share one writer thread; a 250 means the file exists."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mailfate.simulator.journal import MailStore
from tests.unit.simulator.simkit import MSG, journal, send, serve


def test_concurrent_sessions_each_get_250_only_once_their_copy_is_on_disk(tmp_path: Path) -> None:
    async def one(sim: Any, i: int) -> None:
        reply = await send(
            sim.port,
            [f"user{i}@accept.mailfate.test"],
            msg=MSG.replace(b"Subject:", f"X-N: {i}\r\nSubject:".encode()),
        )
        assert reply.startswith("250 2.0.0"), reply
        queue_id = reply.split("queued as ")[-1].strip()
        path = tmp_path / "mail" / "accept.mailfate.test" / f"{queue_id}.eml"
        assert f"X-N: {i}\r\n".encode() in path.read_bytes()  # there when the 250 came

    async def body(sim: Any) -> None:
        await asyncio.gather(*(one(sim, i) for i in range(40)))
        assert len(sim.stored("accept.mailfate.test")) == 40

    serve(tmp_path, body)
    assert not list((tmp_path / "mail" / "accept.mailfate.test").glob(".*.tmp"))
    assert {line["outcome"] for line in journal(tmp_path)} == {"accepted"}


def test_a_maildir_that_cannot_be_written_gives_a_4xx_not_a_250_and_the_server_goes_on(
    tmp_path: Path,
) -> None:
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "accept.mailfate.test").write_text("a file where the folder should be")

    async def body(sim: Any) -> None:
        reply = await send(sim.port, ["x@accept.mailfate.test"])
        assert reply.startswith("451 4.3.0"), reply
        second = await send(sim.port, ["success@simulator.mailfate.test"])
        assert second.startswith("250"), second

    serve(tmp_path, body)
    [error] = [line for line in journal(tmp_path) if line.get("event") == "internal_error"]
    assert "accept.mailfate.test" in error["error"]


def test_a_failed_write_fails_only_its_own_message(tmp_path: Path) -> None:
    store = MailStore(tmp_path)

    async def main() -> list[str | BaseException | None]:
        (tmp_path / "bad.test").write_text("a file where a folder should be")
        return list(
            await asyncio.gather(
                store.store("ok.test", "A1", b"one"),
                store.store("bad.test", "A2", b"two"),
                store.store("ok.test", "A3", b"three"),
                return_exceptions=True,
            )
        )

    try:
        first, failed, third = asyncio.run(main())
    finally:
        store.close()
    assert Path(str(first)).read_bytes() == b"one"
    assert isinstance(failed, OSError)
    assert Path(str(third)).read_bytes() == b"three"
