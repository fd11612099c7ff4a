"""What ``mailfate report`` writes for each scenario of ``mailfate demo``, in English and Korean,
compared with the reviewed golden files in ``golden/``.

Regenerate after a deliberate change, then read every changed file as the receiver's postmaster
and as our developer would::

    MAILFATE_GOLDEN=update .venv/bin/python -m pytest tests/unit/doctor/test_report_golden.py
    MAILFATE_GOLDEN=capture ...   # first run the demo again (loopback) and re-record demo_views.json
"""

from __future__ import annotations

import os
import re

import pytest

from mailfate.doctor.cases import decide
from mailfate.doctor.inquiry import inquiry_from_view
from mailfate.doctor.inquiry_text import render
from tests.unit.doctor.golden_cases import ENVELOPE, FIXTURE, capture, load

MODE = os.environ.get("MAILFATE_GOLDEN", "")
if MODE == "capture":
    capture()
CASES = load()
EXPECTED = {
    "delivered": "delivered",
    "hard_bounce": "dead",
    "greylisted": "delivered",
    "late_bounce": "dead",
    "complaint": "complained",
    "suppressed": "not_sent",
    "auth_softfail": "ours",
}
"""The case each scenario is (the decision comes from the events, see mailfate.doctor.cases)."""


def _render(name: str, lang: str) -> str:
    view, health = CASES[name]
    inquiry = inquiry_from_view(view, envelope_domain=ENVELOPE)
    inquiry.health = health
    return render(inquiry, lang=lang, fmt="md")


def test_every_demo_scenario_is_in_the_fixture() -> None:
    from mailfate.cli.demo import SCENARIOS

    assert sorted(CASES) == sorted(sc.name for sc in SCENARIOS) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_scenario_is_its_case(name: str) -> None:
    view, _ = CASES[name]
    assert decide(inquiry_from_view(view, envelope_domain=ENVELOPE)).kind == EXPECTED[name]


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden(name: str, lang: str) -> None:
    path = FIXTURE.parent / f"{name}.{lang}.md"
    text = _render(name, lang)
    if MODE in ("update", "capture"):
        path.write_text(text, "utf-8")
    assert path.exists(), f"no golden file {path.name}: run with MAILFATE_GOLDEN=update and read it"
    assert text == path.read_text("utf-8"), f"{path.name} differs: if intended, MAILFATE_GOLDEN=update"


def _prose(text: str) -> list[str]:
    """The lines of our own sentences: not tables, quoted replies or records."""
    out: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif line and not fenced and not line.startswith(("|", ">")):
            out.append(line)
    return out


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_korean_is_korean_throughout(name: str) -> None:
    """Every sentence, heading and table header of the Korean text is Korean: what is left in Latin
    letters is data (addresses, replies, records, ids, commands), never an English sentence of ours."""
    text = _render(name, "ko")
    for line in _prose(text):
        assert re.search(r"[가-힣]", line), f"a line with no Korean in the Korean text: {line!r}"
        assert not re.search(r"\b(the|our|your|was|not|is|and|with)\b", line), f"English in: {line!r}"
    lines = text.splitlines()
    headers = [lines[i - 1] for i, line in enumerate(lines) if line.startswith("|---")]
    assert headers
    for header in headers:
        cells = [c.strip() for c in header.strip("|").split("|")]
        assert all(re.search(r"[가-힣]", c) or c == "Message-ID" for c in cells), header
