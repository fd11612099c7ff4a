"""The simulator transport: every message to one ``mailfate simulator`` (no TLS, no AUTH)."""

from __future__ import annotations

from mailfate.delivery.transports.smtp import SmtpPool
from mailfate.model import AttemptResult, Envelope

__all__ = ["SimulatorTransport"]


class SimulatorTransport:
    name = "simulator"

    def __init__(
        self, host: str, port: int, *, max_connections: int = 50, helo: str = "mailfate.localhost"
    ) -> None:
        self.pool = SmtpPool(
            host, port, transport=self.name, helo=helo, tls="off", max_connections=max_connections
        )

    async def deliver(self, envelope: Envelope) -> list[AttemptResult]:
        return await self.pool.deliver(envelope)

    async def aclose(self) -> None:
        await self.pool.aclose()
