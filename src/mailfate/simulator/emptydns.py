"""A DNS server on loopback that knows no names: every query is answered NXDOMAIN at once.

The demo points the simulator's resolver here so that the auth personalities see a sender
domain with no SPF, no DKIM key and no DMARC record — the everyday case of a domain that never
published them — without a query leaving the machine. Tests use a real Knot server with zones.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.rcode

__all__ = ["EmptyDns"]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: Any = None
        self.answered = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # a datagram transport (not a DatagramTransport subclass on 3.11)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            query = dns.message.from_wire(data)
        except (dns.exception.DNSException, ValueError):
            return  # not DNS: no answer, as a real server does
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.NXDOMAIN)
        response.flags |= dns.flags.AA
        with contextlib.suppress(OSError, AttributeError):
            self.transport.sendto(response.to_wire(), addr)
        self.answered += 1


class EmptyDns:
    """``await start()`` → listening on ``host:port`` (UDP); ``close()`` stops it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol = _Protocol()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def answered(self) -> int:
        return self._protocol.answered

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self._protocol, local_addr=(self.host, self.port)
        )
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
