"""The inbox store: index, read state, pruning, search, attempts, events, rebuild, parsing."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailfate.simulator.inbox import Attempt, Inbox, TranscriptLine, message_id_for
from mailfate.simulator.journal import MailStore
from mailfate.simulator.mime import parse_detail, parse_summary
from mailfate.simulator.query import QueryError
from mailfate.simulator.waiting import find_code, newest_for

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
_QIDS = itertools.count()


def mail(
    to: str = "alice@x.test",
    subject: str = "Hello",
    body: str = "Your code is 123456",
    frm: str = "App <no-reply@app.test>",
) -> bytes:
    return (
        f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <m-{subject}@app.test>\r\n"
        f"Date: Tue, 01 Dec 2026 09:00:00 +0900\r\n\r\n{body}\r\n"
    ).encode()


def add(inbox: Inbox, n: int, to: str = "alice@x.test", **kw: str) -> list[str]:
    ids = []
    for _ in range(n):
        qid = f"Q{next(_QIDS):06d}"
        m = inbox.add(
            "x.test",
            qid,
            mail(to=to, **kw),
            mail_from="bounce@app.test",
            rcpts=(to,),
            created=T0 + timedelta(seconds=len(inbox)),
            path=None,
            transcript=(TranscriptLine(0.0, "C", "MAIL FROM:<bounce@app.test>"),),
        )
        ids.append(m.id)
    return ids


def test_messages_are_listed_newest_first_with_counts() -> None:
    inbox = Inbox()
    ids = add(inbox, 5)
    page = inbox.list(0, 2)
    assert [m.id for m in page.messages] == [ids[4], ids[3]]
    assert (page.total, page.unread, page.matched) == (5, 5, 5)
    assert [m.id for m in inbox.list(4, 10).messages] == [ids[0]]
    assert inbox.get("latest") is not None and inbox.get("latest").id == ids[4]  # type: ignore[union-attr]
    assert inbox.get("nope") is None


def test_ids_are_stable_per_domain_and_queue_id_and_url_safe() -> None:
    a = message_id_for("x.test", "ABCDEF000000001")
    assert a == message_id_for("x.test", "ABCDEF000000001")
    assert a != message_id_for("y.test", "ABCDEF000000001")
    assert a.isalnum() and len(a) == 21


def test_oldest_messages_are_pruned_beyond_max_messages() -> None:
    inbox = Inbox(max_messages=3)
    ids = add(inbox, 5)
    assert len(inbox) == 3
    assert inbox.get(ids[0]) is None and inbox.get(ids[1]) is None
    assert [m.id for m in inbox.newest()] == ids[:1:-1]
    assert inbox.unread == 3


def test_read_state_and_delete() -> None:
    inbox = Inbox()
    ids = add(inbox, 4)
    assert inbox.mark_read([ids[0], ids[1], "missing"]) == 2
    assert inbox.unread == 2
    assert inbox.mark_read([ids[0]]) == 0  # already read
    assert inbox.search("is:read").matched == 2
    assert inbox.mark_read(None, read=False) == 2
    assert inbox.unread == 4
    assert inbox.delete([ids[3]]) == 1
    assert inbox.get(ids[3]) is None and len(inbox) == 3 and inbox.unread == 3
    assert inbox.delete(None) == 3
    assert len(inbox) == 0 and inbox.unread == 0 and inbox.deleted == 4


def test_search_fields_phrases_negation() -> None:
    inbox = Inbox()
    add(inbox, 1, to="Alice Kim <alice@x.test>", subject="Welcome aboard", body="hello there")
    add(inbox, 1, to="bob@x.test", subject="Reset", body="Your code is 999111")
    assert [m.summary().subject for m in inbox.search("to:alice").messages] == ["Welcome aboard"]
    assert inbox.search("to:bob@x.test").matched == 1
    assert inbox.search('subject:"welcome aboard"').matched == 1
    assert inbox.search('"code is 999111"').matched == 1
    assert inbox.search("-to:bob").matched == 1
    assert inbox.search("!to:bob").matched == 1
    assert inbox.search("from:no-reply@app.test").matched == 2
    assert inbox.search("kim").matched == 1  # the display name is free text
    assert inbox.search("is:unread to:bob").matched == 1
    assert inbox.search("nothing-like-this").matched == 0
    assert inbox.search("").matched == 2
    with pytest.raises(QueryError):
        inbox.search("is:starred")
    with pytest.raises(QueryError):
        inbox.search("x" * 1_000_000)


def test_delete_search_removes_only_matches() -> None:
    inbox = Inbox()
    add(inbox, 2, to="alice@x.test")
    add(inbox, 3, to="bob@x.test")
    assert inbox.delete_search("to:bob") == 3
    assert len(inbox) == 2


def _attempt(rcpt: str, code: int, at: datetime = T0) -> Attempt:
    outcome = "accepted" if code < 400 else "deferred" if code < 500 else "rejected"
    return Attempt(at, "S", "127.0.0.1", "h", "a@b", rcpt, "rcpt", code, "", f"{code}", outcome, "", outcome)


def test_attempts_are_a_bounded_ring_indexed_by_recipient() -> None:
    inbox = Inbox(max_attempts=3)
    inbox.record([_attempt("A@x.test", 451), _attempt("b@x.test", 550)])
    inbox.record([_attempt("a@x.test", 250), _attempt("c@x.test", 250)])
    assert [a.code for a in inbox.attempts("a@X.test")] == [250]  # the first one fell off the ring
    assert [a.rcpt for a in inbox.attempts()] == ["b@x.test", "a@x.test", "c@x.test"]
    assert inbox.attempts("nobody@x.test") == []
    assert inbox.attempts(limit=1)[0].rcpt == "c@x.test"


def test_subscribers_get_new_update_delete_events() -> None:
    async def run() -> list[str]:
        inbox = Inbox(max_messages=1)
        queue = inbox.subscribe()
        ids = add(inbox, 2)
        await asyncio.sleep(0)  # "new" is announced on the next turn of the loop (after the 250)
        inbox.mark_read([ids[1]])
        inbox.delete([ids[1]])
        inbox.delete(None)
        inbox.unsubscribe(queue)
        add(inbox, 1)
        seen = []
        while not queue.empty():
            ev = queue.get_nowait()
            seen.append(ev.type)
            if ev.type == "new":
                assert ev.message is not None and ev.message.summary_cache is not None  # parsed at once
        return seen

    assert asyncio.run(run()) == ["new", "new", "prune", "update", "delete", "truncate"]


def test_rebuild_over_the_same_maildir_gives_the_same_ids(tmp_path: Path) -> None:
    store = MailStore(tmp_path)
    store.save("x.test", "Q1", mail(subject="one"))
    store.save("x.test", "Q2", mail(subject="two"))
    (tmp_path / "_reports").mkdir()
    (tmp_path / "_reports" / "R.eml").write_bytes(b"x")
    inbox = Inbox()
    assert inbox.rebuild(tmp_path) == 2
    assert {m.id for m in inbox.newest()} == {message_id_for("x.test", "Q1"), message_id_for("x.test", "Q2")}
    assert inbox.search("subject:two").matched == 1
    assert inbox.get(message_id_for("x.test", "Q1")).raw().startswith(b"From:")  # type: ignore[union-attr]


MULTI = (
    b'From: =?UTF-8?B?7ZWc6riA?= <kr@app.test>\r\nTo: a@x.test, "B" <b@x.test>\r\nCc: c@x.test\r\n'
    b"Subject: =?EUC-KR?B?waS6uA==?=\r\nList-Unsubscribe: <https://u.test/x>, <mailto:u@app.test>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=OUT\r\n\r\n"
    b"--OUT\r\nContent-Type: multipart/related; boundary=REL\r\n\r\n"
    b"--REL\r\nContent-Type: multipart/alternative; boundary=ALT\r\n\r\n"
    b"--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain 4321 body\r\n"
    b"--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html <b>body</b></p>\r\n--ALT--\r\n"
    b"--REL\r\nContent-Type: image/png\r\nContent-ID: <logo@app>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"iVBORw0K\r\n--REL--\r\n"
    b"--OUT\r\nContent-Type: application/pdf; name=a.pdf\r\n"
    b"Content-Disposition: attachment; filename=a.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--OUT--\r\n"
)


def test_mime_detail_reads_bodies_parts_and_encoded_headers() -> None:
    d = parse_detail(MULTI, ("a@x.test", "hidden@x.test"))
    s = d.summary
    assert s.subject == "정보"
    assert s.from_.name == "한글" and s.from_.address == "kr@app.test"
    assert [a.address for a in s.to] == ["a@x.test", "b@x.test"]
    assert [a.address for a in s.bcc] == ["hidden@x.test"]  # envelope-only recipient
    assert d.text.strip() == "plain 4321 body"
    assert "<b>body</b>" in d.html
    assert [(p.part_id, p.filename, p.content_type) for p in d.attachments] == [
        ("2", "a.pdf", "application/pdf")
    ]
    assert [(p.part_id, p.content_id) for p in d.inline] == [("1.2", "logo@app")]
    assert d.attachments[0].size == 5 and len(d.attachments[0].checksums["SHA256"]) == 64
    assert s.attachments == 1
    assert "u.test" in d.list_unsubscribe


def test_summary_of_garbage_never_raises() -> None:
    s = parse_summary(b"\x00\xff garbage \r\n\r\n\xfe")
    assert s.subject == "" and s.from_.address == ""
    assert parse_summary(b"").snippet == ""


def test_find_code_prefers_text_then_html_then_subject() -> None:
    d = parse_detail(MULTI)
    assert find_code(d) == "4321"
    assert find_code(d, r"html (\w+)") is None  # the text body comes first, the HTML loses its tags
    assert find_code(parse_detail(mail(body="no digits", subject="Code 778899"))) == "778899"
    assert find_code(parse_detail(mail(body="id 123456789 then 4455"))) == "4455"  # 9 digits are not a code
    assert find_code(parse_detail(mail(body="PIN: AB-12"))) is None
    assert find_code(parse_detail(mail(body="PIN: AB-12")), r"PIN: (\S+)") == "AB-12"


def test_newest_for_matches_the_whole_address_and_skips_read() -> None:
    inbox = Inbox()
    add(inbox, 1, to="malice@x.test")
    assert newest_for(inbox, "alice@x.test") is None
    ids = add(inbox, 2, to="alice@x.test")
    found = newest_for(inbox, "ALICE@x.test")
    assert found is not None and found.id == ids[1]
    inbox.mark_read([ids[1]])
    assert newest_for(inbox, "alice@x.test").id == ids[0]  # type: ignore[union-attr]
    assert newest_for(inbox, "alice@x.test", since=T0 + timedelta(days=1)) is None


def test_raw_korean_bytes_in_headers_and_an_undeclared_body_are_read_as_korean() -> None:
    """Mail from a Korean sender that writes EUC-KR bytes without encoded words or a charset: the
    subject, the From name and the body come out as Korean text, not surrogates or mojibake."""
    subject, name, body = "인증 코드", "고객센터", "인증 코드는 424242 입니다."
    raw = (
        b"From: " + name.encode("euc-kr") + b" <help@shop.test>\r\nTo: kim@accept.mailfate.test\r\n"
        b"Subject: "
        + subject.encode("euc-kr")
        + b"\r\nContent-Type: text/plain\r\n\r\n"
        + body.encode("euc-kr")
        + b"\r\n"
    )
    detail = parse_detail(raw)
    assert detail.summary.subject == subject
    assert detail.summary.from_.name == name
    assert detail.text.strip() == body
    assert "424242" in detail.summary.snippet
