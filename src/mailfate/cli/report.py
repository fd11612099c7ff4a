"""``mailfate report``: what happened to one message, one receiving domain, or every receiving
domain with trouble (most recipients affected first), and what to do — a statement, advice, our fix
first, or the letter to the receiver's postmaster (:mod:`mailfate.doctor.cases` decides which)."""

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
    from mailfate.store.stats import DomainTrouble

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
    """Say what happened and what to do, per case: delivered (a statement), a dead address (remove
    it), the evidence points at us (what to fix first, with the records), or a letter to the
    receiver's postmaster asking exactly one question (block, greylisting, authentication, rate)
    with their own replies, every attempt, our SPF/DKIM/DMARC and how other receivers take our mail."""
    from mailfate.doctor.cases import decide
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
    settings = settings_for(config, data_dir)
    envelope = settings.verp_domain  # every attempt's MAIL FROM is a VERP address in this domain
    check = _dns_check(ip or [], selector or [], nameserver, dns_timeout, envelope) if dns else None
    store = open_store(settings)
    now = datetime.now(UTC)
    try:
        if all_domains:
            _all_domains(store, now, now - window, (lang, fmt, envelope), out, top, check, ip or [], json_out)
            return
        if message_id is not None:
            inquiry = message_inquiry(
                store, message_id, now=now, check_dns=check, ips=ip or [], envelope_domain=envelope
            )
        else:
            assert domain is not None
            inquiry = domain_inquiry(
                store, domain, now=now, since=now - window, check_dns=check, ips=ip or [],
                envelope_domain=envelope,
            )  # fmt: skip
            if not inquiry.attempts:
                raise fail(f"no deferral or bounce to {inquiry.receiver} in the last {since}", code=1)
    except MailfateError as exc:
        raise fail(str(exc)) from exc
    finally:
        store.close()
    if json_out:
        emit_json({**inquiry.to_json(), "case": decide(inquiry).to_json()})
        return
    text = render(inquiry, lang=lang, fmt=fmt)
    if out is not None:
        out.write_text(text, "utf-8")
        err_console.print(f"wrote {out}")
    else:
        out_console.print(text, markup=False, highlight=False, soft_wrap=True)


def _dns_check(
    ips: list[str], selectors: list[str], nameserver: str | None, timeout: float, envelope: str
) -> DnsCheck:
    """The doctor's checks of a sending (From) domain, with our VERP domain as its MAIL FROM domain:
    SPF and alignment are checked where receivers check them."""
    from mailfate.doctor.domain import check_domain

    cache: dict[str, list[Finding]] = {}

    def check(sending_domain: str) -> list[Finding]:
        if sending_domain not in cache:
            report = check_domain(
                sending_domain, ips=ips, selectors=selectors, nameserver=nameserver, timeout=timeout,
                mail_from=envelope or None,
            )  # fmt: skip
            cache[sending_domain] = list(report.findings)
        return cache[sending_domain]

    return check


_CASE_NAMES = {
    "ask": "letter", "ours": "fix ours first", "dead": "remove addresses", "recipient": "recipient's mailbox",
    "pending": "still retrying", "delivered": "delivered", "complained": "complained", "not_sent": "not sent",
}  # fmt: skip
"""What each case is called in the ranking (``mailfate.doctor.cases``)."""


def _safe_name(domain: str) -> str:
    return re.sub(r"[^a-z0-9.-]", "_", domain.lower())[:200] or "_"


def _all_domains(  # noqa: PLR0917 - the command's options, passed on
    store: Store,
    now: datetime,
    since: datetime,
    how: tuple[str, str, str],
    out: Path | None,
    top: int,
    check: DnsCheck | None,
    ips: list[str],
    json_out: bool,
) -> None:
    from mailfate.doctor.cases import decide
    from mailfate.doctor.inquiry import domain_inquiry
    from mailfate.doctor.inquiry_text import render

    lang, fmt, envelope = how
    ranked = store.stats.troubled_domains(since, limit=top)
    folder = out or Path("inquiries")
    folder.mkdir(parents=True, exist_ok=True)
    written: list[tuple[int, DomainTrouble, Path, str]] = []
    with Progress(console=err_console, transient=True, disable=json_out) as progress:
        task = progress.add_task("writing inquiries", total=len(ranked))
        for rank, trouble in enumerate(ranked, 1):
            inquiry = domain_inquiry(
                store, trouble.domain, now=now, since=since, check_dns=check, ips=ips, trouble=trouble,
                envelope_domain=envelope,
            )  # fmt: skip
            path = folder / f"{rank:03d}-{_safe_name(trouble.domain)}.{lang}.{fmt}"
            case = decide(inquiry)
            path.write_text(render(inquiry, lang=lang, fmt=fmt, case=case), "utf-8")
            written.append((rank, trouble, path, _CASE_NAMES.get(case.kind, case.kind)))
            progress.advance(task)
    if json_out:
        for rank, trouble, path, what in written:
            emit_json({"rank": rank, **trouble.to_json(), "file": str(path), "case": what})
        return
    table = Table(
        title=f"receiving domains with deferrals or bounces since {since:%Y-%m-%d %H:%M} UTC "
        f"(in {folder}: a letter where one is due, else what to do)"
    )
    for col in ("#", "domain", "recipients", "deferred / bounced / expired", "last (UTC)", "case", "file"):
        numeric = col in ("#", "recipients", "deferred / bounced / expired")
        table.add_column(
            col, justify="right" if numeric else "left", overflow="fold" if col != "case" else "ellipsis"
        )
    for rank, t, path, what in written:
        table.add_row(
            str(rank), t.domain, str(t.recipients), f"{t.deferred}/{t.bounced}/{t.expired}",
            f"{t.last_at:%m-%d %H:%M}" if t.last_at else "", what, path.name,
        )  # fmt: skip
    if not written:
        out_console.print("no receiving domain deferred or refused mail in that window")
        return
    out_console.print(table)
