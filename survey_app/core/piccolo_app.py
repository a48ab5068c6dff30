"""The one Piccolo app of the project: its tables and checked-in migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from survey_app.core.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="survey",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=list(ALL_TABLES),
    migration_dependencies=[],
    commands=[],
)
