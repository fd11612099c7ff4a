"""Which transport a recipient domain goes through: fnmatch patterns, first match wins."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from mailfate.delivery.transports.base import Transport

__all__ = ["Router"]


class Router:
    def __init__(self, routes: Sequence[tuple[str, Transport]], default: Transport) -> None:
        self.routes = [(pattern.lower(), transport) for pattern, transport in routes]
        self.default = default
        self._cache: dict[str, Transport] = {}

    def route(self, domain: str) -> Transport:
        domain = domain.lower()
        found = self._cache.get(domain)
        if found is None:
            found = next((t for p, t in self.routes if fnmatch.fnmatchcase(domain, p)), self.default)
            if len(self._cache) < 100_000:
                self._cache[domain] = found
        return found

    def transports(self) -> list[Transport]:
        seen: dict[int, Transport] = {id(self.default): self.default}
        for _, transport in self.routes:
            seen.setdefault(id(transport), transport)
        return list(seen.values())
