"""The DNS world of the ``doctor domain`` tests: one clean domain and one domain per planted defect,
served by a real Knot server on 127.0.0.1, with DKIM keys generated here by ``cryptography``.

- ``clean.test`` passes everything for the IPs :data:`CLEAN_IPS`, selectors ``s2048`` (RSA 2048)
  and ``ed`` (ed25519), MAIL FROM ``bounce.clean.test``, DNSBL ``dnsbl.test``, and the MTA-STS
  policy served by :func:`fetcher`.
- 192.0.2.0/24 reverse: ``.10`` → mail.clean.test (FCrDNS), ``.11`` → mail2, ``.20`` no PTR,
  ``.21`` → liar.clean.test (which points at .99: not FCrDNS), ``.66`` listed on dnsbl.test
  (127.0.0.2), ``.200`` → mail200 (FCrDNS, but outside every SPF record).
- Defect domains are named for their defect (``twospf.test``, ``loop.test`` …), see :func:`zones`.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dns.reversename
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from mailfate.doctor.domain import DomainReport, PolicyFetchError, check_domain
from mailfate.doctor.findings import Finding, Severity
from tests.support.knot import KnotServer, zone_text

CLEAN_IPS = ("192.0.2.10", "192.0.2.11", "2001:db8::10")
CLEAN_SELECTORS = ("s2048", "ed")
IP6 = "2001:db8::10"
IP6_ZONE = "0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
GOOD_POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mx.clean.test\r\nmax_age: 604800\r\n"


@dataclass(frozen=True)
class Keys:
    rsa2048_pem: bytes
    rsa2048_txt: str
    rsa1024_pem: bytes
    rsa1024_txt: str
    ed_pem: bytes
    ed_txt: str
    other2048_pem: bytes


def _rsa(bits: int) -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, f"v=DKIM1; k=rsa; p={base64.b64encode(spki).decode()}"


@functools.cache
def make_keys() -> Keys:
    rsa2048_pem, rsa2048_txt = _rsa(2048)
    rsa1024_pem, rsa1024_txt = _rsa(1024)
    other_pem, _ = _rsa(2048)
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_pem = ed.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    raw = ed.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ed_txt = f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"
    return Keys(rsa2048_pem, rsa2048_txt, rsa1024_pem, rsa1024_txt, ed_pem, ed_txt, other_pem)


def txt(value: str) -> str:
    """Zone-file TXT data: ≤255-byte quoted strings."""
    return " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))


def _clean_like(keys: Keys, spf: str = "v=spf1 ip4:192.0.2.0/25 ip6:2001:db8::/64 -all") -> str:
    return (
        f"@ IN TXT {txt(spf)}\n"
        "@ IN MX 10 mx.clean.test.\n"
        '_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@clean.test"\n'
        f"s2048._domainkey IN TXT ( {txt(keys.rsa2048_txt)} )\n"
    )


def _ip6_label() -> str:
    return dns.reversename.from_address(IP6).to_text().removesuffix(f".{IP6_ZONE}.")


def zones(keys: Keys) -> dict[str, str]:
    includes = " ".join(f"include:i{n}.lookups.test" for n in range(11))
    include_records = "".join(f'i{n} IN TXT "v=spf1 ip4:198.51.100.{n} -all"\n' for n in range(11))
    long_spf = "v=spf1 " + " ".join(f"ip4:192.0.2.{n}" for n in range(0, 40)) + " -all"
    return {
        "clean.test": zone_text(
            "clean.test",
            _clean_like(keys)
            + f"ed._domainkey IN TXT {txt(keys.ed_txt)}\n"
            + f"google._domainkey IN TXT ( {txt(keys.rsa2048_txt)} )\n"
            "mx IN A 192.0.2.25\n"
            "mail IN A 192.0.2.10\nmail2 IN A 192.0.2.11\nliar IN A 192.0.2.99\n"
            "mail66 IN A 192.0.2.66\nmail200 IN A 192.0.2.200\n44-2-0-192.dynamic IN A 192.0.2.44\n"
            f"mail6 IN AAAA {IP6}\n"
            '_mta-sts IN TXT "v=STSv1; id=20260101T000000"\n'
            '_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@clean.test"\n'
            'default._bimi IN TXT "v=BIMI1; l=https://clean.test/bimi/logo.svg; a=https://clean.test/bimi/vmc.pem"\n'
            "bounce IN MX 10 mx.clean.test.\n"
            'bounce IN TXT "v=spf1 ip4:192.0.2.0/25 ip6:2001:db8::/64 -all"\n'
            "strict IN MX 10 mx.clean.test.\n"
            'strict IN TXT "v=spf1 ip4:192.0.2.0/25 -all"\n',
        ),
        "2.0.192.in-addr.arpa": zone_text(
            "2.0.192.in-addr.arpa",
            "10 IN PTR mail.clean.test.\n11 IN PTR mail2.clean.test.\n21 IN PTR liar.clean.test.\n"
            "66 IN PTR mail66.clean.test.\n200 IN PTR mail200.clean.test.\n"
            "44 IN PTR 44-2-0-192.dynamic.clean.test.\n",
        ),
        IP6_ZONE: zone_text(IP6_ZONE, f"{_ip6_label()} IN PTR mail6.clean.test.\n"),
        "dnsbl.test": zone_text(
            "dnsbl.test",
            '66.2.0.192 IN A 127.0.0.2\n66.2.0.192 IN TXT "Listed for testing: see dnsbl.test"\n',
        ),
        "nospf.test": zone_text("nospf.test", "@ IN MX 10 mx.clean.test.\n"),
        "twospf.test": zone_text(
            "twospf.test",
            '@ IN TXT "v=spf1 ip4:192.0.2.10 -all"\n@ IN TXT "v=spf1 include:clean.test ~all"\n'
            "@ IN MX 10 mx.clean.test.\n",
        ),
        "lookups.test": zone_text("lookups.test", f'@ IN TXT "v=spf1 {includes} -all"\n{include_records}'),
        "loop.test": zone_text(
            "loop.test",
            '@ IN TXT "v=spf1 include:a.loop.test -all"\na IN TXT "v=spf1 include:loop.test -all"\n',
        ),
        "plusall.test": zone_text("plusall.test", '@ IN TXT "v=spf1 ip4:192.0.2.10 +all"\n'),
        "neutral.test": zone_text("neutral.test", '@ IN TXT "v=spf1 ip4:192.0.2.10 ?all"\n'),
        "badspf.test": zone_text("badspf.test", '@ IN TXT "v=spf1 ip4:192.0.2.300 foo:bar -all"\n'),
        "void.test": zone_text(
            "void.test",
            '@ IN TXT "v=spf1 a:n1.void.test a:n2.void.test mx:n3.void.test ip4:192.0.2.10 -all"\n',
        ),
        "longspf.test": zone_text("longspf.test", f"@ IN TXT {txt(long_spf)}\n@ IN MX 10 mx.clean.test.\n"),
        "weak.test": zone_text(
            "weak.test",
            f'@ IN TXT "v=spf1 ip4:192.0.2.10 -all"\nk1024._domainkey IN TXT {txt(keys.rsa1024_txt)}\n'
            'old._domainkey IN TXT "v=DKIM1; k=rsa; p="\n'
            'junk._domainkey IN TXT "v=DKIM1; k=rsa; p=bm90IGEga2V5"\n'
            f"tls._domainkey IN TXT {txt('v=DKIM1; s=tls; ' + keys.rsa2048_txt.removeprefix('v=DKIM1; '))}\n"
            f"test._domainkey IN TXT {txt('v=DKIM1; t=y; ' + keys.rsa2048_txt.removeprefix('v=DKIM1; '))}\n",
        ),
        "edonly.test": zone_text("edonly.test", f"ed._domainkey IN TXT {txt(keys.ed_txt)}\n"),
        "nodmarc.test": zone_text("nodmarc.test", '@ IN TXT "v=spf1 ip4:192.0.2.10 -all"\n'),
        "dmarcnone.test": zone_text(
            "dmarcnone.test",
            '_dmarc IN TXT "v=DMARC1; p=none; rua=mailto:d@dmarcnone.test"\n'
            'default._bimi IN TXT "v=BIMI1; l=https://dmarcnone.test/logo.svg; a=https://dmarcnone.test/vmc.pem"\n',
        ),
        "dmarcpct.test": zone_text(
            "dmarcpct.test", '_dmarc IN TXT "v=DMARC1; p=quarantine; pct=25; rua=mailto:d@dmarcpct.test"\n'
        ),
        "dmarcbad.test": zone_text(
            "dmarcbad.test",
            '_dmarc IN TXT "v=DMARC1; p=reject; pct=abc; adkim=x; junk; rua=mailto:d@dmarcbad.test"\n',
        ),
        "twodmarc.test": zone_text(
            "twodmarc.test", '_dmarc IN TXT "v=DMARC1; p=reject"\n_dmarc IN TXT "v=DMARC1; p=none"\n'
        ),
        "extrua.test": zone_text(
            "extrua.test", '_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:agg@reports.test"\n'
        ),
        "authrua.test": zone_text(
            "authrua.test", '_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:agg@reports.test"\n'
        ),
        "reports.test": zone_text("reports.test", 'authrua.test._report._dmarc IN TXT "v=DMARC1"\n'),
        "strictspf.test": zone_text(
            "strictspf.test",
            '_dmarc IN TXT "v=DMARC1; p=reject; aspf=s; rua=mailto:d@strictspf.test"\n'
            "bounce IN MX 10 mx.clean.test.\n"
            'bounce IN TXT "v=spf1 ip4:192.0.2.0/25 -all"\n',
        ),
        "nomx.test": zone_text("nomx.test", '@ IN TXT "v=spf1 ip4:192.0.2.10 -all"\n'),
        "amx.test": zone_text("amx.test", "@ IN A 192.0.2.10\n"),
        "nullmx.test": zone_text("nullmx.test", '@ IN MX 0 .\n@ IN TXT "v=spf1 ip4:192.0.2.10 -all"\n'),
        "badmx.test": zone_text("badmx.test", "@ IN MX 10 nowhere.badmx.test.\n"),
        "aliasmx.test": zone_text(
            "aliasmx.test",
            "@ IN MX 10 mx.aliasmx.test.\nmx IN CNAME real.aliasmx.test.\nreal IN A 192.0.2.30\n",
        ),
        "apexdmarc.test": zone_text("apexdmarc.test", '@ IN TXT "v=DMARC1; p=reject"\n'),
        "stsbad.test": zone_text("stsbad.test", '_mta-sts IN TXT "v=STSv1; id=bad id!"\n'),
        "stsfetch.test": zone_text(
            "stsfetch.test",
            '_mta-sts IN TXT "v=STSv1; id=1"\n@ IN MX 10 mx.stsfetch.test.\nmx IN A 192.0.2.25\n',
        ),
        "tlsbad.test": zone_text("tlsbad.test", '_smtp._tls IN TXT "v=TLSRPTv1;"\n'),
        **_open_doors_and_worse_fixes(),
        "xn--bcher-kva.test": zone_text(
            "xn--bcher-kva.test",
            '@ IN TXT "v=spf1 ip4:192.0.2.10 -all"\n@ IN MX 10 mx.clean.test.\n'
            '_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:d@xn--bcher-kva.test"\n',
        ),
    }


def _open_doors_and_worse_fixes() -> dict[str, str]:
    """Issue 15's planted cases: open doors once missed, and records whose fix used to be worse."""
    return {
        # SPF that passes everyone: through an include of +all, through huge ranges
        "openinc.test": zone_text(
            "openinc.test",
            '@ IN TXT "v=spf1 ip4:192.0.2.10 include:_spf.openinc.test -all"\n'
            '_spf IN TXT "v=spf1 +all"\n@ IN MX 10 mx.clean.test.\n',
        ),
        "openv4.test": zone_text(
            "openv4.test", '@ IN TXT "v=spf1 ip4:192.0.2.10 ip4:0.0.0.0/0 -all"\n@ IN MX 10 mx.clean.test.\n'
        ),
        "openv6.test": zone_text(
            "openv6.test", '@ IN TXT "v=spf1 ip4:192.0.2.10 ip6:::/0 ~all"\n@ IN MX 10 mx.clean.test.\n'
        ),
        "openredirect.test": zone_text(
            "openredirect.test",
            '@ IN TXT "v=spf1 redirect=_spf.openredirect.test"\n_spf IN TXT "v=spf1 a/0 -all"\n'
            "@ IN A 192.0.2.10\n_spf IN A 192.0.2.10\n",
        ),
        # a /8 is one organisation's block (17.0.0.0/8): wide, but not an open door
        "wideok.test": zone_text(
            "wideok.test", '@ IN TXT "v=spf1 ip4:17.0.0.0/8 -all"\n@ IN MX 10 mx.clean.test.\n'
        ),
        # MX at addresses no sender can reach
        "mxloop.test": zone_text("mxloop.test", "@ IN MX 10 mx.mxloop.test.\nmx IN A 127.0.0.1\n"),
        "mxpriv.test": zone_text(
            "mxpriv.test",
            "@ IN MX 10 mx.clean.test.\n@ IN MX 20 backup.mxpriv.test.\nbackup IN A 10.1.2.3\n"
            "backup IN AAAA fd00::25\n",
        ),
        # sp=none under p=reject on the organizational domain
        "spopen.test": zone_text(
            "spopen.test", '_dmarc IN TXT "v=DMARC1; p=reject; sp=none; rua=mailto:d@spopen.test"\n'
        ),
        # SPF published as two strings that TXT joins without a space
        "gluedspf.test": zone_text("gluedspf.test", '@ IN TXT "v=spf1 ip4:192.0.2.10" "-all"\n'),
        "gluedhead.test": zone_text("gluedhead.test", '@ IN TXT "v=spf1" "ip4:192.0.2.10 -all"\n'),
        "gluedplus.test": zone_text("gluedplus.test", '@ IN TXT "v=spf1 ip4:192.0.2.10" "+all"\n'),
        "amxloop.test": zone_text("amxloop.test", "@ IN A 127.0.0.1\n"),
        # two DMARC records: the weak one without rua, the strong one with it
        "twodmarc2.test": zone_text(
            "twodmarc2.test",
            '_dmarc IN TXT "v=DMARC1; p=none"\n'
            '_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:d@twodmarc2.test"\n',
        ),
        # v=DMARC1 not first; rua without mailto:
        "dmarcorder.test": zone_text(
            "dmarcorder.test",
            '_dmarc IN TXT "p=reject; v=DMARC1; rua=mailto:d@dmarcorder.test"\n'
            "news IN MX 10 mx.clean.test.\n",
        ),
        "ruabare.test": zone_text("ruabare.test", '_dmarc IN TXT "v=DMARC1; p=reject; rua=d@ruabare.test"\n'),
        # a parent zone whose child names do not exist
        "nxparent.test": zone_text("nxparent.test", '@ IN TXT "v=spf1 -all"\n'),
    }


