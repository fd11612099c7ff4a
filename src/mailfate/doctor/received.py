"""The Received chain of a delivered message: who handed it to whom, when, over what, and where the
hours went (RFC 5321 §4.4 trace fields and the variants real servers write)."""

from __future__ import annotations

import email
import email.policy
import email.utils
import ipaddress
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

from mailfate.doctor.findings import Finding, Severity

__all__ = [
    "FUTURE_TOLERANCE",
    "Hop",
    "ReceivedChain",
    "analyze_chain",
    "header_text",
    "parse_message",
    "parse_received",
]

FUTURE_TOLERANCE = timedelta(minutes=5)  # clock skew we forgive before calling a date forged
SLOW_HOP = timedelta(minutes=5)  # a hop slower than this is worth a warning
RFC5321_TRACE = "RFC 5321 §4.4"
_CLAUSES = ("from", "by", "via", "with", "id", "for")
_IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
_IP_RE = re.compile(
    rf"\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]|\b({_IPV4})\b|\b([0-9A-Fa-f]{{1,4}}(?::[0-9A-Fa-f]{{0,4}}){{2,7}})\b"
)
_TLS_VERSION_RE = re.compile(
    r"\b(?:using\s+|version=|\()?(TLS|SSL)[ _v]?(1[._][0-3]|v?[23](?:\.0)?)\b", re.IGNORECASE
)
_TLS_PROTOCOLS = {"ESMTPS", "ESMTPSA", "LMTPS", "LMTPSA", "UTF8SMTPS", "UTF8SMTPSA", "SMTPS"}
_INTERNAL_PROTOCOLS = {"LMTP", "LOCAL", "MAPI", "HTTP", "HTTPS", "LMTPA", "UTF8LMTP"}
_LOOSE_DATE_RE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s+)?\d{1,2}\s+[A-Z][a-z]{2}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s*[+-]\d{4}|\s+[A-Z]{1,5})?"
)
_FOLD_RE = re.compile(r"\r?\n[ \t]+")
_MAX_HEADER = 4000  # characters of one Received header we look at


def header_text(value: Any, limit: int = 20_000) -> str:
    """A header value as clean text: unfolded, bytes outside ASCII shown as U+FFFD, at most ``limit``
    characters (no real header is longer; a longer one is an attack on our regexes), never raising."""
    text = (value if isinstance(value, str) else str(value))[:limit]
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _FOLD_RE.sub(" ", text).strip()


def parse_message(raw: bytes) -> Message:
    """The message's header section (compat32 keeps every header as written)."""
    return email.message_from_bytes(raw, policy=email.policy.compat32)


@dataclass(frozen=True, slots=True)
class Hop:
    """One Received header; ``index`` 1 is the first hop in sending order (the bottom header)."""

    index: int
    from_host: str
    from_ip: str
    by_host: str
    with_protocol: str
    id: str
    for_addr: str
    at: datetime | None
    tls: str | None
    raw: str
    delay: timedelta | None = None
    date_text: str = ""

    @property
    def internal(self) -> bool:
        """A hand-over inside one machine or one mail store (LMTP, local pickup, loopback)."""
        if self.with_protocol.upper() in _INTERNAL_PROTOCOLS or (not self.from_host and not self.from_ip):
            return True
        if self.from_ip:
            try:
                return ipaddress.ip_address(self.from_ip).is_loopback
            except ValueError:
                return False
        return self.from_host.lower() in {"localhost", "localhost.localdomain"}

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "from_host": self.from_host,
            "from_ip": self.from_ip,
            "by_host": self.by_host,
            "with_protocol": self.with_protocol,
            "id": self.id,
            "for_addr": self.for_addr,
            "at": self.at.isoformat() if self.at else None,
            "tls": self.tls,
            "delay_seconds": self.delay.total_seconds() if self.delay is not None else None,
            "raw": self.raw,
        }


@dataclass(frozen=True, slots=True)
class ReceivedChain:
    """The hops in sending order, the total transit time and what looks wrong."""

    hops: list[Hop]
    total: timedelta | None
    slowest: int | None  # index of the hop with the largest positive delay
    findings: list[Finding] = field(default_factory=list)


