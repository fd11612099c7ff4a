"""The relay transport: a smarthost with AUTH and TLS (your provider's submission server).

AUTH is only sent over TLS (``starttls`` or ``implicit``); ``tls = "off"`` with credentials is
allowed for a loopback host only.

Options: ``host`` (required), ``port`` (587), ``username``, ``password`` or ``password_env`` (the
environment variable holding it), ``tls`` (``starttls``, ``implicit`` or ``off``).
"""

from __future__ import annotations

import ssl

from mailfate.delivery.transports.registry import Options, TransportContext, register
from mailfate.delivery.transports.smtp import SmtpPool
from mailfate.errors import ConfigError
from mailfate.model import AttemptResult, Envelope

__all__ = ["RelayTransport"]


class RelayTransport:
    name = "relay"

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: str = "starttls",
        helo: str | None = None,
        max_connections: int = 20,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if tls not in ("starttls", "implicit", "off"):
            raise ConfigError(f"relay tls = {tls!r}: starttls, implicit or off")
        if username and tls == "off" and host not in ("127.0.0.1", "::1", "localhost"):
            raise ConfigError("relay: AUTH without TLS sends the password in clear; use tls = starttls")
        mode = {"starttls": "required", "implicit": "implicit", "off": "off"}[tls]
        self.pool = SmtpPool(
            host,
            port,
            transport=self.name,
            helo=helo,
            tls=mode,
            username=username,
            password=password,
            max_connections=max_connections,
            tls_context=tls_context,
        )

    async def deliver(self, envelope: Envelope) -> list[AttemptResult]:
        return await self.pool.deliver(envelope)

    async def aclose(self) -> None:
        await self.pool.aclose()


@register("relay", options=("host", "port", "username", "password", "password_env", "tls"))
async def build(options: Options, context: TransportContext) -> RelayTransport:
    if not options.text("host"):
        raise ConfigError(f"{options.where}: a relay needs host (and port)")
    variable = options.text("password_env")
    password = context.environ.get(variable, "") if variable else options.text("password")
    return RelayTransport(
        options.text("host"),
        options.integer("port", 587, low=1, high=65535),
        username=options.text("username") or None,
        password=password or None,
        tls=options.choice("tls", "starttls", ("starttls", "implicit", "off")),
        tls_context=context.tls_context,
    )
