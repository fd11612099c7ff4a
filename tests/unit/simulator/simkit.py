"""Test kit for the simulator core tests: a fake clock, a raw-socket SMTP client, a sender."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
MSG = (
    b"From: App <no-reply@app.example>\r\nTo: someone@accept.mailfate.test\r\nSubject: code\r\n"
    b"Message-ID: <m1@app.example>\r\n\r\nYour code is 123456\r\n"
)


class FakeClock:
    def __init__(self) -> None:
        self.at = T0
        self.mono = 1000.0

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
        self.mono += seconds


async def send(port: int, rcpts: list[str], mail_from: str = "bounces@app.example", msg: bytes = MSG) -> str:
    """Send one message; the DATA reply as ``"code status text"``, or the refusal (no exception)."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="out.app.example", timeout=10)
    async with client:
        try:
            errors, text = await client.sendmail(mail_from, rcpts, msg)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return " | ".join(f"{r.code} {r.message}" for r in exc.recipients)
        except aiosmtplib.SMTPResponseException as exc:
            return f"{exc.code} {exc.message}"
    refused = " | ".join(f"{code} {text}" for code, text in errors.values())
    return f"250 {text}" + (f" | {refused}" if refused else "")


class RawClient:
    """A blocking socket speaking SMTP by hand, for malformed input."""

    def __init__(self, port: int, timeout: float = 10) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.banner = self.reply()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def reply(self) -> str:
        """One (possibly multi-line) reply, lines joined with newlines."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3:4] == b"-":
            lines.append(self.line())
        return "\n".join(x.decode("utf-8", "replace") for x in lines)

    def cmd(self, line: bytes) -> str:
        self.send(line + b"\r\n")
        return self.reply()

    def closed(self) -> bool:
        """Whether the server closed the connection (EOF) with nothing more to read."""
        try:
            return self.sock.recv(1) == b""
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()


def serve(
    tmp_path: Any, body: Callable[[Any], Awaitable[None]], overrides: dict[str, Any] | None = None, **kw: Any
) -> None:
    """Run ``body(sim)`` against a Simulator on 127.0.0.1, port 0 (maildir and journal in tmp_path)."""
    from mailfate.simulator.config import load_config
    from mailfate.simulator.runtime import Simulator

    async def main() -> None:
        sim = Simulator(
            load_config(overrides=overrides), maildir=tmp_path / "mail", journal=tmp_path / "j.jsonl", **kw
        )
        async with sim:
            await body(sim)

    asyncio.run(main())


def journal(tmp_path: Any) -> list[dict[str, Any]]:
    path = tmp_path / "j.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()] if path.exists() else []
