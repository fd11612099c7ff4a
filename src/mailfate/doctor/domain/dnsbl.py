"""The ``dnsbl`` check: each sending IP looked up in each DNS blocklist (RFC 5782).

``1.2.0.192.<zone> A`` answering 127.0.0.x means "listed" (the TXT record says why);
NXDOMAIN means "not listed". Answers in 127.255.255.0/24 are the lists' error codes (Spamhaus:
query through a public resolver, or over the free limit), not listings. The default lists live in
``mailfate/data/dnsbl.toml``; ``--dnsbl ZONE`` replaces them.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from mailfate.doctor.domain.context import CheckContext, DnsblZone
from mailfate.doctor.domain.report import CheckOutcome
from mailfate.doctor.findings import Severity
from mailfate.errors import ConfigError

__all__ = ["check_dnsbl", "dnsbl_name", "load_dnsbl_zones"]

RFC = "RFC 5782"
_ERROR_CODES = ipaddress.ip_network("127.255.255.0/24")
_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def load_dnsbl_zones(path: Path | None = None) -> tuple[DnsblZone, ...]:
    """The lists in ``path`` (default: the packaged ``data/dnsbl.toml``); ``ConfigError`` when malformed."""
    try:
        if path is None:
            text = resources.files("mailfate").joinpath("data", "dnsbl.toml").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the DNSBL list {path or 'data/dnsbl.toml'}: {exc}") from exc
    zones = []
    for index, entry in enumerate(data.get("lists", [])):
        if not isinstance(entry, dict) or not isinstance(entry.get("zone"), str) or not entry["zone"]:
            raise ConfigError(f'DNSBL list entry {index + 1}: needs zone = "..."')
        extra = set(entry) - {"zone", "name", "url", "note"}
        if extra:
            raise ConfigError(f"DNSBL list {entry['zone']}: unknown keys {sorted(extra)}")
        zones.append(
            DnsblZone(
                entry["zone"].strip(".").lower(),
                str(entry.get("name", "")),
                str(entry.get("url", "")),
                str(entry.get("note", "")),
            )
        )
    return tuple(zones)


def dnsbl_name(ip: str, zone: str) -> str:
    """The name to look up: reversed octets (IPv4) or nibbles (IPv6) under ``zone``."""
    address = ipaddress.ip_address(ip)
    if address.version == 4:
        labels = str(address).split(".")[::-1]
    else:
        labels = list(address.exploded.replace(":", ""))[::-1]
    return ".".join([*labels, zone])


@dataclass(slots=True)
class _Tally:
    """What the lookups found, gathered so that each kind of trouble is reported once per list."""

    clean: dict[str, list[str]]
    """IP → the lists that do not list it."""
    listings: int = 0
    listed_ips: set[str] = field(default_factory=set)
    unanswered: dict[str, list[str]] = field(default_factory=dict)
    """Zone → the IPs it did not answer for."""
    refused: dict[str, set[str]] = field(default_factory=dict)
    """Zone → the error codes (127.255.255.x) it answered."""


def check_dnsbl(ctx: CheckContext) -> CheckOutcome:
    """The ``dnsbl`` check."""
    out = CheckOutcome()
    if not ctx.ips:
        out.add(
            "dnsbl",
            Severity.INFO,
            "No --ip given: blocklists were not checked",
            fix=f"mailfate doctor domain {ctx.domain.ascii} --ip <each sending IP>",
        )
        return out
    if not ctx.dnsbl_zones:
        out.add("dnsbl", Severity.INFO, "No DNS blocklists configured (--dnsbl ZONE)")
        return out
    pairs = [(ip, zone) for ip in ctx.ips for zone in ctx.dnsbl_zones]
    ctx.dns.prefetch((dnsbl_name(ip, zone.zone), "A") for ip, zone in pairs)
    tally = _Tally(clean={ip: [] for ip in ctx.ips})
    for ip, zone in pairs:
        _lookup(ctx, ip, zone, tally, out)
    _unknown_results(ctx, tally, out)
    for ip, zones in tally.clean.items():
        if zones and ip not in tally.listed_ips:
            out.add(
                "dnsbl",
                Severity.OK,
                f"{ip} is not listed on {len(zones)} list(s): {', '.join(zones)}",
                source=RFC,
            )
    out.facts["dnsbl.listings"] = tally.listings
    if tally.listings or not (tally.unanswered or tally.refused):
        out.facts["dnsbl.listed"] = bool(tally.listings)
    return out


def _lookup(ctx: CheckContext, ip: str, zone: DnsblZone, tally: _Tally, out: CheckOutcome) -> None:
    """Ask one list about one IP; a listing is reported at once, the rest is tallied."""
    name = dnsbl_name(ip, zone.zone)
    answer = ctx.dns.get(name, "A")
    if answer.failed:
        tally.unanswered.setdefault(zone.zone, []).append(ip)
        return
    if not answer.records:
        tally.clean[ip].append(zone.zone)
        return
    codes = [ipaddress.ip_address(a) for a in answer.records]
    if all(c in _ERROR_CODES for c in codes):
        tally.refused.setdefault(zone.zone, set()).update(str(c) for c in codes)
        return
    if not all(c in _LOOPBACK for c in codes):
        out.add(
            "dnsbl",
            Severity.WARNING,
            f"{zone.zone} answered {', '.join(answer.records)} for {ip}, outside 127.0.0.0/8: the list "
            "may be defunct and answering everything; remove it from the lists you query",
            evidence=answer.presentation(),
            source=f"{RFC} §2.1",
        )
        return
    tally.listings += 1
    tally.listed_ips.add(ip)
    reason = ctx.dns.get(name, "TXT")
    evidence = "\n".join(x for x in (answer.presentation(), reason.presentation() if reason.ok else "") if x)
    why = f": {' '.join(reason.records)}" if reason.ok and reason.records else ""
    label = zone.name or zone.zone
    out.add(
        "dnsbl",
        Severity.ERROR,
        f"{ip} is listed on {label} ({zone.zone}) with code {', '.join(answer.records)}{why}",
        evidence=evidence,
        fix="Find and stop the cause (compromised account, open relay, bad list), then request removal"
        + (f" at {zone.url}" if zone.url else " at the list's lookup page (see the TXT)"),
        source=f"{RFC} §2.1",
        details={"ip": ip, "zone": zone.zone, "codes": list(answer.records)},
    )


def _unknown_results(ctx: CheckContext, tally: _Tally, out: CheckOutcome) -> None:
    """The lists that refused the query or did not answer: their result is unknown."""
    for zone_name, refused_codes in sorted(tally.refused.items()):
        zone = next(z for z in ctx.dnsbl_zones if z.zone == zone_name)
        out.add(
            "dnsbl",
            Severity.WARNING,
            f"{zone_name} refused the query (code {', '.join(sorted(refused_codes))}): the result is unknown"
            + (f" — {zone.note}" if zone.note else " (public resolvers and heavy users are refused)"),
            fix="Query through your own resolver (--nameserver) or the list's registered access.",
            source=f"{RFC} §2.1",
        )
    for zone_name, ips in sorted(tally.unanswered.items()):
        out.add(
            "dnsbl",
            Severity.WARNING,
            f"{zone_name} did not answer within {ctx.timeout:g} s for {', '.join(ips)}: result unknown",
            fix="Retry, or remove the list if it no longer operates.",
            source=f"{RFC} §2.1",
        )
