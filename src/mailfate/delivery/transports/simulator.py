"""The simulator transport: every message to one ``mailfate simulator`` (no TLS, no AUTH).

Options: ``host`` and ``port`` of a running simulator; with no host the process starts one itself
(the runtime's embedded simulator, with the configuration file ``config`` if given).
"""

from __future__ import annotations

from mailfate.delivery.transports.registry import Options, TransportContext, register
from mailfate.delivery.transports.smtp import SmtpPool
from mailfate.errors import ConfigError
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


@register("simulator", options=("host", "port", "config"))
async def build(options: Options, context: TransportContext) -> SimulatorTransport:
    host, port = options.text("host"), options.integer("port", 0, high=65535)
    if not host:
        if context.start_simulator is None:
            raise ConfigError(f"{options.where}: give host and port of a running simulator")
        host, port = await context.start_simulator(options.text("config") or None)
    elif not port:
        raise ConfigError(f"{options.where}: host = {host!r} without port: give the port it listens on")
    return SimulatorTransport(host, port)
