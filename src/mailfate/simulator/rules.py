"""Run-time behaviour without a configuration file: rules per address pattern, and Mailpit's chaos.

A :class:`Rule` (``PUT /api/v1/mailfate/rules``) matches recipients by a glob (``*@naver.test``,
``kim@naver.test``, case-insensitive) and answers ``reply`` for the first ``times`` matching
recipients (every one when ``times`` is absent), then ``then``: ``"pass"`` (the default: the
rule steps aside, the domain's personalities decide), ``"accept"`` (250, whatever the
personalities would say) or another reply. ``at`` is ``"rcpt"`` (the default: the RCPT TO reply)
or ``"data"`` (the end-of-DATA reply of a transaction with a matching recipient). A reply is
``"451 4.7.1 DKIM soft fail"``, ``{"code": 451, "status": "4.7.1", "text": "..."}``,
``"accept"`` or ``"drop"`` (close the connection). Rules are asked in order, before the
personalities, for the served domains only; the transcript names the deciding rule
(``rule 1 (*@naver.test)``).

:class:`Chaos` holds Mailpit's chaos triggers (``Sender``, ``Recipient``, ``Authentication``,
each ``{"ErrorCode": 451, "Probability": 0..100}``): the MAIL FROM, RCPT TO and AUTH replies
become that code with the given probability (see docs/simulator.md for the texts).
"""

from __future__ import annotations

import fnmatch
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mailfate.model.reply import STATUS_PATTERN, is_status
from mailfate.simulator.model import Reply

__all__ = ["ACCEPT", "CHAOS_TRIGGERS", "Chaos", "Rule", "RuleBook", "RuleError", "parse_reply_spec"]

ACCEPT = Reply(250, "2.1.5", "Ok")
ACCEPT_DATA = Reply(250, "2.0.0", "Ok: queued as {queue_id}")
MAX_RULES = 1000
MAX_TEXT = 500
CHAOS_TRIGGERS = ("Sender", "Recipient", "Authentication")
_REPLY = re.compile(r"^\s*([2-5]\d\d)(?:\s+(" + STATUS_PATTERN + r"))?(?:\s+(.*))?$", re.DOTALL)
_STATUS_OF = {2: "2.0.0", 4: "4.0.0", 5: "5.0.0"}


class RuleError(ValueError):
    """A rule or a chaos body the simulator cannot use; the message says what to write instead."""


