"""Mailpit's search syntax, for the simulator's inbox.

A query is terms separated by spaces; ``"quoted phrases"`` are one term; every term must match
(AND). A term is free text (matched, case-insensitive, against the addresses, the subject and
the text body) or ``field:value`` with the fields ``to:`` (To, Cc, Bcc and the envelope
recipients), ``from:``, ``cc:``, ``bcc:``, ``subject:``, ``message-id:``, ``is:read``,
``is:unread``, ``has:attachment`` / ``has:attachments``. A leading ``-`` or ``!`` negates a term.
Values are substrings (``to:alice`` matches ``alice@x.test``). A query over
:data:`MAX_QUERY` characters or with more than :data:`MAX_TERMS` terms is a :class:`QueryError`.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailfate.simulator.inbox import StoredMessage
    from mailfate.simulator.mime import Summary

__all__ = ["MAX_QUERY", "MAX_TERMS", "Query", "QueryError", "Term", "parse_query"]

MAX_QUERY = 4096
MAX_TERMS = 32
FIELDS = frozenset({"to", "from", "cc", "bcc", "subject", "message-id", "is", "has"})


class QueryError(ValueError):
    """A query the inbox cannot run (too long, an unknown ``is:`` value...)."""


@dataclass(frozen=True, slots=True)
class Term:
    field: str
    """``""`` for free text."""
    value: str
    """Lowercase."""
    negated: bool = False


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            continue
        if ch.isspace() and not quoted:
            if buf:
                out.append("".join(buf))
                buf = []
            continue
        buf.append(ch)
    if buf:
        out.append("".join(buf))
    return out


def _term(token: str) -> Term | None:
    negated = token[:1] in {"-", "!"} and len(token) > 1
    if negated:
        token = token[1:]
    name, sep, value = token.partition(":")
    name = name.lower()
    if sep and name in FIELDS:
        value = value.lower().strip()
        if name == "is" and value not in {"read", "unread"}:
            raise QueryError(f"is:{value} is not a search term: write is:read or is:unread")
        if name == "has" and value not in {"attachment", "attachments"}:
            raise QueryError(f"has:{value} is not a search term: write has:attachment")
        return Term(name, value, negated) if value else None
    return Term("", token.lower(), negated)


_FIELD_ATTR = {
    "to": "to_text", "from": "from_text", "cc": "cc_text", "bcc": "bcc_text", "subject": "subject_text",
    "message-id": "message_id_text", "": "search_text",
}  # fmt: skip


_GETTERS = {field: operator.attrgetter(f"summary_cache.{attr}") for field, attr in _FIELD_ATTR.items()}


def _check(term: Term) -> Callable[[StoredMessage, Summary], bool]:
    value = term.value
    if term.field == "is":
        want = value == "read"
        return lambda m, s: m.read == want
    if term.field == "has":
        return lambda m, s: s.attachments > 0
    if term.field == "from":
        return lambda m, s: value in s.from_text or value in m.mail_from.lower()
    attr = _FIELD_ATTR[term.field]
    return lambda m, s: value in getattr(s, attr)


class Query:
    """A parsed query: :meth:`matches` says whether a message matches every term; :meth:`filter`
    keeps the matching messages of a list (term by term: the cheap way over 10,000 messages)."""

    __slots__ = ("_checks", "terms")

    def __init__(self, terms: list[Term]) -> None:
        self.terms = terms
        self._checks = [(_check(t), t.negated) for t in terms]

    def matches(self, msg: StoredMessage) -> bool:
        s = msg.summary()
        return all(check(msg, s) != negated for check, negated in self._checks)

    def filter(self, messages: list[StoredMessage]) -> list[StoredMessage]:
        for m in messages:
            if m.summary_cache is None:
                m.summary()
        for term in self.terms:
            value, neg = term.value, term.negated
            if term.field in _FIELD_ATTR and term.field != "from":
                hits = [value in text for text in map(_GETTERS[term.field], messages)]
                messages = list(itertools.compress(messages, [not h for h in hits] if neg else hits))
            elif term.field == "is":
                want = (value == "read") != neg
                messages = [m for m in messages if m.read == want]
            else:
                check = _check(term)
                messages = [m for m in messages if check(m, m.summary()) != neg]
        return messages


def parse_query(text: str) -> Query:
    """Parse a Mailpit search query (``QueryError`` with a readable message when it is bad)."""
    if len(text) > MAX_QUERY:
        raise QueryError(f"the search query is {len(text)} characters long; at most {MAX_QUERY} are allowed")
    tokens = _tokens(text)
    if len(tokens) > MAX_TERMS:
        raise QueryError(f"the search query has {len(tokens)} terms; at most {MAX_TERMS} are allowed")
    terms = [t for t in (_term(tok) for tok in tokens) if t is not None]
    return Query(terms)
