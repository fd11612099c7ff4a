"""Receiver checklists: which of a mailbox provider's published sender rules this domain meets.

Each provider is a data file, ``mailfate/data/receivers/<id>.toml``: rules with an ``id``, a
``description``, the ``check`` (or checks) whose facts they read, a ``kind`` (``requirement``,
``recommendation``, or ``observed`` for receiver behaviour seen in replies rather than published),
whom they apply to, a ``condition`` and a ``source`` (``url``, ``title``, ``date``, ``status``).

A condition is a small tree over the report's facts (see ``report.FACTS``)::

    { fact = "spf.ips_pass", is = true }
    { fact = "dmarc.policy", in = ["quarantine", "reject"] }
    { fact = "dkim.min_rsa_bits", min = 2048 }
    { all = [ ... ] }   { any = [ ... ] }
    { manual = "why DNS cannot tell" }      # always unknown

It evaluates to ``pass``, ``fail`` or ``unknown`` (a fact the checks could not establish, such as
SPF results without ``--ip``): ``all`` fails if any part fails, ``any`` passes if any part passes.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from mailfate.doctor.domain.report import CHECKS, FACTS, DomainReport
from mailfate.doctor.findings import worst
from mailfate.errors import ConfigError, InputError

__all__ = [
    "RECEIVERS",
    "Checklist",
    "Rule",
    "RuleResult",
    "evaluate",
    "evaluate_receivers",
    "load_checklist",
    "parse_receivers",
]

RECEIVERS: tuple[str, ...] = ("gmail", "yahoo", "outlook", "naver", "daum")
Status = Literal["pass", "fail", "unknown"]
KINDS = ("requirement", "recommendation", "observed")
_RULE_KEYS = {"id", "description", "check", "kind", "applies", "condition", "source", "note"}
_SOURCE_KEYS = {"url", "title", "date", "status"}


@dataclass(frozen=True, slots=True)
class Source:
    url: str
    title: str
    date: str
    status: str = ""
    """How the rule was verified: ``primary``, ``second-hand``, ``url as recalled`` …"""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description: str
    checks: tuple[str, ...]
    kind: str
    applies: str
    condition: Mapping[str, Any]
    source: Source
    note: str = ""

    @property
    def manual(self) -> bool:
        return "manual" in self.condition


@dataclass(frozen=True, slots=True)
class Checklist:
    id: str
    name: str
    rules: tuple[Rule, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: Rule
    status: Status
    evidence: str

    def to_json(self) -> dict[str, Any]:
        rule = self.rule
        return {
            "id": rule.id,
            "status": self.status,
            "description": rule.description,
            "check": list(rule.checks),
            "kind": rule.kind,
            "applies": rule.applies,
            "evidence": self.evidence,
            "source": {
                "url": rule.source.url,
                "title": rule.source.title,
                "date": rule.source.date,
                "status": rule.source.status,
            },
            **({"note": rule.note} if rule.note else {}),
        }


def _condition(where: str, node: Any) -> None:
    if not isinstance(node, dict) or not node:
        raise ConfigError(f"{where}: a condition must be a table")
    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        parts = node[key]
        if set(node) != {key} or not isinstance(parts, list) or not parts:
            raise ConfigError(f"{where}: {key} = [ ... ] must be alone and hold conditions")
        for index, part in enumerate(parts):
            _condition(f"{where}.{key}[{index}]", part)
        return
    if "manual" in node:
        if set(node) != {"manual"} or not isinstance(node["manual"], str):
            raise ConfigError(f'{where}: manual = "why" must be alone')
        return
    fact = node.get("fact")
    if fact not in FACTS:
        raise ConfigError(f"{where}: unknown fact {fact!r} (known: {', '.join(sorted(FACTS))})")
    tests = set(node) - {"fact"}
    if len(tests) != 1 or not tests <= {"is", "in", "min", "max"}:
        raise ConfigError(f"{where}: give exactly one of is, in, min, max with fact")


def _source(where: str, data: Any) -> Source:
    if not isinstance(data, dict) or not {"url", "title", "date"} <= set(data) or set(data) - _SOURCE_KEYS:
        raise ConfigError(f"{where}: source = {{ url, title, date, status }} (url, title and date required)")
    return Source(str(data["url"]), str(data["title"]), str(data["date"]), str(data.get("status", "")))


@functools.cache
def load_checklist(receiver: str) -> Checklist:
    """The packaged checklist ``receiver``; ``ConfigError`` when the file is malformed."""
    if receiver not in RECEIVERS:
        raise InputError(f"unknown receiver {receiver!r}: choose from {', '.join(RECEIVERS)}")
    path = f"data/receivers/{receiver}.toml"
    try:
        text = (
            resources.files("mailfate").joinpath("data", "receivers", f"{receiver}.toml").read_text("utf-8")
        )
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    head = data.get("receiver", {})
    if head.get("id") != receiver or not head.get("name"):
        raise ConfigError(f"{path}: [receiver] needs id = {receiver!r} and a name")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(data.get("rules", [])):
        where = f"{path} rule {raw.get('id', index + 1)}"
        if set(raw) - _RULE_KEYS or not {"id", "description", "check", "kind", "condition", "source"} <= set(
            raw
        ):
            raise ConfigError(f"{where}: keys must be {sorted(_RULE_KEYS)} (note and applies optional)")
        if raw["id"] in seen or not str(raw["id"]).startswith(f"{receiver}."):
            raise ConfigError(f"{where}: ids are unique and start with {receiver}.")
        seen.add(raw["id"])
        checks = (raw["check"],) if isinstance(raw["check"], str) else tuple(raw["check"])
        if not checks or any(c not in (*CHECKS, "none") for c in checks):
            raise ConfigError(f"{where}: check must name checks among {', '.join(CHECKS)} (or none)")
        if raw["kind"] not in KINDS:
            raise ConfigError(f"{where}: kind must be one of {', '.join(KINDS)}")
        _condition(where, raw["condition"])
        rules.append(
            Rule(
                str(raw["id"]),
                str(raw["description"]),
                checks,
                str(raw["kind"]),
                str(raw.get("applies", "all senders")),
                raw["condition"],
                _source(where, raw["source"]),
                str(raw.get("note", "")),
            )
        )
    if not rules:
        raise ConfigError(f"{path}: no [[rules]]")
    return Checklist(receiver, str(head["name"]), tuple(rules), str(head.get("note", "")))


def _eval(node: Mapping[str, Any], facts: Mapping[str, Any], used: list[str]) -> Status:
    if "all" in node or "any" in node:
        results = [_eval(part, facts, used) for part in node.get("all", node.get("any", []))]
        if "all" in node:
            return "fail" if "fail" in results else "unknown" if "unknown" in results else "pass"
        return "pass" if "pass" in results else "unknown" if "unknown" in results else "fail"
    if "manual" in node:
        used.append(f"not visible in DNS: {node['manual']}")
        return "unknown"
    fact = str(node["fact"])
    if fact not in facts:
        used.append(f"{fact} not determined")
        return "unknown"
    value = facts[fact]
    used.append(f"{fact}={value!r}")
    if "is" in node:
        ok = value == node["is"]
    elif "in" in node:
        ok = value in node["in"]
    elif "min" in node:
        ok = isinstance(value, int | float) and value >= node["min"]
    else:
        ok = isinstance(value, int | float) and value <= node["max"]
    return "pass" if ok else "fail"


def evaluate(checklist: Checklist, report: DomainReport) -> list[RuleResult]:
    """Every rule of ``checklist`` against ``report``'s facts, with the evidence it rests on."""
    results = []
    for rule in checklist.rules:
        used: list[str] = []
        status = _eval(rule.condition, report.facts, used)
        findings = [f for f in report.findings if f.check in rule.checks]
        if findings and not rule.manual:
            severity = worst(findings)
            first = next(f for f in findings if f.severity is severity)
            used.append(f"{first.check} {severity.value}: {first.message}")
        results.append(RuleResult(rule, status, "; ".join(used)))
    return results


def parse_receivers(values: Iterable[str]) -> tuple[str, ...]:
    """``["gmail,naver", "yahoo"]`` → ``("gmail", "naver", "yahoo")``; ``InputError`` for unknown ones."""
    out: list[str] = []
    for value in values:
        for name in value.split(","):
            key = name.strip().lower()
            if not key:
                continue
            if key in ("all", "*"):
                out.extend(RECEIVERS)
                continue
            if key not in RECEIVERS:
                raise InputError(f"--receiver {name.strip()!r}: choose from {', '.join(RECEIVERS)} (or all)")
            out.append(key)
    return tuple(dict.fromkeys(out))


def evaluate_receivers(receivers: Sequence[str], report: DomainReport) -> list[dict[str, Any]]:
    """The JSON form: one entry per receiver with its name, counts and rule results."""
    out = []
    for receiver in receivers:
        checklist = load_checklist(receiver)
        results = evaluate(checklist, report)
        counts = {s: sum(1 for r in results if r.status == s) for s in ("pass", "fail", "unknown")}
        out.append(
            {
                "id": checklist.id,
                "name": checklist.name,
                **({"note": checklist.note} if checklist.note else {}),
                "summary": counts,
                "rules": [r.to_json() for r in results],
            }
        )
    return out
