"""The public surface is what __all__ names, sorted; nothing public by accident."""

from __future__ import annotations

import importlib.util

import mailfate
import mailfate.bounce
import mailfate.bounce.blocklist
import mailfate.model
import mailfate.model.reasons
import mailfate.model.reply


def test_all_is_sorted_and_complete() -> None:
    for module in (mailfate, mailfate.bounce):
        names = module.__all__
        assert names == sorted(names)
        for name in names:
            assert hasattr(module, name), name
    for name in mailfate.model.__all__:
        assert hasattr(mailfate.model, name), name


def test_the_vocabulary_is_public_and_defined_once_in_model() -> None:
    """``from mailfate import Reason, Cause, SmtpReply`` gives the model's own objects, written once:
    ``mailfate.bounce`` re-exports Reason and Kind, and the old bounce modules are gone."""
    vocabulary = {
        "Reason": "reasons",
        "Kind": "reasons",
        "Cause": "causes",
        "Evidence": "causes",
        "SmtpReply": "reply",
    }
    for name, module in vocabulary.items():
        assert name in mailfate.__all__, name
        exported = getattr(mailfate, name)
        assert exported.__module__ == f"mailfate.model.{module}", name
        assert exported is getattr(mailfate.model, name)
        assert getattr(mailfate.bounce, name, exported) is exported
    for gone in ("reasons", "reply", "causes"):
        assert importlib.util.find_spec(f"mailfate.bounce.{gone}") is None, gone
    assert mailfate.parse_reply("550 5.1.1 User unknown") == mailfate.SmtpReply(550, "5.1.1", "User unknown")
