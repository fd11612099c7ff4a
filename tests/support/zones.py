"""The DNS world of the mail-authentication tests, served by a real Knot server.

- ``auth.test``: SPF ``ip4:127.0.0.1 -all``, DMARC ``p=reject sp=quarantine``, DKIM keys at
  ``k1024._domainkey`` (one TXT string) and ``k2048._domainkey`` (several strings);
  ``host.auth.test`` → 127.0.0.1; ``mail.auth.test`` has no records of its own.
- ``soft.test``: SPF ``ip4:192.0.2.1 ~all``, DMARC ``p=none``.
- ``strictalign.test``: SPF pass for 127.0.0.1, DMARC with ``aspf=s`` (subdomain senders fail).
- ``empty.test``: nothing at all.
- ``mech.test``: SPF mechanisms through real DNS (``mx``, ``ptr``, ``include``, ``redirect``, two records).
- ``0.0.127.in-addr.arpa``: 127.0.0.1 → host.auth.test (FCrDNS ok), 127.0.0.2 → nowhere.auth.test
  (no address), 127.0.0.3 has no PTR.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dns.resolver

from mailfate.mailauth.dkim import generate_key, txt_strings
from tests.support.knot import KnotServer, zone_text


@dataclass(frozen=True)
class Keys:
    k1024: bytes
    k1024_txt: str
    k2048: bytes
    k2048_txt: str


def make_keys() -> Keys:
    p1, t1 = generate_key(1024)
    p2, t2 = generate_key(2048)
    return Keys(p1, t1, p2, t2)


def zones(keys: Keys | None) -> dict[str, str]:
    """The zones; ``keys=None`` leaves the DKIM keys out."""
    dkim = ""
    if keys is not None:
        k2048 = " ".join(f'"{part}"' for part in txt_strings(keys.k2048_txt))
        dkim = f'k1024._domainkey IN TXT "{keys.k1024_txt}"\nk2048._domainkey IN TXT {k2048}\n'
    return {
        "auth.test": zone_text(
            "auth.test",
            '@ IN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
            '_dmarc IN TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@auth.test"\n'
            f"{dkim}"
            "host IN A 127.0.0.1\n"
            "mail IN A 127.0.0.1\n",
        ),
        "soft.test": zone_text(
            "soft.test",
            '@ IN TXT "v=spf1 ip4:192.0.2.1 ~all"\n_dmarc IN TXT "v=DMARC1; p=none"\n',
        ),
        "strictalign.test": zone_text(
            "strictalign.test",
            '@ IN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
            'bounces IN TXT "v=spf1 ip4:127.0.0.1 -all"\n'
            '_dmarc IN TXT "v=DMARC1; p=reject; aspf=s; adkim=s"\n',
        ),
        "empty.test": zone_text("empty.test", ""),
        "mech.test": zone_text(
            "mech.test",
            'mx IN TXT "v=spf1 mx -all"\nmx IN MX 10 relay.mech.test.\nrelay IN A 127.0.0.1\n'
            'ptr IN TXT "v=spf1 ptr:auth.test -all"\n'
            'incl IN TXT "v=spf1 include:auth.test -all"\n'
            'redir IN TXT "v=spf1 redirect=soft.test"\n'
            'two IN TXT "v=spf1 -all"\ntwo IN TXT "v=spf1 +all"\n',
        ),
        "0.0.127.in-addr.arpa": zone_text(
            "0.0.127.in-addr.arpa", "1 IN PTR host.auth.test.\n2 IN PTR nowhere.auth.test.\n"
        ),
    }


def message(
    from_addr: str = "sender@auth.test",
    *,
    to: str = "rcpt@example.test",
    subject: str = "Your receipt",
    body: str = "Thank you for your order.\r\n",
) -> bytes:
    return (
        f"From: Shop <{from_addr}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
        f"Date: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@auth.test>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode()


@contextmanager
def silent_resolver(timeout: float = 0.3) -> Iterator[dns.resolver.Resolver]:
    """A resolver whose server never answers: every query times out."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        r = dns.resolver.Resolver(configure=False)
        r.nameservers = ["127.0.0.1"]
        r.port = int(sock.getsockname()[1])
        r.timeout = r.lifetime = timeout
        yield r


def start(knot_factory: Callable[[dict[str, str]], KnotServer], keys: Keys | None) -> KnotServer:
    return knot_factory(zones(keys))
