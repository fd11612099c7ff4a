"""``mailfate doctor``: read a received message's headers, lint a message against spam law."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from mailfate.cli.output import emit_json, err_console, out_console
from mailfate.doctor.findings import Finding, Severity
from mailfate.doctor.headers import HeaderReport, analyze_headers
from mailfate.errors import InputError

__all__ = ["doctor_app"]

doctor_app = typer.Typer(
    help="Find the cause and the fix: header analysis and spam-law lint of a message.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="JSON output for scripts.")]
FileArg = Annotated[str, typer.Argument(help="The message (.eml), or - for standard input.")]
SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
    Severity.OK: "green",
}
# The zone an HH:MM --send-at is read in: the capital's (or the most populous zone's) local time.
COUNTRY_ZONES = {
    "KR": "Asia/Seoul",
    "JP": "Asia/Tokyo",
    "US": "America/New_York",
    "CA": "America/Toronto",
    "EU": "Europe/Brussels",
}
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _read(path: str) -> bytes:
    """The file's bytes; an unreadable file is one clear line on stderr and exit status 2."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        err_console.print(
            f"[red]cannot read {escape(path)}:[/] {escape(str(exc.strerror or exc))}", soft_wrap=True
        )
        raise typer.Exit(2) from exc


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def _findings_table(findings: list[Finding], title: str) -> Table:
    table = Table(title=title, show_lines=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("finding", overflow="fold", ratio=3)
    table.add_column("fix", overflow="fold", ratio=2)
    table.add_column("source", overflow="fold", ratio=1)
    for f in sorted(findings, key=lambda f: f.severity.rank):
        style = SEVERITY_STYLE[f.severity]
        table.add_row(
            Text(f.severity.value, style=style), *(Text(x) for x in (f.check, f.message, f.fix, f.source))
        )
    return table


def _print_report(report: HeaderReport) -> None:
    for key, value in report.summary.items():
        out_console.print(Text.assemble((f"{key}: ", "bold"), value))
    hops = Table(title="Received chain (sending order)")
    hops.add_column("№", justify="right")
    for name in ("from", "by", "with / TLS"):
        hops.add_column(name, overflow="fold")
    hops.add_column("time (UTC)", no_wrap=True)
    hops.add_column("delay", justify="right", no_wrap=True)
    for hop in report.hops:
        sender = " ".join(x for x in (hop.from_host, f"[{hop.from_ip}]" if hop.from_ip else "") if x)
        tls = Text(hop.tls or "no TLS", style="green" if hop.tls else "dim" if hop.internal else "red")
        delay = Text(_duration(hop.delay))
        if hop.index == report.slowest_hop:
            delay.stylize("bold reverse yellow")
        elif hop.delay is not None and hop.delay < timedelta(0):
            delay.stylize("red")
        hops.add_row(
            str(hop.index),
            Text(sender or "—"),
            Text(hop.by_host or "—"),
            Text.assemble(hop.with_protocol or "?", "\n", tls),
            hop.at.strftime("%Y-%m-%d %H:%M:%S") if hop.at else Text("no date", style="red"),
            delay,
        )
    if report.hops:
        out_console.print(hops)
        out_console.print(f"total: {_duration(report.total_delay)}")
    if report.authentication:
        auth = Table(title="Authentication")
        auth.add_column("header", overflow="fold")
        auth.add_column("method", no_wrap=True)
        auth.add_column("result", no_wrap=True)
        auth.add_column("explanation", overflow="fold", ratio=1)
        for r in report.authentication:
            where = r.header + (f" i={r.instance}" if r.instance is not None else "")
            style = (
                "green" if r.result == "pass" else "red" if r.result in {"fail", "permerror"} else "yellow"
            )
            label = f"{where}\n{r.authserv_id}" if r.authserv_id else where
            auth.add_row(Text(label), Text(r.method), Text(r.result, style=style), Text(r.explanation))
        out_console.print(auth)
    for arc in report.arc:
        out_console.print(
            Text(f"ARC i={arc.instance} cv={arc.cv or '?'} sealed by {arc.domain or '?'} s={arc.selector}")
        )
    for verdict in report.spam:
        style = "red" if verdict.verdict == "spam" else "yellow" if verdict.verdict == "bulk" else "green"
        out_console.print(Text(verdict.explanation, style=style))
    out_console.print(_findings_table(report.findings, "Findings"))


@doctor_app.command("headers")
def headers_cmd(path: FileArg, json_out: JsonOpt = False) -> None:
    """Where the hours went and why authentication failed: the Received chain with the delay of every
    hop, Authentication-Results and ARC explained, spam-filter verdicts, TLS per hop.

    Exit status: 0 when analysed (whatever the findings), 2 when the file cannot be read.
    """
    report = analyze_headers(_read(path))
    if json_out:
        data = report.to_json()
        emit_json(
            {
                "file": path,
                "summary": data["summary"],
                "hops": data["hops"],
                "total_delay_seconds": data["total_delay_seconds"],
                "slowest_hop": data["slowest_hop"],
                "authentication": data["authentication"],
                "arc": data["arc"],
                "spam": data["spam"],
                "findings": data["findings"],
            }
        )
        return
    _print_report(report)


def parse_send_at(value: str, country: str, *, now: datetime | None = None) -> datetime:
    """ISO 8601 with an offset, or HH:MM today in the country's zone (``COUNTRY_ZONES``)."""
    text = value.strip()
    m = _HHMM.match(text)
    if m:
        zone_name = COUNTRY_ZONES.get(country.strip().upper())
        if zone_name is None:
            raise InputError(
                f"--send-at {value}: HH:MM needs a country among {', '.join(COUNTRY_ZONES)}; "
                "give an ISO 8601 time with an offset instead (2026-05-01T22:00+02:00)"
            )
        zone = ZoneInfo(zone_name)
        today = (now or datetime.now(zone)).astimezone(zone)
        return today.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0, microsecond=0)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(
            f"--send-at {value}: not a time; use ISO 8601 with an offset (2026-05-01T22:00+09:00) or HH:MM"
        ) from exc
    if parsed.utcoffset() is None:
        raise InputError(f"--send-at {value}: add the offset (e.g. {text}+09:00) or give HH:MM")
    return parsed


