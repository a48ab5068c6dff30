"""What the app does once it has started."""

from __future__ import annotations

import gc


def test_startup_objects_are_frozen_out_of_full_collections(app):
    assert gc.get_freeze_count() > 10_000  # the app, routes, templates and tables, never walked by the collector
