"""Every mail of the shared bounce corpus goes through the pipeline without an error.

Accuracy is measured in benchmarks/bounce_corpus.py, never asserted here; these tests only check
that no input crashes the pipeline and that mails labelled as non-bounces give no result.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailfate.bounce import parse_bounce

pytestmark = pytest.mark.corpus


def labels(shared: Path) -> list[dict[str, object]]:
    path = shared / "corpus" / "bounces" / "labels.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_every_corpus_mail_parses(shared_dir: Path) -> None:
    base = shared_dir / "corpus" / "bounces"
    for rec in labels(shared_dir):
        records = parse_bounce((base / str(rec["file"])).read_bytes())
        for r in records:
            assert r.parser and r.rule_id
            assert r.hardbounce == (r.kind.value == "hard")


def test_non_bounces_give_no_result(shared_dir: Path) -> None:
    base = shared_dir / "corpus" / "bounces"
    for rec in labels(shared_dir):
        if rec["expected"] == []:
            assert parse_bounce((base / str(rec["file"])).read_bytes()) == [], rec["file"]


def test_every_ses_sample_parses(shared_dir: Path) -> None:
    from mailfate.bounce.parsers.ses import parse_ses_json

    folder = shared_dir / "corpus" / "ses-sns"
    for path in sorted(folder.glob("*.json")):
        records = parse_ses_json(path.read_bytes())
        assert isinstance(records, list), path
