"""``mailfate bounce``: classify bounce mails, SES notifications and SMTP replies."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mailfate.bounce.classify import Classification, Classifier, default_classifier
from mailfate.bounce.record import BounceRecord
from mailfate.bounce.rulecheck import check_rules
from mailfate.cli.output import REASON_STYLE, emit_json, err_console, out_console
from mailfate.errors import ConfigError, MailfateError

app = typer.Typer(
    help="Classify bounces, DSNs, ARF complaints, auto-replies, SES events and SMTP replies.",
    no_args_is_help=True,
)

RulesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules",
        help="A rule file overlaid on the packaged rules (repeatable).",
        exists=True,
        dir_okay=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON output for scripts.")]
TABLE_ROWS = 500


def _classifier(rules: list[Path] | None) -> Classifier:
    if not rules:
        return default_classifier()
    try:
        return Classifier.from_files(rules)
    except ConfigError as exc:
        err_console.print(f"[red]rule error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc


# -- inputs -------------------------------------------------------------------------------------
def _walk(directory: str) -> Iterator[str]:
    """Every file under a directory, recursively, in a stable order, streamed."""
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            if not name.startswith("."):
                yield os.path.join(root, name)


def _count(directory: str) -> int:
    return sum(len([f for f in files if not f.startswith(".")]) for _, _, files in os.walk(directory))


def classify_bytes(data: bytes, is_json: bool, classifier: Classifier) -> list[BounceRecord]:
    """Classify one input: SES JSON or a mail."""
    from mailfate.bounce.api import parse_bounce
    from mailfate.bounce.parsers.ses import parse_ses_json

    if is_json or data.lstrip()[:1] == b"{":
        return parse_ses_json(data)
    return parse_bounce(data, classifier)


def _one(path: str, data: bytes | None, classifier: Classifier) -> dict[str, Any]:
    try:
        if data is None:
            with open(path, "rb") as fh:
                data = fh.read()
        records = classify_bytes(data, path.lower().endswith(".json"), classifier)
    except OSError as exc:
        return {"file": path, "error": f"cannot read: {exc.strerror or exc}"}
    except MailfateError as exc:
        return {"file": path, "error": str(exc)}
    except RecursionError:
        return {"file": path, "error": "structure nested too deeply to parse"}
    return {"file": path, "results": records}


_RETRY = {True: "[green]retry[/]", False: "no retry"}


def _styled(text: str, style: str) -> str:
    """``text`` (escaped) in a Rich style, or plain when there is no style for it."""
    return f"[{style}]{escape(text)}[/]" if style else escape(text)


def record_facts(record: BounceRecord) -> tuple[str, str, bool]:
    """(cause, evidence, retry) of a result, for the table."""
    return str(record.cause), str(record.evidence), record.retry


def _results_table(wide: bool) -> Table:
    table = Table(title="Bounce classification", show_lines=False)
    table.add_column("file", overflow="ellipsis", no_wrap=True, max_width=18)
    table.add_column("recipient", overflow="fold", min_width=10)
    table.add_column("reply", no_wrap=True)
    table.add_column(
        "reason / kind, retry\ncause (evidence)", no_wrap=True, overflow="ellipsis", max_width=30
    )
    if wide:
        table.add_column("diagnostic", overflow="fold", ratio=1)
    return table


class _ClassifyReport:
    """What ``mailfate bounce classify`` shows, filled one input at a time: a JSON line per input,
    or table rows (at most ``rows``) and counts per reason for the summary."""

    def __init__(self, rows: int, json_out: bool) -> None:
        self.rows = rows
        self.json_out = json_out
        self.reasons: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.wide = out_console.width >= 110
        self.table = _results_table(self.wide)
        self.shown = self.files = self.errors = 0

    def add(self, item: dict[str, Any], label: str) -> None:
        self.files += 1
        item["label"] = label
        if self.json_out:
            if "error" in item:
                emit_json({"file": item["file"], "error": item["error"]})
            else:
                emit_json({"file": item["file"], "results": [r.summary() for r in item["results"]]})
            return
        if "error" in item:
            self.errors += 1
            if self.shown < self.rows:
                self.table.add_row(
                    escape(item["label"]),
                    "",
                    "",
                    "[red]error[/]",
                    *([escape(item["error"])] if self.wide else []),
                )
                self.shown += 1
            return
        recs: list[BounceRecord] = item["results"]
        if not recs:
            self.reasons["(not a bounce)"] += 1
            if self.shown < self.rows:
                self.table.add_row(
                    escape(item["label"]), "", "", "[dim]not a bounce[/]", *([""] if self.wide else [])
                )
                self.shown += 1
        for r in recs:
            self._add_record(item["label"], r)

    def _add_record(self, label: str, r: BounceRecord) -> None:
        self.reasons[str(r.reason)] += 1
        self.kinds[str(r.kind)] += 1
        if self.shown >= self.rows:
            return
        style = REASON_STYLE.get(str(r.kind), "")
        cause, evidence, retry = record_facts(r)
        self.table.add_row(
            escape(label),
            escape(r.recipient),
            escape(f"{r.replycode} {r.status}".strip()),
            f"{_styled(str(r.reason), style)}\n[dim]{r.kind}[/], {_RETRY[retry]}"
            f"\n{escape(cause)} [dim]({escape(evidence)})[/]",
            *(
                [escape(r.diagnostic if len(r.diagnostic) <= 100 else r.diagnostic[:99] + "…")]
                if self.wide
                else []
            ),
        )
        self.shown += 1

    def print(self) -> None:
        """The table, what it left out, and the count of results per reason."""
        out_console.print(self.table)
        if self.shown >= self.rows:
            out_console.print(
                f"[dim]first {self.rows} rows shown; --rows N for more, --json for everything[/]"
            )
        if not self.wide:
            out_console.print("[dim]diagnostics are shown in a terminal 110 columns wide, and with --json[/]")
        summary = Table(title=f"{self.files} files, {self.errors} unreadable")
        summary.add_column("reason")
        summary.add_column("results", justify="right")
        for reason, n in self.reasons.most_common():
            summary.add_row(escape(reason), str(n))
        out_console.print(summary)


def _classify_dir(directory: str, classifier: Classifier, report: _ClassifyReport, jobs: int) -> None:
    """Every file under ``directory``, with a progress bar on stderr (a terminal's, under --json);
    in ``jobs`` processes when that is more than one (:func:`_classified`), in the same order."""
    json_out = report.json_out
    show = not json_out or err_console.is_terminal
    paths: Iterator[str] | list[str] = _walk(directory)
    results: Iterator[dict[str, Any]] | None = None
    if _workers(jobs) > 1:
        paths = list(paths)
        results = _classified(paths, classifier, _workers(jobs))  # forks now: before the bar's thread
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not show,
        transient=json_out,
    ) as bar:
        total = len(paths) if isinstance(paths, list) else _count(directory) if show else None
        task = bar.add_task(directory, total=total)
        for path in paths:
            item = next(results) if results is not None else _one(path, None, classifier)
            report.add(item, os.path.relpath(path, directory))
            bar.advance(task)


def _workers(jobs: int) -> int:
    """Processes for ``--jobs`` (0: one per CPU); 1 where processes cannot be forked."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return jobs or os.cpu_count() or 1


_FORKED: Classifier | None = None
"""The classifier of the ``--jobs`` processes: set before they fork, so they inherit it loaded."""


def _one_forked(path: str) -> dict[str, Any]:
    assert _FORKED is not None
    return _one(path, None, _FORKED)


def _classified(paths: list[str], classifier: Classifier, workers: int) -> Iterator[dict[str, Any]]:
    """``_one`` of each path, in ``workers`` forked processes, the results in the order of ``paths``.
    The processes start here, at once (not when the iterator is first read)."""
    global _FORKED  # noqa: PLW0603 - read by the forked processes, which inherit it
    _FORKED = classifier
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    chunk = max(1, min(64, len(paths) // (workers * 8)))
    results = pool.map(_one_forked, paths, chunksize=chunk)

    def drained() -> Iterator[dict[str, Any]]:
        try:
            yield from results
        finally:
            pool.shutdown(cancel_futures=True)

    return drained()


@app.command("classify")
def classify_cmd(
    paths: Annotated[
        list[str], typer.Argument(help="Files, directories (walked recursively) or - for stdin.")
    ],
    json_out: JsonOpt = False,
    rules: RulesOpt = None,
    rows: Annotated[int, typer.Option(help="At most this many result rows in the table.")] = TABLE_ROWS,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            help="Processes for the files of a directory (0: one per CPU); results keep their order.",
        ),
    ] = 1,
) -> None:
    """Classify bounce mails and SES notifications (.json): one result per recipient."""
    classifier = _classifier(rules)
    report = _ClassifyReport(rows, json_out)
    for given in paths:
        if given == "-":
            report.add(_one("-", sys.stdin.buffer.read(), classifier), "-")
        elif os.path.isdir(given):
            _classify_dir(given, classifier, report, jobs)
        else:
            report.add(_one(given, None, classifier), given)
    if not json_out:
        report.print()


# -- SMTP replies -------------------------------------------------------------------------------
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
_READ_SIZE = 1 << 16


def reply_fields(verdict: Classification) -> dict[str, Any]:
    """The fields ``mailfate bounce reply`` prints for one verdict, in a stable order (``cause_detail``
    and ``retry_after`` only when set). Built directly, not through ``to_dict``: this runs once per
    line of a stream."""
    out: dict[str, Any] = {
        "reason": verdict.reason.value,
        "cause": verdict.cause.value,
        "hardbounce": verdict.hardbounce,
        "kind": verdict.kind.value,
        "retry": verdict.retry,
        "status": verdict.status,
        "replycode": verdict.replycode,
        "rule_id": verdict.rule_id,
        "evidence": verdict.evidence.value,
    }
    if verdict.cause_detail:
        out["cause_detail"] = verdict.cause_detail
    if verdict.retry_after is not None:
        out["retry_after"] = verdict.retry_after
    return out


def _reply_lines(stream: BinaryIO) -> Iterator[list[str]]:
    """Non-blank lines of ``stream``, decoded as UTF-8 (bad bytes replaced), in batches: each batch
    is what one read returned, so a line is answered as soon as it arrives."""
    read = getattr(stream, "read1", stream.read)
    rest = b""
    while True:
        chunk = read(_READ_SIZE)
        if not chunk:
            break
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            batch = [s for s in data[:cut].decode("utf-8", "replace").splitlines() if s.strip()]
            if batch:
                yield batch
    if rest.strip():
        yield [rest.decode("utf-8", "replace")]


def stream_replies(
    classifier: Classifier,
    stdin: BinaryIO,
    write: Callable[[str], object],
    flush: Callable[[], object],
    *,
    remote: str = "",
    reporting: str = "",
    command: str = "",
) -> int:
    """Classify one reply per line of ``stdin`` and write one JSON line each; the number done."""
    classify = classifier.classify_reply
    n = 0
    for batch in _reply_lines(stdin):
        out = []
        for line in batch:
            reply = line.strip()
            verdict = classify(reply, remote_mta=remote, reporting_mta=reporting, command=command)
            fields = reply_fields(verdict)
            out.append(_encode({"reply": reply, **fields}))
        out.append("")
        write("\n".join(out))
        flush()
        n += len(batch)
    return n


def _stdout_writer() -> tuple[Callable[[str], object], Callable[[], object]]:
    """Write and flush functions for standard output: its byte buffer (UTF-8) where it has one."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        return sys.stdout.write, sys.stdout.flush
    sys.stdout.flush()

    def write(text: str) -> object:
        return buffer.write(text.encode("utf-8", "replace"))

    return write, buffer.flush


@app.command("reply")
def reply_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    reply: Annotated[
        str,
        typer.Argument(
            help='An SMTP reply, e.g. "550 5.1.1 <x@y>: Recipient address rejected", or - to read one '
            "reply per line on standard input and print one JSON line each (JSON even without --json; "
            "blank lines are skipped)"
        ),
    ],
    json_out: JsonOpt = False,
    rules: RulesOpt = None,
    remote: Annotated[str, typer.Option(help="The remote MTA's host name, for provider rules.")] = "",
    reporting: Annotated[str, typer.Option(help="The reporting MTA's host name, for provider rules.")] = "",
    command: Annotated[str, typer.Option(help="The SMTP command the reply answered (RCPT, DATA...).")] = "",
) -> None:
    """Classify one SMTP reply, or (with -) one reply per line of standard input as JSON lines."""
    classifier = _classifier(rules)
    if reply == "-":
        write, flush = _stdout_writer()
        try:
            stream_replies(
                classifier,
                sys.stdin.buffer,
                write,
                flush,
                remote=remote,
                reporting=reporting,
                command=command,
            )
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly, and keep Python from complaining
            # about the closed pipe at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return
    verdict = classifier.classify_reply(reply, remote_mta=remote, reporting_mta=reporting, command=command)
    fields = reply_fields(verdict)
    if json_out:
        emit_json({"reply": reply, **verdict.to_dict(), **fields})
        return
    style = REASON_STYLE.get(str(verdict.kind), "")
    flag = "hard bounce" if verdict.hardbounce else "soft (not a hard bounce)"
    retry = "retry" if fields["retry"] else "do not retry"
    after = fields.get("retry_after")
    if fields["retry"] and after is not None:
        retry += f" after {after:g} s"
    out_console.print(f"{_styled(str(verdict.reason), style)}  {flag}, kind {verdict.kind}, {retry}")
    detail = f" ({escape(str(fields['cause_detail']))})" if fields.get("cause_detail") else ""
    out_console.print(f"  cause       {escape(str(fields['cause']))}{detail}")
    out_console.print(f"  reply       {escape(reply)}", overflow="fold")
    out_console.print(f"  reply code  {verdict.replycode or '-'}   status {verdict.status or '-'}")
    matched = verdict.matched
    out_console.print(
        f"  decided by  {escape(verdict.rule_id)}, evidence {escape(str(fields['evidence']))}"
        + (f", on {escape(repr(matched))}" if matched else "")
    )
    if verdict.source:
        out_console.print(f"  source      {escape(verdict.source)}")


@app.command("rules")
def rules_cmd(
    check: Annotated[bool, typer.Option("--check", help="Verify the rules; exit 1 on a problem.")] = False,
    json_out: JsonOpt = False,
    rules: RulesOpt = None,
    reason: Annotated[str, typer.Option(help="Only rules for this reason.")] = "",
) -> None:
    """List the classification rules in the order they are tried, or check them."""
    classifier = _classifier(rules)
    if check:
        report = check_rules(classifier)
        if json_out:
            emit_json(report.to_dict())
        else:
            colour = "green" if report.ok else "red"
            out_console.print(
                f"[{colour}]{'OK' if report.ok else 'PROBLEMS'}[/]: {report.rules} rules compile; "
                f"{report.examples_ok}/{report.examples} examples reach their rule; "
                f"{len(report.reachable)} reasons reached by rules, {len(report.builtin)} by built-in steps"
            )
            for problem in report.problems:
                out_console.print(f"  [red]✗[/] {escape(str(problem))}")
            for name in report.unreachable:
                out_console.print(
                    f"  [red]✗[/] reason {escape(str(name))} is reachable by no rule and no built-in step"
                )
            if report.without_examples:
                out_console.print(f"  [yellow]![/] {len(report.without_examples)} rules have no example")
        raise typer.Exit(0 if report.ok else 1)
    selected = [r for r in classifier.rules if not reason or str(r.reason) == reason]
    if json_out:
        for r in selected:
            emit_json(
                {
                    "id": r.id,
                    "reason": str(r.reason),
                    "phase": r.phase,
                    "file": r.origin,
                    "source": r.source,
                    **{k: v for k, v in r.raw.items() if k not in ("id", "reason")},
                }
            )
        return
    table = Table(title=f"{len(selected)} rules, first match wins")
    for col in ("#", "id", "reason", "conditions", "source"):
        table.add_column(col, overflow="fold")
    for n, r in enumerate(selected, 1):
        cond = []
        if r.any:
            cond.append("any " + " | ".join(r.any[:4]) + (" …" if len(r.any) > 4 else ""))
        if r.all:
            cond.append("all " + " & ".join(r.all))
        if r.regex is not None:
            cond.append(f"/{r.regex.pattern}/")
        if r.status:
            cond.append("status " + ",".join(r.status))
        if r.codes:
            cond.append("code " + ",".join(r.codes))
        if r.remote is not None:
            cond.append(f"remote /{r.remote.pattern}/")
        table.add_row(
            str(n), escape(r.id), escape(str(r.reason)), escape("; ".join(cond)), escape(r.source[:60])
        )
    out_console.print(table)
