"""The public surface is what __all__ names, sorted; nothing public by accident."""

from __future__ import annotations

import mailfate
import mailfate.bounce


def test_all_is_sorted_and_complete() -> None:
    for module in (mailfate, mailfate.bounce):
        names = module.__all__
        assert names == sorted(names)
        for name in names:
            assert hasattr(module, name), name
