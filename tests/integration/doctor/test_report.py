"""``mailfate report``: the postmaster inquiry for a message, a receiving domain, every domain —
with the receiver's own replies quoted, our authentication from a real DNS server (Knot), Korean."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailfate.cli.app import app
from mailfate.doctor.inquiry import domain_inquiry, message_inquiry
from mailfate.doctor.inquiry_text import render
from mailfate.model import AttemptRecord, AttemptResult, NewMessage
from mailfate.store import Store
from tests.support.knot import KnotServer, zone_text

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
runner = CliRunner()


def reply(  # noqa: PLR0917 - one reply per line in the fixture
    outcome: str, code: int, status: str, text: str, reason: str, ip: str = "192.0.2.25"
) -> AttemptResult:
    return AttemptResult(
        outcome,  # type: ignore[arg-type]
        code, status, text, reason, outcome == "bounced", remote_host="mx1.corp.test", remote_ip=ip,
        tls_version="TLSv1.3" if outcome != "bounced" else "",
    )  # fmt: skip


@dataclass
class Sent:
    store: Store
    path: Path
    ids: dict[str, str]


def deliver(store: Store, to: str, results: list[AttemptResult], at: datetime, subject: str = "code") -> str:
    mid = store.queue.submit(
        NewMessage("App <no-reply@app.test>", (to,), b"x", subject=subject), at
    ).message_id
    for i, result in enumerate(results):
        when = at + timedelta(minutes=5 * i)
        [c] = store.queue.claim(1, now=when + timedelta(days=1), lease=60, owner="t")
        last = i == len(results) - 1
        expire = last and result.outcome == "deferred"
        store.queue.record_attempts(
            [AttemptRecord(c.recipient_id, result, when, when + timedelta(minutes=5), expire)]
        )
    return mid


@pytest.fixture
def sent(tmp_path: Path) -> Iterator[Sent]:
    path = tmp_path / "d" / "mailfate.db"
    store = Store.open(path)
    policy = "Client host [198.51.100.7] rejected: <b>policy</b> AB12CD34EF"
    ids = {
        "kim": deliver(
            store,
            "kim@corp.test",
            [
                reply("deferred", 451, "4.7.1", policy, "blocked", "192.0.2.25"),
                reply(
                    "deferred",
                    451,
                    "4.7.1",
                    policy.replace("AB12CD34EF", "99FF00AA11"),
                    "blocked",
                    "192.0.2.26",
                ),
            ],
            NOW - timedelta(hours=2),
            subject="인증 코드",
        ),
        "lee": deliver(
            store, "lee@corp.test", [reply("bounced", 550, "5.1.1", "5.1.1 User unknown", "userunknown")], NOW
        ),
        "park": deliver(store, "park@gmail.test", [reply("delivered", 250, "2.0.0", "OK", "delivered")], NOW),
        "choi": deliver(
            store, "choi@other.test", [reply("deferred", 451, "4.7.1", "Greylisted", "greylisting")], NOW
        ),
    }
    store.rollups.catch_up_rollups(datetime.now(UTC))
    yield Sent(store, path, ids)
    store.close()


def test_a_message_inquiry_quotes_their_reply_and_asks_the_question(sent: Sent) -> None:
    inquiry = message_inquiry(sent.store, sent.ids["kim"], now=datetime.now(UTC))
    assert inquiry.receiver == "corp.test" and inquiry.sending_domains == ["app.test"]
    assert [a.outcome for a in inquiry.attempts] == ["deferred", "deferred", "expired"]
    text = render(inquiry, lang="en", fmt="md")
    assert "Do your servers block mail from app.test, or apply stricter rules to it" in text
    assert "was deferred until we gave up by your mail servers" in text
    assert "> `451 4.7.1 Client host [198.51.100.7] rejected: <b>policy</b> 99FF00AA11`" in text
    assert "mx1.corp.test (192.0.2.26) TLSv1.3" in text
    view = sent.store.messages.message(sent.ids["kim"])
    assert view is not None and view.header_message_id in text
    assert "| gmail.test | 1 | 1 | 0.0% |" in text  # how the same mail fares elsewhere
    assert "Our DNS records were not checked" in text
    [group] = inquiry.replies  # two replies that differ in an id and an IP: one group
    assert group.count == 2 and group.reason == "blocked"


def test_korean_letter_with_kst_times_and_escaped_html(sent: Sent) -> None:
    inquiry = message_inquiry(sent.store, sent.ids["kim"], now=datetime.now(UTC))
    ko = render(inquiry, lang="ko", fmt="md")
    assert "차단하거나 다른 발신자보다 엄격한 규칙을 적용하고 있는지" in ko
    kst = (NOW - timedelta(hours=2)).astimezone(UTC) + timedelta(hours=9)
    assert f"{kst:%Y-%m-%d %H:%M:%S} KST" in ko
    assert "발송 IP나 호스트를 차단" in ko  # what "blocked" means, in Korean
    html = render(inquiry, lang="ko", fmt="html")
    assert '<html lang="ko">' in html and "&lt;b&gt;policy&lt;/b&gt;" in html and "<b>policy" not in html
    assert "인증 코드" in html


def test_the_question_quotes_a_policy_reply_before_an_unknown_user(sent: Sent) -> None:
    inquiry = domain_inquiry(sent.store, "CORP.test", now=datetime.now(UTC), since=NOW - timedelta(days=1))
    assert inquiry.recipients == {"kim@corp.test": "expired", "lee@corp.test": "bounced"}
    assert inquiry.quoted is not None and inquiry.quoted.reason == "blocked"  # not the 550 user unknown
    text = render(inquiry, lang="en", fmt="md")
    assert "to 2 recipient(s) at corp.test (0 still deferred, 1 refused, 1 given up after retries)" in text
    assert "(1 of these recipient(s) were refused as addresses that do not exist" in text
    assert "| corp.test (you) |" in text


def test_troubled_domains_rank_by_recipients_affected(sent: Sent) -> None:
    ranked = sent.store.stats.troubled_domains(NOW - timedelta(days=1))
    assert [(t.domain, t.recipients) for t in ranked] == [("corp.test", 2), ("other.test", 1)]
    assert ranked[0].bounced == 1 and ranked[0].expired == 1


def test_cli_message_domain_and_all_domains(sent: Sent, tmp_path: Path) -> None:
    data = ["--data-dir", str(sent.path.parent)]
    result = runner.invoke(app, ["report", sent.ids["kim"], "--no-dns", "--lang", "ko", *data])
    assert result.exit_code == 0, result.output
    assert "메일 수신 문의" in result.output
    out = tmp_path / "corp.html"
    result = runner.invoke(
        app, ["report", "--domain", "corp.test", "--no-dns", "--format", "html", "--out", str(out), *data]
    )
    assert result.exit_code == 0, result.output
    assert "<table>" in out.read_text("utf-8")
    folder = tmp_path / "letters"
    result = runner.invoke(
        app, ["report", "--all-domains", "--no-dns", "--out", str(folder), "--json", *data]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(x["rank"], x["domain"], x["case"]) for x in lines] == [
        (1, "corp.test", "letter"),
        (2, "other.test", "letter"),
    ]
    assert sorted(p.name for p in folder.iterdir()) == ["001-corp.test.en.md", "002-other.test.en.md"]
    assert "Greylisted" in (folder / "002-other.test.en.md").read_text("utf-8")
    as_json = json.loads(runner.invoke(app, ["report", sent.ids["lee"], "--no-dns", "--json", *data]).output)
    assert as_json["receiver"] == "corp.test" and as_json["attempts"][0]["reply"] == "550 5.1.1 User unknown"
    assert as_json["case"]["kind"] == "dead" and as_json["case"]["dead"] == ["lee@corp.test"]
    assert as_json["envelope_domain"] == "bounces.mailfate.test"  # the default [verp] domain


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "one of them"),
        (["mnope", "--domain", "corp.test"], "one of them"),
        (["m0000000000000000000000000a"], "no message"),
        (["--domain", "nobody.test"], "no deferral or bounce"),
        (["--domain", "a b"], "not a receiving domain"),
        (["--all-domains", "--lang", "fr"], "--lang"),
        (["--all-domains", "--since", "soon"], "duration"),
    ],
)
def test_cli_refuses_bad_requests_clearly(sent: Sent, args: list[str], words: str) -> None:
    result = runner.invoke(app, ["report", *args, "--no-dns", "--data-dir", str(sent.path.parent)])
    assert result.exit_code in (1, 2)
    assert words in result.output


def test_our_authentication_from_a_real_dns_server(
    sent: Sent, knot_factory: Callable[[dict[str, str]], KnotServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mailfate.doctor.domain.policy.fetch_https", lambda *a, **k: None)
    zone = zone_text(
        "app.test",
        '@ IN TXT "v=spf1 ip4:192.0.2.0/24 ?all"\n_dmarc IN TXT "v=DMARC1; p=none"\n@ IN MX 10 mx.app.test.\n'
        "mx IN A 192.0.2.1",
    )
    knot = knot_factory({"app.test": zone})
    result = runner.invoke(
        app,
        ["report", sent.ids["kim"], "--nameserver", knot.address, "--dns-timeout", "3", "--json",
         "--data-dir", str(sent.path.parent)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    auth = json.loads(result.output)["auth"]
    checks = {(f["check"], f["severity"]) for f in auth}
    assert ("dmarc", "warning") in checks  # p=none
    assert any(f["check"] == "spf" and "?all" in (f["message"] + f["evidence"]) for f in auth)
    assert not any(f["check"] in ("mx", "mta-sts", "bimi") for f in auth)  # only what a filter weighs


def test_each_fate_gets_what_it_needs_not_a_letter(sent: Sent) -> None:
    """A delivered message is a statement, an unknown user is advice to remove it, greylisting past
    the deadline is a letter about greylisting: decided from the events, not from the addresses."""
    now = datetime.now(UTC)
    delivered = render(message_inquiry(sent.store, sent.ids["park"], now=now), lang="en", fmt="md")
    assert delivered.startswith("# Delivered: our message to gmail.test")
    assert "mx1.corp.test (192.0.2.25) accepted it on" in delivered and "no letter is written" in delivered
    assert "Our question" not in delivered and "deferred or refused" not in delivered
    dead = render(message_inquiry(sent.store, sent.ids["lee"], now=now), lang="en", fmt="md")
    assert dead.startswith("# Remove the address: lee@corp.test")
    assert (
        "> `550 5.1.1 User unknown`" in dead and "stricter rules" not in dead and "Our question" not in dead
    )
    grey = render(message_inquiry(sent.store, sent.ids["choi"], now=now), lang="en", fmt="md")
    assert "Your servers greylisted our mail and never accepted a retry: 1 attempt(s)" in grey
    assert "block mail from" not in grey


def _auth_fail(store: Store, sender: str) -> str:
    mid = store.queue.submit(NewMessage(sender, ("kim@corp.test",), b"x", subject="code"), NOW).message_id
    [c] = store.queue.claim(1, now=NOW + timedelta(days=1), lease=60, owner="t")
    text = "5.7.26 Unauthenticated email is not accepted due to the sender domain's DMARC policy"
    result = AttemptResult(
        "bounced", 550, "5.7.26", text, "authfailure", True, remote_host="mx1.corp.test",
        remote_ip="192.0.2.25", cause="dmarc-policy", transport="direct",
    )  # fmt: skip
    store.queue.record_attempts([AttemptRecord(c.recipient_id, result, NOW, NOW, False)])
    return mid


def test_an_authentication_letter_only_when_our_side_checks_clean(
    tmp_path: Path, knot_factory: Callable[[dict[str, str]], KnotServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DMARC refusal: with our SPF, DKIM and DMARC clean on a real DNS server (and our VERP domain
    aligned), the letter asks which check fails on their side; for a domain with no SPF, the report
    says what to fix first and writes no letter."""
    from tests.support import domain_zones as z

    monkeypatch.setattr("mailfate.doctor.domain.policy.fetch_https", lambda *a, **k: z.GOOD_POLICY)
    knot = knot_factory(z.zones(z.make_keys()))
    store = Store.open(tmp_path / "d" / "mailfate.db")
    clean = _auth_fail(store, "App <no-reply@clean.test>")
    broken = _auth_fail(store, "App <no-reply@nospf.test>")
    store.close()
    config = tmp_path / "mailfate.toml"
    config.write_text('[verp]\ndomain = "bounce.clean.test"\n', "utf-8")
    args = ["--nameserver", knot.address, "--dns-timeout", "3", "--config", str(config),
            "--data-dir", str(tmp_path / "d"), *[x for ip in z.CLEAN_IPS for x in ("--ip", ip)],
            *[x for s in z.CLEAN_SELECTORS for x in ("--selector", s)]]  # fmt: skip
    result = runner.invoke(app, ["report", clean, *args])
    assert result.exit_code == 0, result.output
    assert "# Delivery inquiry: our message to corp.test" in result.output
    assert "Which check fails on your side, for which domain, and with what result?" in result.output
    assert "MAIL FROM (VERP) bounce.clean.test aligns with From clean.test" in result.output
    assert "Rehearsal" not in result.output  # a real transport's reply
    result = runner.invoke(app, ["report", broken, *args, "--lang", "ko"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# 당사 설정부터 수정: corp.test(으)로 보낸 메일")
    assert (
        "문의 사항" not in result.output
        and "dmarc — 당사 DNS 점검에서 오류가 발견되었습니다" in result.output
    )
    assert "정렬되지 않습니다(clean.test ≠ nospf.test)" in result.output


def test_the_demo_scenarios_as_the_store_records_them(tmp_path: Path) -> None:
    """Every scenario of the real demo (simulator, engine, inbound server on loopback) gets its case,
    and each report says the replies came from the simulator."""
    import asyncio

    from mailfate.cli.demo import SCENARIOS, run_demo
    from mailfate.doctor.cases import decide

    rows = asyncio.run(run_demo(tmp_path, lambda rows: None))
    expected = {
        "delivered": "delivered", "hard_bounce": "dead", "greylisted": "delivered", "late_bounce": "dead",
        "complaint": "complained", "suppressed": "not_sent", "auth_softfail": "ours",
    }  # fmt: skip
    store = Store.open(tmp_path / "mailfate.db")
    try:
        for sc, row in zip(SCENARIOS, rows, strict=True):
            inquiry = message_inquiry(
                store, row["message_id"], now=datetime.now(UTC), envelope_domain="bounces.mailfate.test"
            )
            assert decide(inquiry).kind == expected[sc.name], sc.name
            text = render(inquiry, lang="en", fmt="md")
            assert ("simulated receiver" in text) == (sc.name != "suppressed"), sc.name
            assert "Our question" not in text, sc.name
    finally:
        store.close()
