"""Piccolo configuration: the engine comes from DATABASE_URL (survey_app.core.db.bind swaps it at start-up)."""

from piccolo.conf.apps import AppRegistry

from survey_app.core.engines import engine_for_url
from survey_app.core.settings import Settings

DB = engine_for_url(Settings.from_env().database_url)
APP_REGISTRY = AppRegistry(apps=["survey_app.core.piccolo_app"])