@doctor_app.command("lint")
def lint_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    path: FileArg,
    country: Annotated[
        str, typer.Option(help="The recipients' country: KR, US, EU (or a member state), CA, JP.")
    ],
    kind: Annotated[str, typer.Option(help="What the message is declared as: transactional or marketing.")],
    send_at: Annotated[
        str | None,
        typer.Option(
            "--send-at",
            help="When it is sent: ISO 8601 with an offset, or HH:MM in the country's zone "
            "(KR Seoul, JP Tokyo, US New York, CA Toronto, EU Brussels). Default: the Date header.",
        ),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the findings: en or ko.")] = "en",
    json_out: JsonOpt = False,
) -> None:
    """Spam-law and receiver-rule checks (Korea §50, CAN-SPAM, CASL, EU, Japan, RFC 8058), each citing
    its article or section.

    Exit status: 0 when no finding is an error, 1 when any is (use it in CI), 2 for bad input.
    """
    from mailfate.doctor.compliance import lint_message

    raw = _read(path)
    try:
        when = parse_send_at(send_at, country) if send_at else None
        findings = lint_message(raw, country=country, kind=kind, send_at=when, lang=lang)
    except InputError as exc:
        err_console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from exc
    if json_out:
        emit_json(
            {
                "file": path,
                "country": country.upper(),
                "kind": kind.lower(),
                "findings": [f.to_json() for f in findings],
            }
        )
    else:
        out_console.print(_findings_table(findings, f"Lint: {country.upper()} {kind.lower()}"))
    if any(f.severity is Severity.ERROR for f in findings):
        raise typer.Exit(1)
