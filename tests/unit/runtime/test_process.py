"""A started process leaves what it built out of the cyclic collector's full passes."""

from __future__ import annotations

import gc

from mailfate.runtime.process import settle


def test_settle_moves_what_exists_out_of_the_collected_generations() -> None:
    built = [[n] for n in range(50_000)]  # start-up's objects: long-lived containers
    try:
        settle()
        assert gc.get_freeze_count() >= len(built)
        collected = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
        assert id(built) not in collected
        assert not any(id(item) in collected for item in built[:1000])
        later = [[n] for n in range(10)]  # what the process makes afterwards is collected as ever
        assert id(later) in {id(o) for generation in range(3) for o in gc.get_objects(generation)}
    finally:
        gc.unfreeze()