def fetcher(policies: dict[str, str] | None = None) -> Callable[[str, float], str]:
    """A local MTA-STS fetch: ``url → body``; unknown URLs fail like a missing web server."""
    served = {"https://mta-sts.clean.test/.well-known/mta-sts.txt": GOOD_POLICY, **(policies or {})}

    def fetch(url: str, timeout: float) -> str:
        if url not in served:
            raise PolicyFetchError(f"connection refused: {url}")
        return served[url]

    return fetch


def run(server: KnotServer, domain: str, **kwargs: Any) -> DomainReport:
    kwargs.setdefault("timeout", 3.0)
    kwargs.setdefault("dnsbl_zones", ["dnsbl.test"])
    kwargs.setdefault("fetch_policy", fetcher())
    return check_domain(domain, nameserver=server.address, **kwargs)


def clean(server: KnotServer, **kwargs: Any) -> DomainReport:
    kwargs.setdefault("ips", CLEAN_IPS)
    kwargs.setdefault("selectors", CLEAN_SELECTORS)
    kwargs.setdefault("mail_from", "bounce.clean.test")
    return run(server, "clean.test", **kwargs)


def find(report: DomainReport, check: str, severity: Severity | None = None, text: str = "") -> list[Finding]:
    return [
        f
        for f in report.findings
        if f.check == check and (severity is None or f.severity is severity) and text in f.message
    ]


def one(report: DomainReport, check: str, severity: Severity, text: str = "") -> Finding:
    found = find(report, check, severity, text)
    assert len(found) == 1, (
        check,
        severity,
        text,
        [(f.check, f.severity.value, f.message) for f in report.findings],
    )
    return found[0]
