"""The relay transport over STARTTLS with AUTH against aiosmtpd, with a certificate made in the test."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from mailfate.delivery.transports.relay import RelayTransport
from mailfate.model import Envelope as Env
from tests.support.tls import certificate

MSG = b"From: a@app.example\r\nTo: x@dest.test\r\nSubject: t\r\n\r\nbody\r\n"


class Handler:
    def __init__(self) -> None:
        self.users: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.users.append(str(session.auth_data.login.decode()) if session.auth_data else "")
        return "250 2.0.0 Ok: queued as R1"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"app", b"s3cret")
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


def test_relay_authenticates_over_starttls_and_a_wrong_password_is_a_deferral(tmp_path: Path) -> None:
    cert, key = certificate(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))

    async def main() -> None:
        handler = Handler()
        server = await asyncio.get_running_loop().create_server(
            lambda: SMTP(
                handler,
                tls_context=server_ctx,
                require_starttls=True,
                authenticator=authenticator,
                auth_required=True,
                auth_require_tls=True,
                hostname="localhost",
            ),
            "127.0.0.1",
            0,
        )
        port = server.sockets[0].getsockname()[1]
        good = RelayTransport("localhost", port, username="app", password="s3cret", tls_context=client_ctx)
        bad = RelayTransport("localhost", port, username="app", password="wrong", tls_context=client_ctx)
        try:
            [r] = await good.deliver(Env("b@app.example", ("x@dest.test",), MSG))
            assert (r.outcome, r.remote_id) == ("delivered", "R1") and r.tls_version.startswith("TLSv1.")
            assert handler.users == ["app"]
            [r] = await bad.deliver(Env("b@app.example", ("x@dest.test",), MSG))
            assert (r.outcome, r.reason, r.command) == (
                "deferred",
                "securityerror",
                "AUTH",
            ) and "password" in r.fix
        finally:
            await good.aclose()
            await bad.aclose()
            server.close()

    asyncio.run(main())