def parse_reply_spec(spec: Any, where: str) -> Reply | str:
    """A reply from a rule: a :class:`Reply`, or ``"accept"`` / ``"pass"`` / ``"drop"``."""
    if isinstance(spec, str) and spec.strip().lower() in {"accept", "pass", "drop"}:
        return spec.strip().lower()
    code: Any
    if isinstance(spec, str):
        m = _REPLY.match(spec)
        if not m:
            raise RuleError(f'{where}: {spec[:80]!r} is not a reply; write e.g. "451 4.7.1 Try again later"')
        code, status, text = int(m.group(1)), m.group(2) or "", (m.group(3) or "").strip()
    elif isinstance(spec, dict):
        code, status, text = spec.get("code"), spec.get("status", ""), spec.get("text", "")
        if isinstance(code, bool) or not isinstance(code, int) or not 200 <= code <= 599:
            raise RuleError(f"{where}.code must be a reply code between 200 and 599")
        if not isinstance(status, str) or (status and not is_status(status)):
            raise RuleError(f'{where}.status must be an enhanced status code like "4.7.1"')
        if not isinstance(text, str):
            raise RuleError(f"{where}.text must be a string")
    else:
        raise RuleError(f'{where} must be a reply string ("451 4.7.1 ...", "accept", "pass") or an object')
    if code < 200 or code >= 600 or 300 <= code < 400:
        raise RuleError(f"{where}: reply code {code} is not a final reply (2xx, 4xx or 5xx)")
    if status and status[0] != str(code)[0]:
        raise RuleError(f"{where}: status {status} does not belong to reply code {code}")
    if len(text) > MAX_TEXT or "\r" in text or "\n" in text:
        raise RuleError(f"{where}.text must be one line of at most {MAX_TEXT} characters")
    return Reply(code, status or _STATUS_OF[code // 100], text or "Reply set by a mailfate rule")


@dataclass(slots=True)
class Rule:
    index: int
    match: str
    reply: Reply | str
    times: int | None = None
    then: Reply | str = "pass"
    at: str = "rcpt"
    used: int = 0
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"rule {self.index} ({self.match})"

    def matches(self, address: str) -> bool:
        return fnmatch.fnmatchcase(address.lower(), self.match)

    def to_json(self) -> dict[str, Any]:
        return {**self.spec, "index": self.index, "used": self.used}


def _rule(index: int, raw: Any) -> Rule:
    where = f"rules[{index - 1}]"
    if not isinstance(raw, dict):
        raise RuleError(f"{where} must be an object with match and reply")
    unknown = set(raw) - {"match", "reply", "code", "status", "text", "times", "then", "at"}
    if unknown:
        raise RuleError(
            f"{where}: unknown field(s) {', '.join(sorted(unknown))}; use match, reply, times, then, at"
        )
    match = raw.get("match")
    if not isinstance(match, str) or not match.strip() or len(match) > 320:
        raise RuleError(f'{where}.match must be an address or a glob like "*@naver.test"')
    spec: Any = raw.get("reply")
    if spec is None and "code" in raw:
        spec = {k: raw[k] for k in ("code", "status", "text") if k in raw}
    if spec is None:
        raise RuleError(f'{where}.reply is missing; write e.g. "451 4.7.1 DKIM soft fail"')
    times = raw.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 0):
        raise RuleError(f"{where}.times must be a whole number >= 0 (or left out: always)")
    at = raw.get("at", "rcpt")
    if at not in {"rcpt", "data"}:
        raise RuleError(f'{where}.at must be "rcpt" or "data"')
    reply = parse_reply_spec(spec, f"{where}.reply")
    then = parse_reply_spec(raw.get("then", "pass"), f"{where}.then")
    return Rule(index, match.strip().lower(), reply, times, then, at, 0, dict(raw))


class RuleBook:
    """The rules in force, asked in order; thread-safe (the HTTP side replaces, the server reads)."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self._lock = threading.Lock()

    def set(self, raw: Any) -> list[Rule]:
        """Replace every rule (``RuleError`` for a bad one: nothing changes then)."""
        if isinstance(raw, dict) and "rules" in raw:
            raw = raw["rules"]
        if not isinstance(raw, list):
            raise RuleError(
                'the body must be a JSON list of rules: [{"match": "*@x.test", "reply": "451 ..."}]'
            )
        if len(raw) > MAX_RULES:
            raise RuleError(f"at most {MAX_RULES} rules")
        rules = [_rule(i, r) for i, r in enumerate(raw, 1)]
        with self._lock:
            self.rules = rules
        return rules

    def clear(self) -> int:
        with self._lock:
            n, self.rules = len(self.rules), []
        return n

    def decide(self, address: str, at: str) -> tuple[Reply | str, Rule] | None:
        """The reply the first matching rule gives now (``"accept"``, ``"drop"`` or a Reply), or ``None``."""
        if not self.rules:
            return None
        with self._lock:
            for rule in self.rules:
                if rule.at != at or not rule.matches(address):
                    continue
                if rule.times is None or rule.used < rule.times:
                    rule.used += 1
                    return rule.reply, rule
                if rule.then != "pass":
                    rule.used += 1
                    return rule.then, rule
        return None


@dataclass(slots=True)
class Trigger:
    error_code: int = 451
    probability: int = 0

    def to_json(self) -> dict[str, int]:
        return {"ErrorCode": self.error_code, "Probability": self.probability}


class Chaos:
    """Mailpit's chaos triggers; :meth:`fire` says whether a trigger's error is due now."""

    TEXTS: ClassVar[dict[str, tuple[str, str, str]]] = {
        "Sender": ("5.7.1", "4.7.1", "Sender rejected (chaos)"),
        "Recipient": ("5.1.1", "4.2.1", "Recipient rejected (chaos)"),
        "Authentication": ("5.7.8", "4.7.0", "Authentication failed (chaos)"),
    }

    def __init__(self, rng: random.Random | None = None) -> None:
        self.triggers = {name: Trigger() for name in CHAOS_TRIGGERS}
        self.rng = rng or random.Random()

    def to_json(self) -> dict[str, dict[str, int]]:
        return {name: t.to_json() for name, t in self.triggers.items()}

    def set(self, raw: Any) -> None:
        """Set the triggers a body names (Mailpit's ``PUT /api/v1/chaos``); ``RuleError`` when malformed."""
        if not isinstance(raw, dict):
            raise RuleError(
                'the body must be a JSON object like {"Recipient": {"ErrorCode": 451, "Probability": 50}}'
            )
        new: dict[str, Trigger] = {}
        for name, value in raw.items():
            if name not in self.triggers:
                raise RuleError(f"unknown chaos trigger {str(name)[:40]!r}; use {', '.join(CHAOS_TRIGGERS)}")
            if not isinstance(value, dict):
                raise RuleError(f"{name} must be an object with ErrorCode and Probability")
            code, prob = value.get("ErrorCode", 451), value.get("Probability", 0)
            if isinstance(code, bool) or not isinstance(code, int) or not 400 <= code <= 599:
                raise RuleError(f"{name}.ErrorCode must be an SMTP error code between 400 and 599")
            if isinstance(prob, bool) or not isinstance(prob, int) or not 0 <= prob <= 100:
                raise RuleError(f"{name}.Probability must be a whole number between 0 and 100")
            new[name] = Trigger(code, prob)
        self.triggers.update(new)

    def fire(self, name: str) -> Reply | None:
        """The trigger's reply when it fires now, else ``None``."""
        t = self.triggers[name]
        if t.probability <= 0 or (t.probability < 100 and self.rng.randrange(100) >= t.probability):
            return None
        perm, temp, text = self.TEXTS[name]
        return Reply(t.error_code, perm if t.error_code >= 500 else temp, text)
