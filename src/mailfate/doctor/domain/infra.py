"""The ``mx``, ``mail-from`` and ``ptr`` checks: can the domain receive replies and bounces, does the
MAIL FROM (Return-Path) domain resolve and publish SPF, does every sending IP have reverse DNS that
points back to it (forward-confirmed reverse DNS)."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from mailfate.doctor.domain.context import CheckContext
from mailfate.doctor.domain.report import CheckOutcome, dns_problem
from mailfate.doctor.domain.resolve import Answer
from mailfate.doctor.domain.spf import analyze_spf
from mailfate.doctor.findings import Severity
from mailfate.mailauth.dns import reverse_name

__all__ = ["check_mail_from", "check_mx", "check_ptr", "mx_hosts", "unroutable"]

_UNROUTABLE: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "'this network' (RFC 1122), never a host on the Internet"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared carrier-grade NAT space (RFC 6598)"),
    ("127.0.0.0/8", "loopback: every sender would deliver to itself"),
    ("169.254.0.0/16", "link-local (RFC 3927)"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved (RFC 1112)"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback: every sender would deliver to itself"),
    ("fc00::/7", "unique local (RFC 4193), private"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
)
"""Addresses no sender on the Internet can deliver to. The documentation ranges (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are deliberately absent: examples and the test
zones use them as stand-ins for public addresses."""
_UNROUTABLE_NETS = tuple((ipaddress.ip_network(net), why) for net, why in _UNROUTABLE)


def unroutable(address: str) -> str:
    """Why ``address`` cannot receive mail from the Internet (``""`` when it can)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return next((why for net, why in _UNROUTABLE_NETS if ip.version == net.version and ip in net), "")


_GENERIC = re.compile(r"(dynamic|dhcp|dsl|pool|dial|cable|ppp|broadband|customer|unassigned)", re.I)


def mx_hosts(answer: Answer) -> list[tuple[int, str]]:
    """``[(preference, host)]`` sorted; the null MX target is ``"."``."""
    out = []
    for record in answer.records:
        preference, _, host = record.partition(" ")
        out.append((int(preference), host or "."))
    return sorted(out)


def _addresses(ctx: CheckContext, host: str) -> tuple[list[str], Answer | None]:
    """A and AAAA of ``host``; the failed answer when neither could be looked up."""
    found: list[str] = []
    failed: Answer | None = None
    for rtype in ("A", "AAAA"):
        answer = ctx.dns.get(host, rtype)
        if answer.failed:
            failed = answer
        found.extend(answer.records if answer.ok else ())
    return found, failed if not found else None


def _mx_fix(domain: str) -> str:
    return f"{domain}. MX 10 mx.{domain}.  (the host that receives your mail; mx.{domain}. A <its address>)"


def check_mx(ctx: CheckContext) -> CheckOutcome:
    """The ``mx`` check."""
    out = CheckOutcome()
    domain = ctx.domain.ascii
    answer = ctx.dns.get(domain, "MX")
    if answer.failed:
        out.findings.append(dns_problem("mx", answer, ctx.timeout))
        return out
    hosts = mx_hosts(answer)
    if not hosts:
        out.facts.update({"mx.present": False, "mx.null": False})
        _no_mx(ctx, answer, out)
        return out
    if _null_mx(ctx, answer, hosts, out):
        return out
    _mx_targets(ctx, answer, hosts, out)
    return out


def _no_mx(ctx: CheckContext, answer: Answer, out: CheckOutcome) -> None:
    """No MX record: the domain does not exist, or its A/AAAA address is the implicit MX, or nothing."""
    domain = ctx.domain.ascii
    if answer.error == "NXDOMAIN":
        out.add(
            "mx",
            Severity.ERROR,
            f"{domain} does not exist in DNS (NXDOMAIN): receivers reject mail from a domain that does "
            "not resolve",
            fix=_mx_fix(domain),
            source="RFC 5321 §5.1",
        )
        return
    addresses, failed = _addresses(ctx, domain)
    if addresses:
        out.facts["mx.resolves"] = True
        _unroutable_target(ctx, answer, domain, addresses, out)
        out.add(
            "mx",
            Severity.WARNING,
            f"{domain} has no MX record: replies and bounces go to its A/AAAA address "
            f"({', '.join(addresses)}) as an implicit MX; publish an explicit MX",
            fix=_mx_fix(domain),
            source="RFC 5321 §5.1",
        )
    elif failed is None:
        out.add(
            "mx",
            Severity.ERROR,
            f"{domain} has no MX and no address: it cannot receive replies or bounces, and receivers "
            "may refuse mail from a domain that cannot be answered",
            fix=_mx_fix(domain),
            source="RFC 5321 §5.1",
        )


def _null_mx(ctx: CheckContext, answer: Answer, hosts: list[tuple[int, str]], out: CheckOutcome) -> bool:
    """Report a null MX (RFC 7505); ``True`` when it is the only MX, so there is no host to check."""
    domain = ctx.domain.ascii
    if not any(h == "." for _, h in hosts):
        out.facts["mx.null"] = False
        return False
    out.facts["mx.null"] = True
    if len(hosts) > 1:
        out.add(
            "mx",
            Severity.ERROR,
            f"{domain} mixes a null MX (0 .) with other MX records: a null MX must be the only one",
            evidence=answer.presentation(),
            fix=f"Delete either '{domain}. MX 0 .' or the other MX records.",
            source="RFC 7505 §3",
        )
        return False
    own_envelope = ctx.envelope_domain == domain
    out.facts["mx.present"] = False
    out.add(
        "mx",
        Severity.ERROR if own_envelope else Severity.WARNING,
        f"{domain} publishes a null MX (RFC 7505): it accepts no mail. "
        + (
            "It is also the MAIL FROM domain, so bounces cannot return and receivers may reject "
            "its mail (RFC 7505 §4.2)"
            if own_envelope
            else "Replies to From addresses in it bounce"
        ),
        evidence=answer.presentation(),
        fix=f"{_mx_fix(domain)}  (instead of {domain}. MX 0 .)",
        source="RFC 7505 §4",
    )
    return True


def _mx_targets(ctx: CheckContext, answer: Answer, hosts: list[tuple[int, str]], out: CheckOutcome) -> None:
    """Every MX host must be a name with an address of its own."""
    real = [h for _, h in hosts if h != "."]
    out.facts["mx.present"] = bool(real)
    ctx.dns.prefetch((h, t) for h in real for t in ("A", "AAAA"))
    resolved: list[str] = []
    all_resolve = True
    for host in real:
        described = _mx_target(ctx, answer, hosts, host, out)
        if described is None:
            all_resolve = False
        else:
            resolved.append(described)
    out.facts["mx.resolves"] = all_resolve
    out.facts.setdefault("mx.routable", True)
    if resolved and all_resolve and out.facts["mx.routable"]:
        out.add(
            "mx",
            Severity.OK,
            f"{ctx.domain.ascii} receives mail at {'; '.join(resolved)}",
            evidence=answer.presentation(),
            source="RFC 5321 §5.1",
        )


def _mx_target(
    ctx: CheckContext, answer: Answer, hosts: list[tuple[int, str]], host: str, out: CheckOutcome
) -> str | None:
    """``host (its addresses)`` when the MX host resolves, else ``None`` (with the finding)."""
    domain = ctx.domain.ascii
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        out.add(
            "mx",
            Severity.ERROR,
            f"MX target {host} is an IP address: an MX must name a host",
            evidence=answer.presentation(),
            fix=f"{domain}. MX 10 mx.{domain}.  and  mx.{domain}. A {host}",
            source="RFC 5321 §5.1",
        )
        return None
    addresses, failed = _addresses(ctx, host)
    if failed is not None:
        out.findings.append(dns_problem("mx", failed, ctx.timeout, severity=Severity.WARNING))
        return None
    if not addresses:
        out.add(
            "mx",
            Severity.ERROR,
            f"MX target {host} has no A or AAAA record: mail to {domain} cannot be delivered there",
            evidence=answer.presentation(),
            fix=f"{host}. A <the address of your mail server>",
            source="RFC 5321 §5.1",
        )
        return None
    _unroutable_target(ctx, answer, host, addresses, out)
    alias = next((a.canonical for t in ("A", "AAAA") if (a := ctx.dns.get(host, t)).canonical), "")
    if alias:
        out.add(
            "mx",
            Severity.WARNING,
            f"MX target {host} is an alias (CNAME to {alias}): an MX must name a host with its own "
            "A/AAAA records; some senders refuse or mishandle an alias",
            evidence=f"{answer.presentation()}\n{host} CNAME {alias}",
            fix=f"{domain}. MX {next(p for p, h in hosts if h == host)} {alias}.",
            source="RFC 2181 §10.3, RFC 5321 §5.1",
        )
    return f"{host} ({', '.join(addresses)})"


def _unroutable_target(
    ctx: CheckContext, answer: Answer, host: str, addresses: list[str], out: CheckOutcome
) -> None:
    """An MX host at a loopback, private or reserved address: mail from the Internet cannot arrive."""
    bad = [(a, why) for a in addresses if (why := unroutable(a))]
    if not bad:
        return
    out.facts["mx.routable"] = False
    listed = "; ".join(f"{a} is {why}" for a, why in bad)
    out.add(
        "mx",
        Severity.ERROR,
        f"MX target {host} points at an address no sender on the Internet can reach ({listed}): mail to "
        f"{ctx.domain.ascii} cannot be delivered"
        + (" there" if len(bad) < len(addresses) else "")
        + ", and receivers that check the sender's domain can reach no mail server",
        evidence="\n".join(
            [answer.presentation(), *(f"{host} {'A' if '.' in a else 'AAAA'} {a}" for a, _ in bad)]
        ).strip(),
        fix=f"{host}. A <the public address of your mail server>  (and delete the record for "
        + ", ".join(a for a, _ in bad)
        + ")",
        source="RFC 5321 §5.1; RFC 6890 (special-purpose addresses)",
        details={"host": host, "addresses": [a for a, _ in bad]},
    )


def check_mail_from(ctx: CheckContext) -> CheckOutcome:
    """The ``mail-from`` check: the custom MAIL FROM (Return-Path) domain."""
    out = CheckOutcome()
    domain = ctx.domain.ascii
    envelope = ctx.envelope_domain
    custom = envelope != domain
    out.facts.update({"mail_from.domain": envelope, "mail_from.custom": custom})
    if not custom:
        out.add(
            "mail-from",
            Severity.INFO,
            f"MAIL FROM (Return-Path) domain taken to be {domain} itself (its SPF is the spf check); pass "
            "--mail-from when your provider uses its own bounce domain",
            source="RFC 7208 §2.4",
        )
        mx = ctx.dns.get(domain, "MX")
        addresses, _ = _addresses(ctx, domain)
        if mx.ok or addresses:
            out.facts["mail_from.resolves"] = True
        elif not mx.failed:
            out.facts["mail_from.resolves"] = False
        return out
    mx = ctx.dns.get(envelope, "MX")
    addresses, failed = _addresses(ctx, envelope)
    if mx.failed and failed is not None:
        out.findings.append(dns_problem("mail-from", mx, ctx.timeout))
    elif mx.ok or addresses:
        out.facts["mail_from.resolves"] = True
        what = "MX " + ", ".join(h for _, h in mx_hosts(mx)) if mx.ok else "address " + ", ".join(addresses)
        out.add(
            "mail-from",
            Severity.OK,
            f"MAIL FROM domain {envelope} resolves ({what}): bounces can come back",
            evidence=mx.presentation(),
            source="RFC 5321 §4.1.1.2",
        )
    else:
        out.facts["mail_from.resolves"] = False
        target = next((h for _, h in mx_hosts(ctx.dns.get(domain, "MX")) if h != "."), f"mx.{domain}")
        out.add(
            "mail-from",
            Severity.ERROR,
            f"MAIL FROM domain {envelope} has neither MX nor A/AAAA records: bounces cannot return, and "
            "receivers reject envelope senders whose domain does not resolve",
            fix=f"{envelope}. MX 10 {target}.",
            source="RFC 5321 §4.1.1.2; RFC 7505 §4.2",
        )
    analysis = analyze_spf(ctx, envelope, "mail-from", missing=Severity.ERROR)
    out.findings.extend(analysis.findings)
    if "valid" in analysis.facts:
        out.facts["mail_from.spf"] = bool(analysis.facts["valid"])
    return out


def _generic(ip: str, host: str) -> bool:
    if _GENERIC.search(host):
        return True
    parts = ip.split(".") if "." in ip else []
    if len(parts) == 4:
        for sequence in (parts, parts[::-1]):
            for sep in ("-", ".", "x", ""):
                if sep.join(sequence) in host:
                    return True
    return False


def check_ptr(ctx: CheckContext) -> CheckOutcome:
    """The ``ptr`` check: reverse DNS and forward confirmation for every --ip."""
    out = CheckOutcome()
    if not ctx.ips:
        out.add(
            "ptr",
            Severity.INFO,
            "No --ip given: reverse DNS of the sending servers was not checked",
            fix=f"mailfate doctor domain {ctx.domain.ascii} --ip <each sending IP>",
        )
        return out
    names = {ip: reverse_name(ip) for ip in ctx.ips}
    ctx.dns.prefetch((name, "PTR") for name in names.values())
    verdicts = [_reverse(ctx, ip, name, out) for ip, name in names.items()]
    missing = "missing" in verdicts
    if missing or "failed" not in verdicts:
        out.facts["ptr.all_present"] = not missing
    unconfirmed = "unconfirmed" in verdicts
    if missing or unconfirmed or "failed" not in verdicts:
        out.facts["ptr.all_fcrdns"] = not (missing or unconfirmed)
    return out


def _reverse(
    ctx: CheckContext, ip: str, name: str, out: CheckOutcome
) -> Literal["failed", "missing", "unconfirmed", "confirmed"]:
    """Check one IP's PTR records and their forward confirmation."""
    answer = ctx.dns.get(name, "PTR")
    rtype = "A" if ipaddress.ip_address(ip).version == 4 else "AAAA"
    if answer.failed:
        out.findings.append(dns_problem("ptr", answer, ctx.timeout, severity=Severity.WARNING))
        return "failed"
    if not answer.records:
        _no_ptr(ctx, ip, name, rtype, out)
        return "missing"
    ctx.dns.prefetch((host, rtype) for host in answer.records[:10])
    good = [h for h in answer.records[:10] if ip in _forward(ctx, h, rtype)]
    evidence = answer.presentation()
    if len(answer.records) > 1:
        out.add(
            "ptr",
            Severity.WARNING,
            f"{ip} has {len(answer.records)} PTR records: some receivers check only one",
            evidence=evidence,
            source="RFC 1912 §2.1",
        )
    if not good:
        host = answer.records[0]
        out.add(
            "ptr",
            Severity.ERROR,
            f"{ip} → {host}, but {host} does not resolve back to {ip}: no forward-confirmed reverse "
            "DNS (FCrDNS)",
            evidence=evidence,
            fix=f"{host}. {rtype} {ip}",
            source="RFC 8601 §3 (iprev); Gmail and Yahoo sender requirements (2024)",
            details={"ip": ip, "ptr": host},
        )
        return "unconfirmed"
    out.add(
        "ptr",
        Severity.OK,
        f"{ip} → {good[0]} → {ip}: forward-confirmed reverse DNS",
        evidence=evidence,
        source="RFC 8601 §3",
        details={"ip": ip, "ptr": good[0]},
    )
    if _generic(ip, good[0]):
        out.add(
            "ptr",
            Severity.WARNING,
            f"{good[0]} looks like a generic (dynamic-pool) name: receivers such as Yahoo ask for a "
            "non-generic PTR naming your mail server",
            evidence=evidence,
            fix=f"{name}. PTR mail.{ctx.domain.ascii}.  and  mail.{ctx.domain.ascii}. {rtype} {ip}",
            source="Yahoo Sender Best Practices",
        )
    return "confirmed"


def _no_ptr(ctx: CheckContext, ip: str, name: str, rtype: str, out: CheckOutcome) -> None:
    out.add(
        "ptr",
        Severity.ERROR,
        f"{ip} has no PTR record: Gmail, Yahoo and most receivers defer or reject mail from IPs "
        "without reverse DNS",
        fix=f"{name}. PTR mail.{ctx.domain.ascii}.  (set by whoever owns the IP block: ask your "
        f"hosting provider)  and  mail.{ctx.domain.ascii}. {rtype} {ip}",
        source="RFC 1912 §2.1; Gmail and Yahoo sender requirements (2024)",
        details={"ip": ip},
    )


def _forward(ctx: CheckContext, host: str, rtype: str) -> list[str]:
    answer = ctx.dns.get(host, rtype)
    found = []
    for address in answer.records if answer.ok else ():
        try:
            found.append(str(ipaddress.ip_address(address)))
        except ValueError:
            continue
    return found
