"""``mailfate doctor headers`` and ``mailfate doctor lint`` through the Typer app."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from mailfate.cli.doctor import doctor_app, parse_send_at
from mailfate.errors import InputError
from tests.unit.doctor.test_received import GMAIL_12H

runner = CliRunner()
WIDE = {"COLUMNS": "160"}
TRANSACTIONAL = (
    b"From: Shop <orders@shop.example>\nTo: bob@example.com\nSubject: Your order 1234 has shipped\n"
    b"Date: Mon, 1 Apr 2024 10:00:00 +0000\nMessage-ID: <1@shop.example>\n"
    b"Content-Type: text/plain; charset=utf-8\n\nYour order 1234 has shipped. Tracking number 555.\n"
)
AD = (
    b"From: Shop <ads@shop.example>\nSubject: 50% sale today\n"
    b"Date: Mon, 1 Apr 2024 10:00:00 +0000\n\nBuy now!\n"
)


@pytest.fixture
def gmail_file(tmp_path: Path) -> Path:
    path = tmp_path / "gmail.eml"
    path.write_bytes(GMAIL_12H)
    return path


def test_headers_table_shows_hops_delays_and_findings(gmail_file: Path) -> None:
    result = runner.invoke(doctor_app, ["headers", str(gmail_file)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Received chain" in result.output
    assert "12h 00m 09s" in result.output and "total: 12h 00m 12s" in result.output
    assert "app.shop.example [203.0.113.5]" in result.output and "TLSv1.3" in result.output
    assert "The longest wait was 12h 00m at hop 2" in result.output


def test_headers_json(gmail_file: Path) -> None:
    result = runner.invoke(doctor_app, ["headers", str(gmail_file), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert set(data) >= {"file", "hops", "total_delay_seconds", "authentication", "spam", "findings"}
    assert data["file"] == str(gmail_file)
    assert data["total_delay_seconds"] == 12 * 3600 + 12
    assert [h["delay_seconds"] for h in data["hops"]] == [None, 43209.0, 2.0, 1.0]
    assert data["hops"][1]["tls"] == "TLSv1.3" and data["slowest_hop"] == 2
    assert {f["check"] for f in data["findings"]} >= {"delay"}


def test_headers_from_stdin_and_unreadable_file(tmp_path: Path) -> None:
    result = runner.invoke(doctor_app, ["headers", "-", "--json"], input=b"\xff\x00not a mail")
    assert result.exit_code == 0
    assert json.loads(result.output)["findings"][0]["severity"] == "error"
    missing = runner.invoke(doctor_app, ["headers", str(tmp_path / "missing.eml")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.output and "No such file" in missing.output
    assert len(missing.output.strip().splitlines()) == 1


def test_lint_json_and_exit_codes(tmp_path: Path) -> None:
    ok = tmp_path / "ok.eml"
    ok.write_bytes(TRANSACTIONAL)
    result = runner.invoke(
        doctor_app, ["lint", str(ok), "--country", "US", "--kind", "transactional", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["file"], data["country"], data["kind"]) == (str(ok), "US", "transactional")
    assert data["findings"] and all(f["severity"] != "error" for f in data["findings"])
    ad = tmp_path / "ad.eml"
    ad.write_bytes(AD)
    bad = runner.invoke(doctor_app, ["lint", str(ad), "--country", "KR", "--kind", "marketing"], env=WIDE)
    assert bad.exit_code == 1
    assert "kr-50-subject" in bad.output and "error" in bad.output


def test_lint_bad_input_exits_2(tmp_path: Path) -> None:
    ad = tmp_path / "ad.eml"
    ad.write_bytes(AD)
    for args in (
        ["--country", "XX", "--kind", "marketing"],
        ["--country", "KR", "--kind", "marketing", "--send-at", "late"],
    ):
        result = runner.invoke(doctor_app, ["lint", str(ad), *args])
        assert result.exit_code == 2, result.output
        assert "error:" in result.output


def test_parse_send_at() -> None:
    seoul = ZoneInfo("Asia/Seoul")
    now = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)  # 12:00 in Seoul
    at = parse_send_at("22:30", "kr", now=now)
    assert at == datetime(2026, 5, 1, 22, 30, tzinfo=seoul)
    assert parse_send_at("2026-05-01T22:00+02:00", "EU").utcoffset() is not None
    with pytest.raises(InputError, match="offset"):
        parse_send_at("2026-05-01T22:00", "KR")
    with pytest.raises(InputError, match="HH:MM needs a country"):
        parse_send_at("22:00", "DE")


def test_headers_table_prints_hostile_markup_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "evil[bold].eml"
    path.write_bytes(
        b"Received: from [/bold] ([192.0.2.1]) by [red]mx[/] with ESMTP; Mon, 1 Apr 2024 10:00:00 +0000\n"
        b"Authentication-Results: [/x]; spf=fail ([/]) smtp.mailfrom=[/i]@b.example\n\nx\n"
    )
    result = runner.invoke(doctor_app, ["headers", str(path)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "[red]mx[/]" in result.output
    missing = runner.invoke(doctor_app, ["headers", str(tmp_path / "gone[red].eml")])
    assert missing.exit_code == 2 and "gone[red].eml" in missing.output
