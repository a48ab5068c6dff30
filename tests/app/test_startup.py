"""What the app does once it has started."""

from __future__ import annotations

import gc

from survey_app.app import YOUNG_COLLECTION_THRESHOLD


def test_startup_objects_are_frozen_out_of_full_collections(app):
    assert gc.get_freeze_count() > 10_000  # the app, routes, templates and tables, never walked by the collector


def test_the_young_generation_is_collected_less_often(app):
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD
