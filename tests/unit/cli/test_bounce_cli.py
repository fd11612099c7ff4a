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
            assert set(item) == {
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
