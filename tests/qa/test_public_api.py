"""The public surface is what __all__ names, sorted; nothing public by accident."""

from __future__ import annotations

import mailfate
import mailfate.bounce
import mailfate.bounce.causes
import mailfate.bounce.reasons
import mailfate.bounce.reply
import mailfate.model


def test_all_is_sorted_and_complete() -> None:
    for module in (mailfate, mailfate.bounce):
        names = module.__all__
        assert names == sorted(names)
        for name in names:
            assert hasattr(module, name), name
    for name in mailfate.model.__all__:
        assert hasattr(mailfate.model, name), name


def test_the_vocabulary_is_public_and_defined_once_in_model() -> None:
    """``from mailfate import Reason, Cause, SmtpReply`` gives the model's own objects; the old
    bounce paths re-export them rather than define copies."""
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
        assert exported is getattr(getattr(mailfate.bounce, module), name)
    assert mailfate.parse_reply("550 5.1.1 User unknown") == mailfate.SmtpReply(550, "5.1.1", "User unknown")
