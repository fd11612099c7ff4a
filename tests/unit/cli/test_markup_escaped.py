"""Text from data goes through Rich literally: square brackets in a subject, an address, a reply
or an error are shown, not taken for markup (and never break the output)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mailfate.cli.app import app
from mailfate.model import AttemptRecord, AttemptResult, NewMessage, NewSuppression
from mailfate.store import Store

runner = CliRunner()
MARKUP = "[mailfate] [bold]x[/] [[y]] [/]"


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    for var in ("MAILFATE_CONFIG", "MAILFATE_STORE_URL", "MAILFATE_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    return ["--data-dir", str(tmp_path / "d")]


def test_a_subject_with_square_brackets_is_shown_as_written(data: list[str]) -> None:
    sent = runner.invoke(
        app,
        [
            "send",
            "--from",
            "a@app.example",
            "--to",
            "kim@example.org",
            "--subject",
            MARKUP,
            "--text",
            "t",
            "--json",
            *data,
        ],
    )
    assert sent.exit_code == 0, sent.stderr
    mid = json.loads(sent.stdout)["message_id"]
    shown = runner.invoke(app, ["trace", mid, *data], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.stderr
    assert MARKUP in shown.stdout


def test_an_error_quoting_brackets_is_shown_as_written(data: list[str]) -> None:
    runner.invoke(app, ["send", "--from", "a@app.example", "--to", "kim@example.org", "--text", "t", *data])
    result = runner.invoke(app, ["trace", "[bold]nope[/]", *data])
    assert result.exit_code != 0
    assert "[bold]nope[/]" in result.stderr


def test_webhooks_list_names_the_table_to_add(data: list[str]) -> None:
    runner.invoke(app, ["send", "--from", "a@app.example", "--to", "kim@example.org", "--text", "t", *data])
    result = runner.invoke(app, ["webhooks", "list", *data])
    assert "add [[webhooks]] to the configuration" in result.stdout


def test_a_read_never_creates_a_store_and_says_which_path(data: list[str], tmp_path: Path) -> None:
    result = runner.invoke(app, ["trace", "m123", "--data-dir", str(tmp_path / "typo")])
    assert result.exit_code != 0
    assert "no store at" in result.stderr and "typo" in result.stderr and "--data-dir" in result.stderr
    assert not (tmp_path / "typo" / "mailfate.db").exists()
    for read in (["queue"], ["suppression", "list"], ["keys", "list"], ["webhooks", "log"]):
        assert runner.invoke(app, [*read, "--data-dir", str(tmp_path / "typo")]).exit_code != 0, read
    assert not (tmp_path / "typo" / "mailfate.db").exists()


def test_config_show_masks_a_postgresql_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MAILFATE_STORE_URL", "postgresql+psycopg://mailer:s3cret@db.internal/mailfate")
    result = runner.invoke(app, ["config", "show", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert "s3cret" not in result.stdout and "mailer:***@db.internal" in result.stdout


def test_a_store_error_masks_the_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MAILFATE_STORE_URL", "mysql://mailer:s3cret@db.internal/mailfate")
    result = runner.invoke(app, ["queue", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "s3cret" not in result.stderr and "mailer:***@db.internal" in result.stderr


# -- every table the CLI prints ---------------------------------------------------------------------
# Each puts MARKUP where data goes (a reply, a reason, a name, an error, a rule) and checks it is
# printed as written. Rich would eat "[bold]" and "[/]" (or fail on a closing tag with nothing open).

WIDE = {"COLUMNS": "400"}
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _shown(result: Result) -> str:
    assert result.exit_code in (0, 1), (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout + result.stderr


def _store_with_replies(folder: Path) -> tuple[str, str]:
    """One message deferred with MARKUP as the reply, one with a webhook log row and a suppression;
    the two message ids."""
    folder.mkdir(parents=True, exist_ok=True)
    store = Store.open(folder / "mailfate.db")
    try:
        deferred = store.queue.submit(NewMessage("a@app.example", ("kim@example.org",), b"x"), NOW)
        [claimed] = store.queue.claim(1, now=NOW, lease=60, owner="w")
        reply = AttemptResult("deferred", 451, "4.7.1", f"4.7.1 {MARKUP}", "spamdetected", False)
        later = datetime.now(UTC) + timedelta(hours=1)
        store.queue.record_attempts([AttemptRecord(claimed.recipient_id, reply, NOW, later)], owner="w")
        bounced = store.queue.submit(NewMessage("a@app.example", ("lee@example.org",), b"x"), NOW)
        [claimed] = store.queue.claim(1, now=NOW, lease=60, owner="w")
        refusal = AttemptResult("bounced", 550, "5.7.1", f"5.7.1 {MARKUP}", "blocked", False, cause="blocked")
        store.queue.record_attempts([AttemptRecord(claimed.recipient_id, refusal, NOW)], owner="w")
        store.suppressions.suppress(NewSuppression("*", "park@example.org", MARKUP, MARKUP), at=NOW)
        store.webhooks.record_webhook(
            MARKUP, "w", 1, at=NOW, attempt=1, outcome="retry", status_code=500, error=MARKUP, duration_ms=3
        )
    finally:
        store.close()
    return deferred.message_id, bounced.message_id


def test_trace_and_queue_show_replies_as_written(data: list[str], tmp_path: Path) -> None:
    deferred, bounced = _store_with_replies(tmp_path / "d")
    for mid in (deferred, bounced):
        assert MARKUP in _shown(runner.invoke(app, ["trace", mid, *data], env=WIDE)), mid
    assert MARKUP[:70] in _shown(runner.invoke(app, ["queue", *data], env=WIDE))


def test_suppression_keys_and_webhook_tables_show_data_as_written(data: list[str], tmp_path: Path) -> None:
    _store_with_replies(tmp_path / "d")
    listed = _shown(runner.invoke(app, ["suppression", "list", *data], env=WIDE))
    assert listed.count(MARKUP) == 2  # the reason and the detail
    added = runner.invoke(app, ["keys", "create", "--name", MARKUP, *data])
    assert added.exit_code == 0, added.stderr
    assert MARKUP in _shown(runner.invoke(app, ["keys", "list", *data], env=WIDE))
    log = _shown(runner.invoke(app, ["webhooks", "log", *data], env=WIDE))
    assert log.count(MARKUP) == 2  # the subscriber and the error
    hooks = tmp_path / "hooks.toml"
    hooks.write_text(
        '[[webhooks]]\nname = "crm"\nurl = "http://127.0.0.1:9/[[y]]/[bold]x[/]"\n'
        'secret = "0123456789abcdef0123"\n'
    )
    shown = _shown(runner.invoke(app, ["webhooks", "list", "--config", str(hooks), *data], env=WIDE))
    assert "http://127.0.0.1:9/[[y]]/[bold]x[/]" in shown


def test_bounce_commands_show_replies_and_rules_as_written(tmp_path: Path) -> None:
    reply = f"550 5.1.1 {MARKUP} user unknown"
    assert MARKUP in _shown(runner.invoke(app, ["bounce", "reply", reply], env=WIDE))
    dsn = tmp_path / "dsn" / "one.eml"
    dsn.parent.mkdir()
    dsn.write_text(
        "From: MAILER-DAEMON@mx.example.org\nTo: b@app.example\nSubject: Undelivered Mail\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=b\nMIME-Version: 1.0\n\n"
        "--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; kim@example.org\nAction: failed\n"
        f"Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 {MARKUP} user unknown\n--b--\n"
    )
    assert MARKUP in _shown(runner.invoke(app, ["bounce", "classify", str(dsn.parent)], env=WIDE))
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[rule]]\nid = "mine.brackets"\nreason = "blocked"\nany = ["[bold]x[/] [[y]]"]\n'
        'source = "[bold]a test[/]"\nexamples = ["550 5.7.1 [bold]x[/] [[y]]"]\n'
    )
    shown = _shown(runner.invoke(app, ["bounce", "rules", "--rules", str(rules)], env=WIDE))
    assert "any [bold]x[/] [[y]]" in shown and "[bold]a test[/]" in shown
    broken = tmp_path / "broken.toml"
    broken.write_text('[[rule]]\nid = "[bold]x[/]"\nreason = "[[y]]"\nany = ["a"]\n')
    result = runner.invoke(app, ["bounce", "rules", "--rules", str(broken)], env=WIDE)
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "[[y]]" in result.stderr or "[bold]x[/]" in result.stderr


def test_doctor_tables_show_headers_as_written(tmp_path: Path) -> None:
    message = tmp_path / "m.eml"
    message.write_text(
        "Received: from [bold]x[/] (unknown [192.0.2.1]) by mx.example.org with ESMTPS id [[y]];\n"
        " Sun, 6 Dec 2026 09:00:00 +0000\n"
        "Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=[bold]x[/]@app.example;\n"
        ' dkim=none reason="[[y]] [/]"\n'
        "From: a@app.example\nTo: kim@example.org\nSubject: [bold]x[/] [[y]] [/]\n"
        "Date: Sun, 6 Dec 2026 09:00:00 +0000\nMessage-ID: <1@app.example>\n\nbody\n"
    )
    shown = _shown(runner.invoke(app, ["doctor", "headers", str(message)], env=WIDE))
    assert "[bold]x[/]" in shown and "[[y]]" in shown
    lint = ["doctor", "lint", str(message), "--country", "KR", "--kind", "marketing"]
    assert "[bold]x[/] [[y]] [/]" in _shown(runner.invoke(app, lint, env=WIDE))
