"""The Knot DNS test server answers the zones it was given and changes records live."""

from __future__ import annotations

from collections.abc import Callable

import dns.resolver
import pytest

from tests.support.knot import KnotServer, zone_text

ZONE = '@ IN TXT "v=spf1 -all"\nmx IN A 192.0.2.1\n@ IN MX 10 mx'


def _txt(resolver: dns.resolver.Resolver, name: str) -> list[bytes]:
    return [b"".join(r.strings) for r in resolver.resolve(name, "TXT")]


def test_knot_serves_zone_and_live_changes(knot_factory: Callable[[dict[str, str]], KnotServer]) -> None:
    server = knot_factory({"example.test": zone_text("example.test", ZONE)})
    resolver = server.resolver()
    assert _txt(resolver, "example.test") == [b"v=spf1 -all"]
    server.set_records("example.test", "new", "TXT", '"hello"')
    assert _txt(resolver, "new.example.test") == [b"hello"]
    with pytest.raises(dns.resolver.NoAnswer):  # NODATA, not NXDOMAIN
        resolver.resolve("mx.example.test", "TXT")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("absent.example.test", "TXT")
