"""Piccolo configuration: the engine comes from DATABASE_URL (survey_app.db.connect swaps it at start-up)."""

from piccolo.conf.apps import AppRegistry

from survey_app.db import engine_for_url
from survey_app.settings import Settings

DB = engine_for_url(Settings.from_env().database_url)
APP_REGISTRY = AppRegistry(apps=["survey_app.piccolo_app"])
