"""Against a real receiver (issue 13, point 7): Postfix answers 250, then bounces at once, and its
DSN is back at mailfate's inbound port tens of milliseconds after the 250.

mailfate runs as a user runs it, in two processes on one SQLite store: ``mailfate serve
--no-workers`` (the HTTP API) and ``mailfate worker`` (delivery through a relay transport to
Postfix, and the inbound server for the VERP domain, where Postfix sends its DSNs). For each
recipient the timeline holds the attempt (250) and, for those that bounce, the report; the bounce
is classified; and the fate cached on the recipient is the fold of its events in stored order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailfate.model.fate import fate_of, fold_step
from tests.support.postfix import PostfixServer, free_port, postfix_unavailable
from tests.support.serve import mailfate, running

pytestmark = pytest.mark.skipif(postfix_unavailable() is not None, reason=str(postfix_unavailable()))

VERP_DOMAIN = "bounces.app.example"
SENDER = "App <no-reply@app.example>"
BOUNCING = ("nobody1@rcpt.test", "nobody2@rcpt.test", "nobody3@rcpt.test", "nobody4@rcpt.test")
DELIVERED = ("kim@rcpt.test", "lee@rcpt.test")
MIXED = ("ghost@rcpt.test", "park@rcpt.test")
"""One message to two recipients: the first bounces, the second is delivered."""
BOUNCERS = frozenset({*BOUNCING, MIXED[0]})


@dataclass(frozen=True)
class Stack:
    api: str
    key: str
    config: Path
    receiver: PostfixServer


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, postfix_factory: Callable[..., PostfixServer]
) -> Iterator[Stack]:
    inbound = free_port()
    receiver = postfix_factory(routes={VERP_DOMAIN: ("127.0.0.1", inbound)}, deliver=[*DELIVERED, MIXED[1]])
    home = tmp_path_factory.mktemp("postfix-receiver")
    config = home / "mailfate.toml"
    config.write_text(
        f'data_dir = "{home / "data"}"\n'
        f'[store]\nurl = "{home / "mailfate.db"}"\n'
        '[delivery]\ntransport = "receiver"\n'
        f'[transports.receiver]\ntype = "relay"\nhost = "127.0.0.1"\nport = {receiver.port}\ntls = "off"\n'
        f'[verp]\ndomain = "{VERP_DOMAIN}"\n'
        f'[inbound]\nhost = "127.0.0.1"\nport = {inbound}\n',
        "utf-8",
    )
    made = mailfate("keys", "create", "--scope", "send,read", "--json", "--config", str(config))
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    serve = ("serve", "--config", str(config), "--no-workers", "--http-port", "0", "--submission-port", "-1")
    with running(*serve) as api, running("worker", "--config", str(config)) as worker:
        assert worker["inbound"] == f"127.0.0.1:{inbound}"
        yield Stack(api["http"], key, config, receiver)


def _settled(view: dict[str, Any]) -> bool:
    """Every recipient has its attempt, every bouncer its report."""
    for r in view["recipients"]:
        kinds = {e["type"] for e in view["events"] if e["recipient"] == r["address"]}
        if "attempt" not in kinds or (r["address"] in BOUNCERS and "bounced" not in kinds):
            return False
    return True


@pytest.fixture(scope="module")
def views(stack: Stack) -> dict[str, dict[str, Any]]:
    """Every message sent through the API, at its end: message id → ``GET /v1/messages/{id}``."""
    with httpx.Client(
        base_url=stack.api, headers={"Authorization": f"Bearer {stack.key}"}, timeout=20
    ) as api:
        ids = []
        for to in [*([a] for a in (*BOUNCING, *DELIVERED)), list(MIXED)]:
            answer = api.post(
                "/v1/messages", json={"from": SENDER, "to": to, "subject": "Your code", "text": "428913"}
            )
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["message_id"])
        found: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + 20
        while True:
            found = {mid: api.get(f"/v1/messages/{mid}").json() for mid in ids}
            if all(_settled(v) for v in found.values()) and stack.receiver.queued() == 0:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not settled in 20 s: {json.dumps(found, indent=1)[-4000:]}\n"
                    f"{stack.receiver.maillog()[-3000:]}"
                )
            time.sleep(0.05)


def _timeline(view: dict[str, Any], address: str) -> list[dict[str, Any]]:
    return [e for e in view["events"] if e["recipient"] == address]


def _recipients(views: dict[str, dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for view in views.values():
        for r in view["recipients"]:
            yield view, r


def test_each_attempt_got_a_250_and_each_bounce_after_it_is_classified(
    stack: Stack, views: dict[str, dict[str, Any]]
) -> None:
    seen = {r["address"] for _, r in _recipients(views)}
    assert seen == {*BOUNCING, *DELIVERED, *MIXED}
    logged = stack.receiver.statuses()
    for view, r in _recipients(views):
        address = r["address"]
        events = _timeline(view, address)
        [attempt] = [e for e in events if e["type"] == "attempt"]
        assert (attempt["outcome"], attempt["code"], attempt["command"]) == ("delivered", 250, "DATA")
        assert attempt["remote_id"], attempt  # Postfix's queue id, from "250 2.0.0 Ok: queued as ..."
        reports = [e for e in events if e["type"] == "bounced"]
        if address in BOUNCERS:
            assert logged[address] == ["bounced"]
            [bounce] = reports
            assert (bounce["reason"], bounce["status"], bounce["hardbounce"]) == (
                "userunknown",
                "5.1.1",
                True,
            )
            assert "user unknown" in bounce["diagnostic"]
            assert r["fate"] == "bounced" and r["reason"] == "userunknown"
        else:
            assert logged[address] == ["sent"]
            assert reports == []
            assert r["fate"] == "delivered"
    mixed = next(v for v in views.values() if len(v["recipients"]) == 2)
    assert mixed["fate"] == "bounced"  # one of its two recipients bounced


def test_cached_fate_is_the_fold_of_the_events_in_stored_order(views: dict[str, dict[str, Any]]) -> None:
    wrong = {}
    for view, r in _recipients(views):
        events = _timeline(view, r["address"])
        assert [e["id"] for e in events] == sorted(e["id"] for e in events)
        folded = fate_of(fold_step(e["type"], e) for e in events)
        if str(folded) != r["fate"]:
            wrong[r["address"]] = {
                "cached": r["fate"],
                "folded": str(folded),
                "events": [
                    (e["id"], e["at"], e["type"], e.get("outcome"), e.get("lease_lost")) for e in events
                ],
            }
    assert wrong == {}, json.dumps(wrong, indent=1)


def test_trace_lists_the_attempt_before_the_report_about_it(
    stack: Stack, views: dict[str, dict[str, Any]]
) -> None:
    mixed = next(mid for mid, v in views.items() if len(v["recipients"]) == 2)
    single = next(mid for mid, v in views.items() if v["recipients"][0]["address"] == BOUNCING[0])
    for mid in (single, mixed):
        done = mailfate("trace", mid, "--json", "--config", str(stack.config))
        assert done.returncode == 0, done.stderr
        traced = json.loads(done.stdout)
        assert [e["id"] for e in traced["events"]] == [e["id"] for e in views[mid]["events"]]
        for r in traced["recipients"]:
            kinds = [
                e["type"] for e in _timeline(traced, r["address"]) if e["type"] in ("attempt", "bounced")
            ]
            expected = ["attempt", "bounced"] if r["address"] in BOUNCERS else ["attempt"]
            assert kinds == expected, (r["address"], traced["events"])
