"""The rule texts and citations of the lint, read from ``data/compliance/rules.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mailfate.doctor.findings import Finding, Severity
from mailfate.errors import ConfigError

__all__ = ["LANGS", "Rule", "finding", "rules"]

LANGS = ("en", "ko")


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its id (the finding's ``check``), name, citation and per-outcome texts."""

    check: str
    name: str
    source: str
    outcomes: dict[str, dict[str, str]]

    def text(self, outcome: str, key: str, lang: str, values: dict[str, str]) -> str:
        texts = self.outcomes[outcome]
        template = texts.get(f"{key}_{lang}" if key else lang) or texts.get(f"{key}_en" if key else "en", "")
        return template.format_map(_Blank(values))


def _rule(check: str, table: Any) -> Rule:
    hint = "fix src/mailfate/data/compliance/rules.toml"
    if not isinstance(table, dict):
        raise ConfigError(f"compliance rule {check!r} is not a table; {hint}")
    source, name = table.get("source"), table.get("name")
    if not isinstance(source, str) or not source or not isinstance(name, str):
        raise ConfigError(f"compliance rule {check!r} needs `name` and a non-empty `source`; {hint}")
    outcomes: dict[str, dict[str, str]] = {}
    for outcome, texts in table.items():
        if outcome in ("source", "name"):
            continue
        if not isinstance(texts, dict) or not all(isinstance(texts.get(lang), str) for lang in LANGS):
            raise ConfigError(f"compliance rule {check}.{outcome} needs `en` and `ko` texts; {hint}")
        outcomes[outcome] = {k: str(v) for k, v in texts.items()}
    return Rule(check=check, name=name, source=source, outcomes=outcomes)


@cache
def rules() -> dict[str, Rule]:
    """Every rule by id (loaded once)."""
    path = resources.files("mailfate").joinpath("data", "compliance", "rules.toml")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"data/compliance/rules.toml is not valid TOML: {exc}") from exc
    return {check: _rule(check, table) for check, table in data.items()}


def finding(
    check: str,
    severity: Severity,
    outcome: str,
    *,
    lang: str,
    evidence: str = "",
    **values: str,
) -> Finding:
    """The finding ``check`` gives for ``outcome``, worded in ``lang``, citing the rule's source."""
    rule = rules()[check]
    if outcome not in rule.outcomes:
        raise ConfigError(f"compliance rule {check!r} has no outcome {outcome!r} in rules.toml")
    message = rule.text(outcome, "", lang, values)
    fix = rule.text(outcome, "fix", lang, values) if severity is not Severity.OK else ""
    return Finding(
        check=check,
        severity=severity,
        message=message,
        evidence=evidence,
        fix=fix,
        source=rule.source,
        details={"rule": rule.name, "outcome": outcome},
    )
