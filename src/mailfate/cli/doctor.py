"""``mailfate doctor``: a sending domain's DNS, a received message's headers, spam-law lint."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from mailfate.cli.messages import ConfigOpt
from mailfate.cli.output import emit_json, err_console, error, out_console
from mailfate.config import Settings
from mailfate.doctor.findings import Finding, Severity
from mailfate.doctor.headers import HeaderReport, analyze_headers
from mailfate.errors import InputError

if TYPE_CHECKING:
    from mailfate.doctor.domain import DomainReport

__all__ = ["doctor_app"]

doctor_app = typer.Typer(
    help="Find the cause and the fix: a sending domain's DNS, header analysis, spam-law lint.",
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
        raise error(f"cannot read {path}: {exc.strerror or exc}") from exc


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
        raise error(str(exc)) from exc
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


def _dkim_keys(values: list[str], selectors: list[str]) -> dict[str, bytes]:
    """``--dkim-key SELECTOR=FILE`` (or ``FILE`` with exactly one ``--selector``) → selector → PEM."""
    keys: dict[str, bytes] = {}
    for value in values:
        selector, sep, path = value.partition("=")
        if not sep or not selector or "/" in selector:
            if len(selectors) != 1:
                raise InputError(f"--dkim-key {value}: write SELECTOR=FILE (or give exactly one --selector)")
            selector, path = selectors[0], value
        keys[selector] = _read(path)
    return keys


def _domain_table(findings: list[Finding], title: str) -> Table:
    table = Table(title=title, show_lines=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("finding", overflow="fold", ratio=3)
    table.add_column("evidence", overflow="fold", ratio=2)
    table.add_column("fix", overflow="fold", ratio=3)
    for f in findings:
        table.add_row(
            Text(f.severity.value, style=SEVERITY_STYLE[f.severity]),
            Text(f.check),
            Text(f.message + (f"\n({f.source})" if f.source else ""), style=""),
            Text(f.evidence, style="dim"),
            Text(f.fix),
        )
    return table


_RULE_STYLE = {"pass": "green", "fail": "bold red", "unknown": "yellow"}


def _receiver_table(data: dict[str, object]) -> Table:
    summary = data["summary"]
    assert isinstance(summary, dict)
    counts = ", ".join(f"{summary[k]} {k}" for k in ("pass", "fail", "unknown"))
    table = Table(title=f"{data['name']}: {counts}", show_lines=True)
    table.add_column("result", no_wrap=True)
    table.add_column("rule", overflow="fold", ratio=3)
    table.add_column("kind", no_wrap=True)
    table.add_column("evidence", overflow="fold", ratio=3)
    table.add_column("source", overflow="fold", ratio=2)
    rules = data["rules"]
    assert isinstance(rules, list)
    for rule in rules:
        source = rule["source"]
        table.add_row(
            Text(rule["status"], style=_RULE_STYLE[rule["status"]]),
            Text(f"{rule['id']}\n{rule['description']}\n({rule['applies']})"),
            Text(rule["kind"]),
            Text(rule["evidence"], style="dim"),
            Text(
                f"{source['title']}, {source['date']}\n{source['url']}"
                + (f"\n[{source['status']}]" if source["status"] else "")
            ),
        )
    return table


def _configured_verp_domain(config: Path | None, *, say: bool) -> str | None:
    """The ``[verp] domain`` the settings name — what receivers check SPF against, the envelope
    domain we send with — or None when they name none (the built-in default is the simulator's,
    not a domain of the sender's). ``say``: tell the person which domain is checked and why."""
    from mailfate.config import load_settings

    settings = load_settings(config)
    if settings.verp_domain == Settings.__dataclass_fields__["verp_domain"].default:
        return None
    if say:
        err_console.print(
            f"MAIL FROM domain: {escape(settings.verp_domain)} ({escape('[verp]')} domain of the "
            "settings; --mail-from to check another)",
            soft_wrap=True,
        )
    return settings.verp_domain


@doctor_app.command("domain")
def domain_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    domain: Annotated[
        str, typer.Argument(help="The domain you send as (the From domain); Unicode or punycode.")
    ],
    ip: Annotated[
        list[str] | None, typer.Option("--ip", help="A sending IP (repeat): SPF evaluation, PTR, DNSBL.")
    ] = None,
    selector: Annotated[
        list[str] | None,
        typer.Option("--selector", help="A DKIM selector (repeat). Default: probe common selectors."),
    ] = None,
    nameserver: Annotated[
        str | None,
        typer.Option("--nameserver", help="Ask this DNS server (HOST[:PORT]) instead of the system's."),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds for all checks together.")] = 5.0,
    dnsbl: Annotated[
        list[str] | None,
        typer.Option("--dnsbl", help="A DNS blocklist zone (repeat); replaces the list in data/dnsbl.toml."),
    ] = None,
    receiver: Annotated[
        list[str] | None,
        typer.Option("--receiver", help="Receiver checklists: gmail,yahoo,outlook,naver,daum (or all)."),
    ] = None,
    mail_from: Annotated[
        str | None, typer.Option("--mail-from", help="The MAIL FROM (Return-Path) domain, when not DOMAIN.")
    ] = None,
    dkim_key: Annotated[
        list[str] | None,
        typer.Option(
            "--dkim-key", help="SELECTOR=FILE: a private key (PEM) to sign and verify a test message."
        ),
    ] = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Is DOMAIN set up to send mail receivers accept? SPF, DKIM, DMARC and alignment, the MAIL FROM
    domain, MX, PTR/FCrDNS, MTA-STS, TLS-RPT, BIMI, DNSBL listings and DNSSEC, each finding with the
    record to publish; --receiver adds Gmail/Yahoo/Outlook.com/Naver/Daum checklists.

    The report leads with the domain itself: "the domain does not exist" or "DNS did not answer",
    and which checks could therefore not run.

    Receivers check SPF against the envelope (MAIL FROM) domain, which mailfate sets to its VERP
    domain: without --mail-from, the ``[verp] domain`` of the settings (--config or
    $MAILFATE_CONFIG) is checked as the MAIL FROM domain when one is configured.

    Exit status: 0 when no finding is an error, 1 when any is, 2 for bad options.
    """
    from mailfate.doctor.domain import check_domain
    from mailfate.doctor.domain.receivers import evaluate_receivers, parse_receivers
    from mailfate.errors import ConfigError

    try:
        mail_from = mail_from or _configured_verp_domain(config, say=not json_out)
        receivers = parse_receivers(receiver or [])
        keys = _dkim_keys(dkim_key or [], selector or [])
        report = check_domain(
            domain,
            ips=ip or [],
            selectors=selector or [],
            nameserver=nameserver,
            timeout=timeout,
            dnsbl_zones=dnsbl if dnsbl else None,
            mail_from=mail_from,
            dkim_keys=keys,
        )
    except (InputError, ConfigError) as exc:
        raise error(str(exc)) from exc
    checklists = evaluate_receivers(receivers, report) if receivers else []
    if json_out:
        data = report.to_json()
        if receivers:
            data["receivers"] = checklists
        emit_json(data)
    else:
        _print_domain_report(report, checklists)
    if report.has_errors:
        raise typer.Exit(1)


def _print_domain_report(report: DomainReport, checklists: list[dict[str, Any]]) -> None:
    """The terminal form of ``doctor domain``: a headline with counts, the findings, the checklists."""
    name = report.domain + (f" ({report.unicode_domain})" if report.unicode_domain != report.domain else "")
    counts = {s: sum(1 for f in report.findings if f.severity is s) for s in Severity}
    out_console.print(
        Text.assemble(
            ("Domain: ", "bold"),
            name,
            f" — {counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings, "
            f"{report.queries} DNS queries in {report.elapsed:.2f} s",
        )
    )
    if report.status in ("nxdomain", "no-answer"):
        # the news that matters first: the rows below are what could not be checked, not a verdict
        headline = "the domain does not exist" if report.status == "nxdomain" else "DNS did not answer"
        out_console.print(
            Text.assemble(
                (f"{headline}: ", "bold red"),
                f"checks not run or not finished: {', '.join(report.not_run) or 'none'}",
            )
        )
    out_console.print(_domain_table(report.findings, f"doctor domain {report.domain}"))
    for checklist in checklists:
        out_console.print(_receiver_table(checklist))
