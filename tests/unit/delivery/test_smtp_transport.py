"""The SMTP transport against real servers on 127.0.0.1: replies, refusals, drops, garbage, reuse."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailfate.delivery.routing import Router
from mailfate.delivery.transports.relay import RelayTransport
from mailfate.delivery.transports.simulator import SimulatorTransport
from mailfate.model import Envelope as Env

MSG = b"From: a@app.example\r\nTo: x@dest.test\r\nSubject: t\r\n\r\nbody\r\n"


class Handler:
    def __init__(self) -> None:
        self.sessions: set[int] = set()
        self.received: list[tuple[str, list[str]]] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, opts: Any
    ) -> str:
        self.sessions.add(id(session))
        if address.startswith("unknown"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.startswith("grey"):
            return "451 4.7.1 Greylisted, please try again in 5 minutes"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if b"DROP-ME" in bytes(envelope.original_content or b""):
            assert server.transport is not None
            server.transport.close()
            return "250 never seen"
        self.received.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 2.0.0 Ok: queued as Q123"


async def serve(handler: Any) -> tuple[asyncio.Server, int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="mx.dest.test"), "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


def run(body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(body())


def test_per_recipient_results_and_connection_reuse() -> None:
    async def body() -> None:
        handler = Handler()
        server, port = await serve(handler)
        t = SimulatorTransport("127.0.0.1", port)
        try:
            results = await t.deliver(
                Env("b@app.example", ("ok@dest.test", "unknown@dest.test", "grey@dest.test"), MSG)
            )
            assert [(r.outcome, r.code, r.reason) for r in results] == [
                ("delivered", 250, "delivered"),
                ("bounced", 550, "userunknown"),
                ("deferred", 451, "spamdetected"),
            ]
            assert results[0].remote_id == "Q123" and results[0].remote_ip == "127.0.0.1"
            assert results[1].hardbounce and results[2].retry_after == 300 and results[1].command == "RCPT"
            for i in range(20):
                [r] = await t.deliver(Env("b@app.example", (f"ok{i}@dest.test",), MSG))
                assert r.outcome == "delivered"
            assert t.pool.opened == 1 and len(handler.sessions) == 1  # one connection for 21 messages
        finally:
            await t.aclose()
            server.close()

    run(body)


def test_envelope_lines_plain_and_quoted_and_a_refused_sender() -> None:
    """Plain mailboxes go on the MAIL and RCPT lines as they are; a quoted local part takes
    aiosmtplib's own quoting; a refused MAIL FROM is every recipient's reply."""

    class Seen(Handler):
        async def handle_MAIL(
            self, server: SMTP, session: Session, envelope: Envelope, address: str, opts: Any
        ) -> str:
            if address.startswith("blocked"):
                return "553 5.7.1 Sender address rejected: not allowed"
            envelope.mail_from = address
            return "250 2.1.0 Ok"

    async def body() -> None:
        handler = Seen()
        server, port = await serve(handler)
        t = SimulatorTransport("127.0.0.1", port)
        try:
            results = await t.deliver(
                Env("b+tag=1@app.example", ('"john doe"@dest.test', "ok@dest.test"), MSG)
            )
            assert [r.outcome for r in results] == ["delivered", "delivered"]
            assert handler.received == [("b+tag=1@app.example", ['"john doe"@dest.test', "ok@dest.test"])]
            refused = await t.deliver(Env("blocked@app.example", ("ok@dest.test", "x@dest.test"), MSG))
            assert [(r.code, r.command) for r in refused] == [(553, "MAIL"), (553, "MAIL")]
        finally:
            await t.aclose()
            server.close()

    run(body)


def test_a_drop_mid_data_is_deferred_never_delivered_and_the_pool_recovers() -> None:
    async def body() -> None:
        handler = Handler()
        server, port = await serve(handler)
        t = SimulatorTransport("127.0.0.1", port)
        try:
            [r] = await t.deliver(Env("b@app.example", ("ok@dest.test",), MSG + b"DROP-ME\r\n"))
            assert (r.outcome, r.code, r.reason, r.command) == ("deferred", 0, "networkerror", "DATA")
            [r] = await t.deliver(Env("b@app.example", ("ok@dest.test",), MSG))
            assert r.outcome == "delivered"
        finally:
            await t.aclose()
            server.close()

    run(body)


def test_refused_connection_and_garbage_replies_are_deferrals() -> None:
    async def body() -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = sock.getsockname()[1]
        t = SimulatorTransport("127.0.0.1", closed)
        [r] = await t.deliver(Env("b@app.example", ("x@dest.test",), MSG))
        assert (r.outcome, r.code, r.reason, r.command) == ("deferred", 0, "networkerror", "connect")

        handled = asyncio.Event()

        async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                writer.write(b"220 hi\r\n")
                await reader.readline()
                writer.write(b"\x00\xffthis is not smtp\r\n")
                await writer.drain()
                await reader.read()  # until the client hangs up
            finally:
                writer.close()
                handled.set()

        srv = await asyncio.start_server(garbage, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        t2 = SimulatorTransport("127.0.0.1", port)
        [r] = await t2.deliver(Env("b@app.example", ("x@dest.test",), MSG))
        assert r.outcome == "deferred" and r.code == 0 and "not SMTP" in r.text
        await asyncio.wait_for(handled.wait(), 5)
        srv.close()
        await srv.wait_closed()
        await t.aclose()
        await t2.aclose()

    run(body)


def test_greeting_refusal_applies_to_every_recipient() -> None:
    async def body() -> None:
        async def busy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"421 4.7.0 mx.dest.test Too many connections, try again later\r\n")
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        srv = await asyncio.start_server(busy, "127.0.0.1", 0)
        t = SimulatorTransport("127.0.0.1", srv.sockets[0].getsockname()[1])
        results = await t.deliver(Env("b@app.example", ("a@dest.test", "b@dest.test"), MSG))
        assert [(r.outcome, r.code) for r in results] == [("deferred", 421), ("deferred", 421)]
        srv.close()
        await t.aclose()

    run(body)


def test_router_first_match_wins_and_relay_refuses_auth_in_clear() -> None:
    a, b, c = (SimulatorTransport("127.0.0.1", p) for p in (1, 2, 3))
    router = Router([("*.corp.example", a), ("naver.test", b)], c)
    assert (
        router.route("mail.CORP.example") is a
        and router.route("naver.test") is b
        and router.route("x.test") is c
    )
    assert len(router.transports()) == 3
    try:
        RelayTransport("smtp.example.net", 25, username="u", password="p", tls="off")
    except Exception as exc:
        assert "clear" in str(exc)
    else:
        raise AssertionError("AUTH without TLS to a remote host must be refused")


def test_non_ascii_addresses_use_smtputf8_or_bounce_where_it_is_not_offered() -> None:
    async def body() -> None:
        for offered in (True, False):
            handler = Handler()
            loop = asyncio.get_running_loop()

            def protocol(h: Handler = handler, utf8: bool = offered) -> SMTP:
                return SMTP(h, hostname="mx.dest.test", enable_SMTPUTF8=utf8)

            server = await loop.create_server(protocol, "127.0.0.1", 0)
            t = SimulatorTransport("127.0.0.1", server.sockets[0].getsockname()[1])
            try:
                [r] = await t.deliver(Env("b@app.example", ("홍길동@dest.test",), MSG))
                if offered:
                    assert r.outcome == "delivered" and handler.received == [
                        ("b@app.example", ["홍길동@dest.test"])
                    ]
                else:
                    assert (r.outcome, r.status, r.code) == ("bounced", "5.6.7", 0) and handler.received == []
            finally:
                await t.aclose()
                server.close()

    run(body)


def test_an_idle_pooled_session_ends_with_quit() -> None:
    class Quits(Handler):
        def __init__(self) -> None:
            super().__init__()
            self.quit = asyncio.Event()

        async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            self.quit.set()
            return "221 2.0.0 Bye"

    async def body() -> None:
        handler = Quits()
        server, port = await serve(handler)
        t = SimulatorTransport("127.0.0.1", port)
        t.pool.idle_timeout = 0.2
        try:
            [r] = await t.deliver(Env("b@app.example", ("ok@dest.test",), MSG))
            assert r.outcome == "delivered"
            # Not left open until the receiver's own timeout ("timeout after RSET" in its log).
            await asyncio.wait_for(handler.quit.wait(), 5)
            [r] = await t.deliver(Env("b@app.example", ("ok2@dest.test",), MSG))
            assert r.outcome == "delivered" and t.pool.opened == 2  # a fresh session after the QUIT
        finally:
            await t.aclose()
            server.close()

    run(body)
