"""DKIM vectors from ../shared/corpus/dkim (RFC 8463 Appendix A) verified through Knot DNS."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import dns.resolver
import pytest

from mailfate.mailauth.dkim import txt_strings, verify_dkim
from mailfate.mailauth.dns import make_resolver
from tests.support.knot import KnotServer, zone_text

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def corpus(shared_dir: Path) -> Path:
    path = shared_dir / "corpus" / "dkim"
    if not (path / "rfc8463-dns.json").exists():
        pytest.skip(f"no DKIM corpus at {path}")
    return path


@pytest.fixture(scope="module")
def resolver(knot_factory: Callable[[dict[str, str]], KnotServer], corpus: Path) -> dns.resolver.Resolver:
    keys = json.loads((corpus / "rfc8463-dns.json").read_text())
    lines = []
    for name, value in keys.items():
        if name.startswith("_"):
            continue
        label = name.removesuffix(".football.example.com")
        strings = " ".join(f'"{part}"' for part in txt_strings(value))
        lines.append(f"{label} IN TXT {strings}")
    server = knot_factory({"football.example.com": zone_text("football.example.com", "\n".join(lines))})
    return make_resolver(server.address, timeout=2.0)


def test_rfc8463_rsa_signature_passes(resolver: dns.resolver.Resolver, corpus: Path) -> None:
    message = (corpus / "dkimpy-1.1.8" / "rfc6376.signed.rsa.msg").read_bytes()
    assert [(r.result, r.domain, r.selector) for r in verify_dkim(message, resolver)] == [
        ("pass", "football.example.com", "test")
    ]


def test_rfc8463_double_signature(resolver: dns.resolver.Resolver, corpus: Path) -> None:
    """ed25519 + rsa: the RSA one passes; ed25519 passes only where pynacl is installed."""
    message = (corpus / "dkimpy-1.1.8" / "rfc6376.signed.msg").read_bytes()
    results = verify_dkim(message, resolver)
    assert [r.selector for r in results] == ["brisbane", "test"]
    assert results[1].result == "pass"
    if importlib.util.find_spec("nacl") is None:
        assert results[0].result == "permerror"
        assert "pynacl" in results[0].reason
    else:
        assert results[0].result == "pass"


def test_rfc8463_tampered_body_fails(resolver: dns.resolver.Resolver, corpus: Path) -> None:
    message = (corpus / "dkimpy-1.1.8" / "rfc6376.signed.rsa.msg").read_bytes()
    tampered = message.replace(b"Joe.", b"Joe!", 1)
    assert tampered != message
    assert [r.result for r in verify_dkim(tampered, resolver)] == ["fail"]
