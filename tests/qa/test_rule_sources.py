"""The packaged rules as data: each one cites where its knowledge comes from."""

from __future__ import annotations

import re

from mailfate.bounce.rules import load_rules


def test_every_packaged_rule_cites_a_source_that_is_not_a_corpus_mail() -> None:
    """Rules come from published knowledge (an RFC, a receiver's reply list, another project's
    code), never from a test mail: a rule that only a corpus mail justifies is overfitting."""
    corpus = re.compile(r"\.eml\b|lhost-|rhost-|set-of-emails|corpus", re.IGNORECASE)
    for rule in load_rules():
        assert rule.source.strip(), f"{rule.id} ({rule.origin}) names no source"
        assert not corpus.search(rule.source), f"{rule.id} cites a corpus mail: {rule.source}"
