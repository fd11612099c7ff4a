"""``mailfate doctor domain`` through Typer's CliRunner, against the real Knot server."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mailfate.cli.doctor import doctor_app
from tests.support import domain_zones as z
from tests.support.knot import KnotServer

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


@pytest.fixture(scope="module")
def knot(knot_factory: Callable[[dict[str, str]], KnotServer]) -> KnotServer:
    return knot_factory(z.zones(z.make_keys()))


@pytest.fixture(autouse=True)
def local_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's default MTA-STS fetch, served locally: tests never reach the Internet."""
    monkeypatch.setattr("mailfate.doctor.domain.policy.fetch_https", z.fetcher())


def _clean_args(knot: KnotServer) -> list[str]:
    args = ["domain", "clean.test", "--nameserver", knot.address, "--dnsbl", "dnsbl.test"]
    for ip in z.CLEAN_IPS:
        args += ["--ip", ip]
    for selector in z.CLEAN_SELECTORS:
        args += ["--selector", selector]
    return [*args, "--mail-from", "bounce.clean.test"]


def _json(output: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(output)
    return data


def test_json_clean_domain_exit_0(knot: KnotServer) -> None:
    result = runner.invoke(doctor_app, [*_clean_args(knot), "--json"])
    assert result.exit_code == 0, result.output
    data = _json(result.output)
    assert set(data) == {"domain", "status", "not_run", "findings"}  # extended, never narrowed
    assert data["status"] == "exists" and data["not_run"] == []
    assert data["domain"] == "clean.test"
    assert not [f for f in data["findings"] if f["severity"] == "error"]
    assert {f["check"] for f in data["findings"]} == {
        "domain", "spf", "dkim", "dmarc", "mail-from", "mx", "ptr", "mta-sts", "tls-rpt", "bimi", "dnsbl",
        "dnssec",
    }  # fmt: skip


def test_json_with_receivers(knot: KnotServer) -> None:
    result = runner.invoke(doctor_app, [*_clean_args(knot), "--json", "--receiver", "gmail,naver"])
    assert result.exit_code == 0, result.output
    data = _json(result.output)
    assert [r["id"] for r in data["receivers"]] == ["gmail", "naver"]
    gmail = data["receivers"][0]
    assert gmail["summary"]["fail"] == 0
    rule = next(r for r in gmail["rules"] if r["id"] == "gmail.bulk.dmarc")
    assert rule["status"] == "pass" and rule["source"]["url"].startswith("https://")


def test_errors_exit_1_with_the_fix(knot: KnotServer) -> None:
    result = runner.invoke(
        doctor_app, ["domain", "nospf.test", "--nameserver", knot.address, "--ip", "192.0.2.10", "--json"]
    )
    assert result.exit_code == 1
    spf = [f for f in _json(result.output)["findings"] if f["check"] == "spf" and f["severity"] == "error"]
    assert spf[0]["fix"] == 'nospf.test. TXT "v=spf1 ip4:192.0.2.10 -all"'


def test_human_output_is_a_table_with_receivers(knot: KnotServer) -> None:
    result = runner.invoke(doctor_app, [*_clean_args(knot), "--receiver", "yahoo"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "Domain: clean.test" in result.output
    assert "doctor domain clean.test" in result.output
    assert "Yahoo Mail" in result.output and "yahoo.all.ptr" in result.output


def test_dkim_key_file_with_one_selector(knot: KnotServer, tmp_path: Path) -> None:
    key = tmp_path / "dkim.pem"
    key.write_bytes(z.make_keys().rsa2048_pem)
    args = ["domain", "clean.test", "--nameserver", knot.address, "--selector", "s2048"]
    result = runner.invoke(doctor_app, [*args, "--dkim-key", str(key), "--json"])
    data = _json(result.output)
    assert any("test message signed" in f["message"] for f in data["findings"] if f["check"] == "dkim")
    result = runner.invoke(doctor_app, [*args, "--dkim-key", f"s2048={key}", "--json"])
    assert any("test message signed" in f["message"] for f in _json(result.output)["findings"])


@pytest.mark.parametrize(
    "extra",
    [
        ["--receiver", "hotmail"],
        ["--ip", "300.1.1.1"],
        ["--nameserver", "dns.example"],
        ["--timeout", "-1"],
        ["--dkim-key", "/nonexistent/key.pem", "--selector", "s1"],
        ["--dkim-key", "a=b", "--selector", "s1", "--selector", "s2", "--dkim-key", "nofile"],
    ],
)
def test_bad_options_exit_2_without_traceback(extra: list[str]) -> None:
    result = runner.invoke(doctor_app, ["domain", "clean.test", "--nameserver", "127.0.0.1:9", *extra])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("domain", ["", "a" * 300, "user@clean.test", "xn--zz.test"])
def test_bad_domain_is_an_error_finding_not_a_crash(domain: str) -> None:
    result = runner.invoke(doctor_app, ["domain", domain, "--nameserver", "127.0.0.1:9", "--json"])
    assert result.exit_code == 1, result.output
    (finding,) = _json(result.output)["findings"]
    assert finding["severity"] == "error" and "Not a usable domain" in finding["message"]


def test_unanswering_dns_finishes_within_timeout_plus_one_second() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        started = time.monotonic()
        args = ["domain", "example.test", "--nameserver", f"127.0.0.1:{port}", "--timeout", "1"]
        result = runner.invoke(doctor_app, [*args, "--ip", "192.0.2.1", "--dnsbl", "dnsbl.test", "--json"])
        took = time.monotonic() - started
    assert took < 2.0, took
    assert result.exit_code == 1
    messages = [f["message"] for f in _json(result.output)["findings"]]
    assert any("DNS did not answer within 1 s" in m for m in messages)


def test_the_configured_verp_domain_is_checked_as_the_mail_from_domain(
    knot: KnotServer, tmp_path: Path
) -> None:
    """Receivers check SPF against the envelope domain mailfate sends with, its ``[verp] domain``:
    without --mail-from, doctor checks that one (and says so), as --mail-from would."""
    config = tmp_path / "mailfate.toml"
    config.write_text('[verp]\ndomain = "bounce.clean.test"\n')
    explicit = runner.invoke(doctor_app, [*_clean_args(knot), "--json"])
    args = _clean_args(knot)[:-2]  # without --mail-from
    configured = runner.invoke(doctor_app, [*args, "--config", str(config), "--json"])
    assert configured.exit_code == explicit.exit_code == 0, configured.output
    mail_from = [f for f in _json(configured.stdout)["findings"] if f["check"] == "mail-from"]
    assert mail_from == [f for f in _json(explicit.stdout)["findings"] if f["check"] == "mail-from"]
    assert "bounce.clean.test" in json.dumps(mail_from)
    people = runner.invoke(doctor_app, [*args, "--config", str(config)], env=WIDE)
    assert "MAIL FROM domain: bounce.clean.test ([verp] domain of the settings" in " ".join(
        people.stderr.split()
    )
    plain = runner.invoke(doctor_app, [*args, "--json"])  # no settings: the built-in VERP domain is not ours
    assert "bounce.clean.test" not in json.dumps(
        [f for f in _json(plain.stdout)["findings"] if f["check"] == "mail-from"]
    )
