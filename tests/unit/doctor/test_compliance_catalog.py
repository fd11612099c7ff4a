"""The rule catalog: every rule has a citation and both languages, every outcome a module uses exists,
and lint_message refuses bad arguments."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from mailfate.doctor.compliance import COUNTRIES, lint_message
from mailfate.doctor.compliance.catalog import finding, rules
from mailfate.doctor.findings import Severity
from mailfate.errors import ConfigError, InputError
from tests.unit.doctor.lint_samples import verification_code

PACKAGE = Path(__file__).parents[3] / "src" / "mailfate" / "doctor" / "compliance"
_USE = re.compile(r'finding\(\s*"([a-z0-9-]+)",\s*(?:Severity\.\w+|severity|check|[^,]+),\s*"(\w+)"', re.S)


def test_every_rule_cites_a_source_and_speaks_both_languages() -> None:
    catalog = rules()
    assert len(catalog) >= 25
    for rule in catalog.values():
        assert rule.source.strip()
        for texts in rule.outcomes.values():
            assert texts["en"].strip() and texts["ko"].strip()
            assert ("fix_en" in texts) == ("fix_ko" in texts)


def test_every_outcome_the_modules_use_is_in_the_catalog() -> None:
    used = {m.groups() for path in PACKAGE.glob("*.py") for m in _USE.finditer(path.read_text("utf-8"))}
    assert len(used) >= 30
    catalog = rules()
    missing = [(check, outcome) for check, outcome in used if outcome not in catalog[check].outcomes]
    assert missing == []


def test_non_ok_outcomes_carry_a_fix_unless_they_are_info() -> None:
    for check, rule in rules().items():
        for outcome, texts in rule.outcomes.items():
            if outcome not in ("ok", "info") and check != "kr-50-transactional":
                assert "fix_en" in texts, (check, outcome)


def test_unknown_outcome_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        finding("rfc8058", Severity.ERROR, "no-such-outcome", lang="en")


def test_missing_template_fields_render_empty() -> None:
    result = finding("kr-50-subject", Severity.ERROR, "variant", lang="en")
    assert '""' in result.message


@pytest.mark.parametrize(
    "kwargs",
    [
        {"country": "XX", "kind": "marketing"},
        {"country": "KR", "kind": "newsletter"},
        {"country": "KR", "kind": "marketing", "lang": "fr"},
        {"country": "KR", "kind": "marketing", "send_at": datetime(2026, 12, 7, 22, 0)},
    ],
)
def test_bad_arguments_are_input_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError):
        lint_message(b"Subject: x\r\n\r\nx", **kwargs)  # type: ignore[arg-type]


def test_country_and_kind_are_case_insensitive() -> None:
    assert COUNTRIES == ("KR", "US", "EU", "CA", "JP")
    assert lint_message(verification_code(), country="kr", kind="Transactional")


@pytest.mark.parametrize("member", ["DE", "fr", "EL"])
def test_eu_member_states_use_the_eu_rules(member: str) -> None:
    checks = {f.check for f in lint_message(verification_code(), country=member, kind="transactional")}
    assert "eu-transactional" in checks