# -- one header ---------------------------------------------------------------------------------
def _split_top(text: str) -> tuple[list[tuple[str, str]], str]:
    """Words and parenthesised comments at depth 0, and the text after the last top-level ';'."""
    depth = 0
    last_semi = -1
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch == ";" and depth == 0:
            last_semi = i
    clause_text, date_text = (text[:last_semi], text[last_semi + 1 :]) if last_semi >= 0 else (text, "")
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(clause_text)
    while i < n:
        ch = clause_text[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            depth, j = 0, i
            while j < n:
                if clause_text[j] == "(":
                    depth += 1
                elif clause_text[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            tokens.append(("comment", clause_text[i + 1 : j]))
            i = j + 1
        else:
            j = i
            while j < n and not clause_text[j].isspace() and clause_text[j] != "(":
                j += 1
            tokens.append(("word", clause_text[i:j]))
            i = j
    return tokens, date_text.strip()


def _first_ip(text: str) -> str:
    for m in _IP_RE.finditer(text):
        candidate = next(g for g in m.groups() if g)
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return ""


def _parse_date(text: str) -> datetime | None:
    if not text:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # "-0000": UTC, zone unknown (RFC 5322 §3.3)
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _date_anywhere(text: str) -> str:
    """The last RFC 5322-looking date in a header that lacks the ``;`` before it (some MTAs)."""
    found = _LOOSE_DATE_RE.findall(text)
    return found[-1] if found else ""


def _tls(text: str, protocol: str) -> str | None:
    m = _TLS_VERSION_RE.search(text)
    if m:
        version = m.group(2).replace("_", ".").lstrip("vV")
        return f"{m.group(1).upper()}v{version}"
    if protocol.upper() in _TLS_PROTOCOLS:
        return f"TLS ({protocol.upper()})"
    if "google transport security" in text.lower():
        return "TLS (Google Transport Security)"
    if re.search(r"\bSTARTTLS\b|\bTLS\b", text):
        return "TLS"
    return None


def parse_received(value: str, index: int = 0) -> Hop:
    """One Received header value as a :class:`Hop`; unknown parts stay empty, never raises."""
    text = header_text(value)[:_MAX_HEADER]
    tokens, date_text = _split_top(text)
    parts: dict[str, str] = {}
    comments: dict[str, list[str]] = {}
    current = ""
    for kind, tok in tokens:
        low = tok.lower()
        if kind == "word" and low in _CLAUSES and (current != low or low in parts):
            current = low
            parts.setdefault(current, "")
        elif kind == "word" and current and not parts.get(current):
            parts[current] = tok
        elif kind == "comment":
            comments.setdefault(current, []).append(tok)
        elif (
            current == "with" and kind == "word" and parts["with"].lower() in {"microsoft", "microsoft smtp"}
        ):
            parts[current] += " " + tok
    from_host = parts.get("from", "")
    from_ip = _first_ip(" ".join(comments.get("from", []))) or _first_ip(from_host)
    if from_host.startswith("["):
        helo = re.search(r"\bhelo=([\w.-]+)", " ".join(comments.get("from", [])), re.IGNORECASE)
        from_host = helo.group(1) if helo else ""
    by_host = parts.get("by", "")
    protocol = parts.get("with", "")
    if protocol.lower().startswith("microsoft smtp server"):
        protocol = "Microsoft SMTP Server"
    for_addr = parts.get("for", "").strip("<>;")
    return Hop(
        index=index,
        from_host=from_host.rstrip("."),
        from_ip=from_ip,
        by_host=by_host.rstrip("."),
        with_protocol=protocol,
        id=parts.get("id", "").rstrip(";"),
        for_addr=for_addr,
        at=_parse_date(date_text) or _parse_date(_date_anywhere(text)),
        tls=_tls(text, protocol.split()[0] if protocol else ""),
        raw=text,
        date_text=date_text,
    )


# -- the chain ----------------------------------------------------------------------------------
def _human(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    sign = "-" if delta.total_seconds() < 0 else ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


_INTERNAL_NETS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
    )
)


def _is_public(ip: str) -> bool:
    """Not an internal network (RFC 1918, CGNAT, link-local, ULA); an unknown address counts as public."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return True
    return not any(addr in net for net in _INTERNAL_NETS if net.version == addr.version)


def analyze_chain(msg: Message, *, now: datetime | None = None) -> ReceivedChain:
    """Every Received header of ``msg`` in sending order with delays and anomalies."""
    values = [header_text(v) for v in (msg.get_all("Received") or [])]
    hops = [parse_received(v, i + 1) for i, v in enumerate(reversed(values))]
    findings: list[Finding] = []
    if not hops:
        findings.append(
            Finding(
                "received",
                Severity.WARNING,
                "No Received headers: the path and the delays cannot be traced "
                "(a draft, a copy saved by the sender, or headers stripped).",
                fix='Export the message as the recipient received it ("Show original" / '
                '"View source"), not from the Sent folder.',
                source=RFC5321_TRACE,
            )
        )
        return ReceivedChain([], None, None, findings)
    last_at: datetime | None = None
    with_delay: list[Hop] = []
    for hop in hops:
        delay = hop.at - last_at if hop.at is not None and last_at is not None else None
        with_delay.append(replace(hop, delay=delay))
        if hop.at is not None:
            last_at = hop.at
    hops = with_delay
    findings += _date_findings(hops, now)
    dated = [h.at for h in hops if h.at is not None]
    total = dated[-1] - dated[0] if len(dated) >= 2 else None
    slow = [h for h in hops if h.delay is not None and h.delay > timedelta(0)]
    slowest = max(slow, key=lambda h: h.delay or timedelta(0)) if slow else None
    if slowest is not None and slowest.delay is not None:
        late = slowest.delay >= SLOW_HOP
        findings.append(
            Finding(
                "delay",
                Severity.WARNING if late else Severity.INFO,
                f"The longest wait was {_human(slowest.delay)} at hop {slowest.index}, "
                f"{slowest.from_host or slowest.from_ip or '?'} → {slowest.by_host or '?'}"
                + (f" (of {_human(total)} in total)." if total is not None else "."),
                evidence=slowest.raw,
                fix=(
                    "The sending side of this hop held the message: check its queue log for 4xx "
                    "replies (greylisting, rate limits) around that time and ask that receiver why."
                    if late
                    else ""
                ),
                source=RFC5321_TRACE,
                details={"hop": slowest.index, "delay_seconds": slowest.delay.total_seconds()},
            )
        )
    findings += _tls_findings(hops)
    return ReceivedChain(hops, total, slowest.index if slowest else None, findings)


def _date_findings(hops: list[Hop], now: datetime | None) -> list[Finding]:
    findings: list[Finding] = []
    undated = [h for h in hops if h.at is None]
    if undated:
        findings.append(
            Finding(
                "received",
                Severity.WARNING,
                f"{len(undated)} of {len(hops)} Received headers have no readable date "
                f"(hop {', '.join(str(h.index) for h in undated[:10])}); their delays are unknown.",
                evidence=undated[0].raw,
                source=RFC5321_TRACE,
            )
        )
    for hop in hops:
        if hop.delay is not None and hop.delay < -FUTURE_TOLERANCE:
            findings.append(
                Finding(
                    "delay",
                    Severity.WARNING,
                    f"Hop {hop.index} ({hop.by_host or '?'}) is dated {_human(-hop.delay)} before the hop "
                    "below it: a server's clock is wrong or a header was forged.",
                    evidence=hop.raw,
                    source=RFC5321_TRACE,
                    details={"hop": hop.index, "delay_seconds": hop.delay.total_seconds()},
                )
            )
    top = hops[-1].at
    for hop in hops:
        if hop.at is None:
            continue
        if now is not None and hop.at > now + FUTURE_TOLERANCE:
            reference = "now"
        elif top is not None and hop is not hops[-1] and hop.at > top + FUTURE_TOLERANCE:
            reference = "the last hop"
        else:
            continue
        findings.append(
            Finding(
                "received",
                Severity.WARNING,
                f"Hop {hop.index} is dated {hop.at.isoformat()}, later than {reference}: "
                "a forged header or a server with a wrong clock.",
                evidence=hop.raw,
                source=RFC5321_TRACE,
                details={"hop": hop.index},
            )
        )
    return findings


def _tls_findings(hops: list[Hop]) -> list[Finding]:
    findings: list[Finding] = []
    for hop in hops:
        if hop.tls or hop.internal or not hop.by_host or not (hop.from_host or hop.from_ip):
            continue
        if not hop.with_protocol.upper().startswith(("SMTP", "ESMTP", "UTF8SMTP")):
            continue
        public = _is_public(hop.from_ip)
        findings.append(
            Finding(
                "tls",
                Severity.WARNING if public else Severity.INFO,
                f"Hop {hop.index} ({hop.from_host or hop.from_ip} → {hop.by_host}) went without TLS"
                + (" over the Internet." if public else " (inside a private network)."),
                evidence=hop.raw,
                fix="Enable STARTTLS on the sending server of this hop (and MTA-STS for the receiver)."
                if public
                else "",
                source="RFC 3207; RFC 8461",
                details={"hop": hop.index},
            )
        )
    return findings
