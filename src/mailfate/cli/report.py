"""``mailfate report``: the postmaster inquiry for one message, one receiving domain, or every
receiving domain with trouble (one letter each, most recipients affected first)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from mailfate.cli.messages import ConfigOpt, DataOpt, JsonOpt, fail, open_store, settings_for
from mailfate.cli.output import emit_json, err_console, out_console
from mailfate.errors import MailfateError

if TYPE_CHECKING:
    from mailfate.doctor.findings import Finding
    from mailfate.doctor.inquiry import DnsCheck
    from mailfate.store import Store
    from mailfate.store.inquiries import DomainTrouble

__all__ = ["report_cmd"]


def report_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    message_id: Annotated[str | None, typer.Argument(help="The message (its id from mailfate, m…).")] = None,
    domain: Annotated[
        str | None, typer.Option(help="Every deferral and bounce to one receiving domain instead.")
    ] = None,
    all_domains: Annotated[
        bool, typer.Option("--all-domains", help="One letter per receiving domain with trouble (to --out).")
    ] = False,
    lang: Annotated[str, typer.Option(help="en or ko.")] = "en",
    fmt: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
    since: Annotated[str, typer.Option(help="How far back --domain/--all-domains look (7d, 24h).")] = "7d",
    out: Annotated[Path | None, typer.Option(help="Write here (a file; a folder for --all-domains).")] = None,
    top: Annotated[int, typer.Option(help="--all-domains: at most this many letters.")] = 100,
    ip: Annotated[
        list[str] | None, typer.Option("--ip", help="Our sending IP (for SPF, PTR, lists).")
    ] = None,
    selector: Annotated[list[str] | None, typer.Option("--selector", help="Our DKIM selector.")] = None,
    nameserver: Annotated[str | None, typer.Option(help="DNS server HOST[:PORT] for our records.")] = None,
    dns: Annotated[bool, typer.Option("--dns/--no-dns", help="Check our SPF/DKIM/DMARC in DNS.")] = True,
    dns_timeout: Annotated[float, typer.Option(help="Seconds for the DNS checks.")] = 5.0,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the inquiry a receiver's postmaster can answer: our Message-ID and times, every attempt
    with their MX, IP and reply, our SPF/DKIM/DMARC, how other receivers take our mail, and the
    question — do they apply stricter rules to us or block us — quoting their own reply."""
    from mailfate.doctor.inquiry import domain_inquiry, message_inquiry
    from mailfate.doctor.inquiry_text import FORMATS, LANGS, render
    from mailfate.model.duration import parse_duration

    chosen = [message_id is not None, domain is not None, all_domains]
    if sum(chosen) != 1:
        raise fail("give a MESSAGE_ID, --domain DOMAIN or --all-domains (one of them)")
    if lang not in LANGS or fmt not in FORMATS:
        raise fail(f"--lang is one of {', '.join(LANGS)}; --format one of {', '.join(FORMATS)}")
    try:
        window = timedelta(seconds=parse_duration(since))
    except MailfateError as exc:
        raise fail(str(exc)) from exc
    check = _dns_check(ip or [], selector or [], nameserver, dns_timeout) if dns else None
    store = open_store(settings_for(config, data_dir))
    now = datetime.now(UTC)
    try:
        if all_domains:
            _all_domains(store, now, now - window, lang, fmt, out, top, check, ip or [], json_out)
            return
        if message_id is not None:
            inquiry = message_inquiry(store, message_id, now=now, check_dns=check, ips=ip or [])
        else:
            assert domain is not None
            inquiry = domain_inquiry(
                store, domain, now=now, since=now - window, check_dns=check, ips=ip or []
            )
            if not inquiry.attempts:
                raise fail(f"no deferral or bounce to {inquiry.receiver} in the last {since}", code=1)
    except MailfateError as exc:
        raise fail(str(exc)) from exc
    finally:
        store.close()
    if json_out:
        emit_json(inquiry.to_json())
        return
    text = render(inquiry, lang=lang, fmt=fmt)
    if out is not None:
        out.write_text(text, "utf-8")
        err_console.print(f"wrote {out}")
    else:
        out_console.print(text, markup=False, highlight=False, soft_wrap=True)


def _dns_check(ips: list[str], selectors: list[str], nameserver: str | None, timeout: float) -> DnsCheck:
    from mailfate.doctor.domain import check_domain

    cache: dict[str, list[Finding]] = {}

    def check(sending_domain: str) -> list[Finding]:
        if sending_domain not in cache:
            report = check_domain(
                sending_domain, ips=ips, selectors=selectors, nameserver=nameserver, timeout=timeout
            )
            cache[sending_domain] = list(report.findings)
        return cache[sending_domain]

    return check


def _safe_name(domain: str) -> str:
    return re.sub(r"[^a-z0-9.-]", "_", domain.lower())[:200] or "_"


def _all_domains(  # noqa: PLR0917 - the command's options, passed on
    store: Store,
    now: datetime,
    since: datetime,
    lang: str,
    fmt: str,
    out: Path | None,
    top: int,
    check: DnsCheck | None,
    ips: list[str],
    json_out: bool,
) -> None:
    from mailfate.doctor.inquiry import domain_inquiry
    from mailfate.doctor.inquiry_text import render

    ranked = store.troubled_domains(since, limit=top)
    folder = out or Path("inquiries")
    folder.mkdir(parents=True, exist_ok=True)
    written: list[tuple[int, DomainTrouble, Path]] = []
    with Progress(console=err_console, transient=True, disable=json_out) as progress:
        task = progress.add_task("writing inquiries", total=len(ranked))
        for rank, trouble in enumerate(ranked, 1):
            inquiry = domain_inquiry(
                store, trouble.domain, now=now, since=since, check_dns=check, ips=ips, trouble=trouble
            )
            path = folder / f"{rank:03d}-{_safe_name(trouble.domain)}.{lang}.{fmt}"
            path.write_text(render(inquiry, lang=lang, fmt=fmt), "utf-8")
            written.append((rank, trouble, path))
            progress.advance(task)
    if json_out:
        for rank, trouble, path in written:
            emit_json({"rank": rank, **trouble.to_json(), "file": str(path)})
        return
    table = Table(
        title=f"receiving domains with deferrals or bounces since {since:%Y-%m-%d %H:%M} UTC "
        f"(letters in {folder})"
    )
    for col in ("#", "domain", "recipients", "deferred", "bounced", "expired", "last (UTC)", "letter"):
        numeric = col in ("#", "recipients", "deferred", "bounced", "expired")
        table.add_column(col, justify="right" if numeric else "left")
    for rank, t, path in written:
        table.add_row(
            str(rank), t.domain, str(t.recipients), str(t.deferred), str(t.bounced), str(t.expired),
            f"{t.last_at:%m-%d %H:%M}" if t.last_at else "", path.name,
        )  # fmt: skip
    if not written:
        out_console.print("no receiving domain deferred or refused mail in that window")
        return
    out_console.print(table)
