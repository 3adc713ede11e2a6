"""kula serve and kula worker set their start-up heap aside from the collector."""

from __future__ import annotations

import gc

from node.heap import freeze_startup_objects


def test_startup_objects_are_set_aside_from_the_collector() -> None:
    before = gc.get_freeze_count()
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # this test process goes on creating and dropping objects
