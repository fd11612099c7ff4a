"""What every doctor check returns: findings with a severity, the evidence and the exact fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Finding", "Severity", "worst"]


class Severity(StrEnum):
    """How bad a finding is, worst first."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    OK = "ok"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2, Severity.OK: 3}


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of one check.

    ``check`` names the check family (``spf``, ``dkim``, ``received``, ``kr-50`` …), ``message`` says
    what was found in a sentence, ``evidence`` the raw data it rests on (a record, a header), ``fix``
    what to do (the record to publish, the line to add) — empty when there is nothing to fix.
    ``source`` cites the rule (an RFC section, a law's article, a provider's page).
    """

    check: str
    severity: Severity
    message: str
    evidence: str = ""
    fix: str = ""
    source: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        if not self.details:
            del data["details"]
        return data


def worst(findings: Iterable[Finding]) -> Severity:
    """The worst severity among ``findings`` (``ok`` for none)."""
    return min((f.severity for f in findings), key=lambda s: s.rank, default=Severity.OK)
