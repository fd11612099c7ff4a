"""Run-time rules, Mailpit's chaos triggers and the search query parser (hypothesis-fuzzed)."""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailfate.simulator.inbox import StoredMessage
from mailfate.simulator.model import Reply
from mailfate.simulator.query import MAX_QUERY, QueryError, parse_query
from mailfate.simulator.rules import Chaos, RuleBook, RuleError, parse_reply_spec

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def test_reply_specs() -> None:
    assert parse_reply_spec("451 4.7.1 DKIM soft fail", "r") == Reply(451, "4.7.1", "DKIM soft fail")
    assert parse_reply_spec("550", "r") == Reply(550, "5.0.0", "Reply set by a mailfate rule")
    assert parse_reply_spec({"code": 421, "status": "4.7.0", "text": "slow down"}, "r") == Reply(
        421, "4.7.0", "slow down"
    )
    assert parse_reply_spec(" Accept ", "r") == "accept"
    for bad in (
        "hello",
        "354 go on",
        "451 5.7.1 mismatch",
        {"code": 700},
        {"code": True},
        451,
        "451 4.7.1 a\r\nb",
    ):
        with pytest.raises(RuleError):
            parse_reply_spec(bad, "r")


def test_rule_answers_times_then_steps_aside_or_accepts() -> None:
    book = RuleBook()
    book.set(
        [
            {"match": "*@naver.test", "reply": "451 4.7.1 DKIM soft fail", "times": 2, "then": "accept"},
            {"match": "kim@daum.test", "reply": "550 5.1.1 no such user", "times": 1},
        ]
    )
    got = [book.decide("Kim@Naver.test", "rcpt") for _ in range(3)]
    assert [g[0] for g in got if g] == [Reply(451, "4.7.1", "DKIM soft fail")] * 2 + ["accept"]
    assert got[0] is not None and got[0][1].name == "rule 1 (*@naver.test)"
    assert book.decide("kim@naver.test", "data") is None  # rcpt rules only at RCPT
    assert book.decide("kim@daum.test", "rcpt") is not None
    assert book.decide("kim@daum.test", "rcpt") is None  # then: pass (the personalities decide)
    assert book.decide("lee@daum.test", "rcpt") is None
    assert book.rules[0].to_json()["used"] == 3
    assert book.clear() == 2 and book.decide("kim@naver.test", "rcpt") is None


def test_bad_rules_change_nothing() -> None:
    book = RuleBook()
    book.set([{"match": "a@x.test", "reply": "451"}])
    for bad in (
        {"match": "x"},
        [{"match": "", "reply": "451"}],
        [{"reply": "451"}],
        [{"match": "x", "reply": "451", "times": -1}],
        [{"match": "x", "reply": "451", "at": "helo"}],
        [{"match": "x", "reply": "451", "colour": 1}],
        ["x"],
    ):
        with pytest.raises(RuleError):
            book.set(bad)
    assert [r.match for r in book.rules] == ["a@x.test"]


@given(JSON)
@settings(max_examples=300, deadline=None)
def test_rule_bodies_fuzz_are_accepted_or_rule_errors(body: Any) -> None:
    book = RuleBook()
    try:
        book.set(body)
    except RuleError as exc:
        assert str(exc)
    else:
        book.decide("a@x.test", "rcpt")


def test_chaos_triggers() -> None:
    chaos = Chaos(random.Random(1))
    assert chaos.to_json()["Recipient"] == {"ErrorCode": 451, "Probability": 0}
    assert chaos.fire("Recipient") is None
    chaos.set({"Recipient": {"ErrorCode": 550, "Probability": 100}})
    reply = chaos.fire("Recipient")
    assert reply is not None and (reply.code, reply.status) == (550, "5.1.1")
    chaos.set({"Sender": {"ErrorCode": 421, "Probability": 50}})
    fired = sum(chaos.fire("Sender") is not None for _ in range(400))
    assert 120 < fired < 280
    bad: Any
    for bad in (
        [],
        {"Nope": {}},
        {"Sender": 5},
        {"Sender": {"ErrorCode": 250}},
        {"Sender": {"Probability": 101}},
        {"Sender": {"ErrorCode": "451"}},
    ):
        with pytest.raises(RuleError):
            chaos.set(bad)


@given(JSON)
@settings(max_examples=200, deadline=None)
def test_chaos_bodies_fuzz(body: Any) -> None:
    chaos = Chaos()
    with contextlib.suppress(RuleError):
        chaos.set(body)
    for name in ("Sender", "Recipient", "Authentication"):
        chaos.fire(name)


def _msg() -> StoredMessage:
    content = b"From: A <a@app.test>\r\nTo: b@x.test\r\nSubject: Hi there\r\n\r\nbody text 123\r\n"
    return StoredMessage(
        "ID",
        datetime.now(UTC),
        "x.test",
        "Q",
        len(content),
        "a@app.test",
        ("b@x.test",),
        None,
        content,
        rcpts_lower=("b@x.test",),
    )


def test_query_terms() -> None:
    q = parse_query('to:b@x.test -subject:"nope" "there" is:unread')
    assert [(t.field, t.value, t.negated) for t in q.terms] == [
        ("to", "b@x.test", False),
        ("subject", "nope", True),
        ("", "there", False),
        ("is", "unread", False),
    ]
    assert q.matches(_msg())
    assert not parse_query("is:read").matches(_msg())
    assert parse_query("has:attachment").terms[0].field == "has"
    assert parse_query("unknown:field").terms[0].field == ""  # free text, as Mailpit treats it
    with pytest.raises(QueryError):
        parse_query("a " * 40)
    with pytest.raises(QueryError):
        parse_query("x" * (MAX_QUERY + 1))


@given(st.text(max_size=300))
@settings(max_examples=500, deadline=None)
def test_query_parser_fuzz(text: str) -> None:
    try:
        q = parse_query(text)
    except QueryError as exc:
        assert str(exc)
        return
    msg = _msg()
    assert q.filter([msg]) == ([msg] if q.matches(msg) else [])
