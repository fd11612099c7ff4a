"""``mailfate bounce ...`` through Typer's runner, on the hand-made examples in examples/bounces."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailfate.cli.app import app

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "bounces"
runner = CliRunner()


def lines_of(output: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in output.splitlines() if x.strip()]


def by_file(output: str) -> dict[str, dict[str, object]]:
    return {os.path.basename(str(rec["file"])): rec for rec in lines_of(output)}


def test_classify_directory_json_gives_one_object_per_file() -> None:
    result = runner.invoke(app, ["bounce", "classify", "--json", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    recs = lines_of(result.stdout)
    files = sorted(p.name for p in EXAMPLES.iterdir())
    assert sorted(os.path.basename(str(r["file"])) for r in recs) == files
    for rec in recs:
        assert str(rec["file"]).startswith(str(EXAMPLES) + os.sep)
        assert "results" in rec, rec
        for item in rec["results"]:  # type: ignore[attr-defined]
            assert set(item) - {"cause_detail", "retry_after"} == {
                "cause",
                "evidence",
                "retry",
                "recipient",
                "status",
                "replycode",
                "reason",
                "hardbounce",
                "kind",
                "diagnostic",
                "remote_mta",
                "original_message_id",
                "parser",
            }


def test_classify_examples_meaning() -> None:
    out = by_file(runner.invoke(app, ["bounce", "classify", "--json", str(EXAMPLES)]).stdout)

    def first(name: str) -> dict[str, object]:
        results = out[name]["results"]
        assert isinstance(results, list) and results, (name, out[name])
        return results[0]  # type: ignore[no-any-return]

    hard = first("postfix-user-unknown.eml")
    assert (hard["recipient"], hard["status"], hard["replycode"], hard["reason"], hard["hardbounce"]) == (
        "no-such-person@example.org",
        "5.1.1",
        "550",
        "userunknown",
        True,
    )
    assert hard["original_message_id"] == "<signup-7731.1763856845@app1.example.net>"
    assert first("exim-mailbox-full.eml")["reason"] == "mailboxfull"
    assert first("korean-euckr-mailbox-full.eml")["reason"] == "mailboxfull"
    assert first("arf-complaint.eml")["kind"] == "complaint"
    assert first("out-of-office.eml")["reason"] == "vacation"
    delay = first("ses-delivery-delay.json")
    assert delay["recipient"] == "kim@corp.example.com" and delay["hardbounce"] is False
    assert out["not-a-bounce.eml"]["results"] == []


def test_unreadable_and_unparseable_inputs_give_errors_and_the_run_goes_on(tmp_path: Path) -> None:
    bad_json = tmp_path / "broken.json"
    bad_json.write_text("{not json", encoding="utf-8")
    missing = tmp_path / "missing.eml"
    good = EXAMPLES / "not-a-bounce.eml"
    result = runner.invoke(app, ["bounce", "classify", "--json", str(bad_json), str(missing), str(good)])
    assert result.exit_code == 0
    recs = lines_of(result.stdout)
    assert [r["file"] for r in recs] == [str(bad_json), str(missing), str(good)]
    assert "error" in recs[0] and "error" in recs[1]
    assert recs[2]["results"] == []


def test_stdin() -> None:
    data = (EXAMPLES / "exim-mailbox-full.eml").read_bytes()
    result = runner.invoke(app, ["bounce", "classify", "--json", "-"], input=data)
    assert result.exit_code == 0
    (rec,) = lines_of(result.stdout)
    assert rec["file"] == "-"
    assert rec["results"][0]["recipient"] == "park@example.org"  # type: ignore[index]


def test_table_output_names_the_reason() -> None:
    result = runner.invoke(app, ["bounce", "classify", str(EXAMPLES / "exim-mailbox-full.eml")])
    assert result.exit_code == 0
    assert "mailboxfull" in result.stdout
    assert "park@example.org" in result.stdout


@pytest.mark.parametrize(
    ("reply", "reason", "hard"),
    [
        ("550 5.1.1 <x@example.org>: Recipient address rejected: User unknown", "userunknown", True),
        ("452 4.2.2 The email account that you tried to reach is over quota", "mailboxfull", False),
    ],
)
def test_reply_json(reply: str, reason: str, hard: bool) -> None:
    result = runner.invoke(app, ["bounce", "reply", "--json", reply])
    assert result.exit_code == 0
    (rec,) = lines_of(result.stdout)
    assert (rec["reason"], rec["hardbounce"]) == (reason, hard)
    assert rec["rule_id"]


def test_reply_human() -> None:
    result = runner.invoke(app, ["bounce", "reply", "550 5.1.1 <x@example.org>: User unknown"])
    assert result.exit_code == 0
    assert "userunknown" in result.stdout and "hard bounce" in result.stdout


def test_rules_check_passes_on_packaged_rules() -> None:
    result = runner.invoke(app, ["bounce", "rules", "--check", "--json"])
    (rec,) = lines_of(result.stdout)
    assert rec["problems"] == [] and rec["unreachable"] == [], rec
    assert result.exit_code == 0


def test_rules_check_fails_on_a_shadowed_rule(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(
        '[[rule]]\nid = "mine.shadowed"\nreason = "blocked"\nany = ["zzzz"]\n'
        'examples = ["550 nothing to see"]\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["bounce", "rules", "--check", "--json", "--rules", str(mine)])
    assert result.exit_code == 1
    (rec,) = lines_of(result.stdout)
    assert any("mine.shadowed" in p for p in rec["problems"])  # type: ignore[attr-defined]


def test_broken_rule_file_is_a_clear_error(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text('[[rule]]\nid = "x"\nreason = "nope"\nany = ["a"]\n', encoding="utf-8")
    result = runner.invoke(app, ["bounce", "reply", "--rules", str(mine), "550 x"])
    assert result.exit_code == 2
    assert "nope" in result.output


# -- mailfate bounce reply - : one reply a line on stdin, one JSON line out ----------------------
STREAM_KEYS = {
    "reply",
    "reason",
    "cause",
    "hardbounce",
    "kind",
    "retry",
    "status",
    "replycode",
    "rule_id",
    "evidence",
}
DEAD = "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown in local recipient table"
GMAIL_SPF = (
    "550-5.7.27 The sender's domain does not pass SPF checks for the sending IP; the message has "
    "been blocked. To best protect our users from spam, please visit the SPF help page. - gsmtp"
)
GREYLIST = (
    "450 4.2.0 <kim@example.org>: Recipient address rejected: Greylisted, please try again in 300 seconds"
)


def stream(data: bytes, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["bounce", "reply", *args, "-"], input=data)
    assert result.exit_code == 0, result.output
    return lines_of(result.stdout)


def test_reply_stdin_gives_one_json_line_per_reply() -> None:
    recs = stream(f"{DEAD}\n{GMAIL_SPF}\n{GREYLIST}\n".encode())
    assert [r["reply"] for r in recs] == [DEAD, GMAIL_SPF, GREYLIST]
    for rec in recs:
        assert set(rec) >= STREAM_KEYS, rec
        assert set(rec) - STREAM_KEYS <= {"cause_detail", "retry_after"}, rec
    dead, spf, grey = recs
    assert (dead["reason"], dead["hardbounce"], dead["retry"]) == ("userunknown", True, False)
    assert dead["cause"] == "mailbox-unknown" and dead["kind"] == "hard"
    assert dead["evidence"] in ("phrase", "status", "provider-rule")
    assert (dead["status"], dead["replycode"]) == ("5.1.1", "550")
    assert spf["hardbounce"] is False and spf["retry"] is False
    assert spf["cause"] in ("spf-fail", "auth-fail"), spf
    assert grey["hardbounce"] is False and grey["retry"] is True
    assert grey["cause"] == "greylisted", grey
    assert grey.get("retry_after") in (None, 300.0)


def test_reply_stdin_prints_json_without_the_json_flag_and_with_it() -> None:
    assert stream(f"{DEAD}\n".encode()) == stream(f"{DEAD}\n".encode(), "--json")


def test_reply_stdin_skips_blank_lines_and_takes_a_last_line_without_newline() -> None:
    recs = stream(f"\n   \n{DEAD}\r\n\n\t\n{GREYLIST}".encode())
    assert [r["reply"] for r in recs] == [DEAD, GREYLIST]


def test_reply_stdin_survives_invalid_utf8() -> None:
    recs = stream(b"550 5.1.1 \xff\xfe\xc3( unknown user\n\x80\x81\n" + DEAD.encode() + b"\n")
    assert len(recs) == 3
    assert "\ufffd" in str(recs[0]["reply"]) and "\ufffd" in str(recs[1]["reply"])
    assert recs[2]["reason"] == "userunknown"


def test_reply_stdin_empty_input_prints_nothing() -> None:
    assert stream(b"") == []


def test_reply_help_says_stdin_prints_json() -> None:
    result = runner.invoke(app, ["bounce", "reply", "--help"])
    assert result.exit_code == 0
    assert "standard input" in result.stdout and "JSON" in result.stdout


def test_reply_one_argument_still_works_with_cause_and_retry() -> None:
    result = runner.invoke(app, ["bounce", "reply", "--json", GREYLIST])
    assert result.exit_code == 0, result.output
    (rec,) = lines_of(result.stdout)
    assert rec["reply"] == GREYLIST and rec["retry"] is True and rec["hardbounce"] is False
    assert rec["cause"] == "greylisted"


def test_reply_human_shows_cause_evidence_and_retry_and_survives_brackets() -> None:
    result = runner.invoke(
        app, ["bounce", "reply", "421 4.7.0 [TSS04] [/] [bold]x[/bold] deferred, try later"]
    )
    assert result.exit_code == 0, result.output
    assert "cause" in result.stdout and "evidence" in result.stdout and "retry" in result.stdout
    assert "[TSS04]" in result.stdout and "[/]" in result.stdout


def test_classify_table_shows_cause_and_retry() -> None:
    result = runner.invoke(app, ["bounce", "classify", str(EXAMPLES / "postfix-user-unknown.eml")])
    assert result.exit_code == 0, result.output
    assert "mailbox-unknown" in result.stdout and "no retry" in result.stdout


def test_reply_stdin_streams_in_a_real_process() -> None:
    """The installed entry point answers each line as it arrives (no waiting for end of input)."""
    import subprocess
    import sys

    with subprocess.Popen(
        [sys.executable, "-m", "mailfate.cli", "bounce", "reply", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(DEAD.encode() + b"\n")
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())
        assert first["reason"] == "userunknown"
        proc.stdin.write(GREYLIST.encode() + b"\n")
        proc.stdin.close()
        second = json.loads(proc.stdout.readline())
        assert second["retry"] is True
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_classify_jobs_gives_the_same_lines_in_the_same_order(tmp_path: Path) -> None:
    """``--jobs``: the files of a directory in forked processes — a real process, so the fork is
    the CLI's own — give what one process gives, line for line, with the rules given by --rules
    (the processes inherit the classifier) and an unreadable file's error in its place."""
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "mails"
    for copy in range(6):  # enough files for several chunks per process
        shutil.copytree(EXAMPLES, folder / f"c{copy}")
    (folder / "c0" / "broken.json").write_text("{not json", encoding="utf-8")
    mine = tmp_path / "mine.toml"
    mine.write_text(
        '[[rule]]\nid = "mine.mailbox"\nreason = "suspend"\nany = ["mailbox is full"]\n'
        'examples = ["552 5.2.2 mailbox is full"]\n',
        encoding="utf-8",
    )

    def run(*extra: str) -> list[str]:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mailfate",
                "bounce",
                "classify",
                "--json",
                "--rules",
                str(mine),
                *extra,
                str(folder),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.splitlines()

    one, two, every = run(), run("--jobs", "2"), run("-j", "0")
    assert one == two == every
    assert len(one) == 6 * len(list(EXAMPLES.iterdir())) + 1
    assert any('"error"' in line and "broken.json" in line for line in one)
    assert any('"suspend"' in line for line in one)  # the overlaid rule reached the processes
