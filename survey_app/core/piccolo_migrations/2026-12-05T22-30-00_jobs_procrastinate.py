"""procrastinate's tables and functions (the job queue on PostgreSQL, survey_app.core.jobs) in our database.

On SQLite nothing: jobs run in the server's process. A later procrastinate release with schema changes needs a
migration here with its upgrade SQL (procrastinate ships them in procrastinate/sql/migrations).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-05T22-30-00_jobs_procrastinate"
VERSION = "1.38.0"
DESCRIPTION = "procrastinate job queue schema (PostgreSQL only)"


async def apply_procrastinate_schema():
    from procrastinate.schema import SchemaManager

    from survey_app.core.tables import Unit

    engine = Unit._meta.db
    if isinstance(engine, SQLiteEngine):
        return
    if not (await engine.run_ddl("SELECT to_regclass('procrastinate_jobs') AS found"))[0]["found"]:
        await run_script(engine, SchemaManager.get_schema())


async def run_script(engine, script: str) -> None:
    """Many statements at once: asyncpg's execute without arguments (run_ddl's fetch takes one statement)."""
    transaction = engine.current_transaction.get()
    if transaction:
        await transaction.connection.execute(script)
        return
    async with engine.pool.acquire() as connection:
        await connection.execute(script)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)
    manager.add_raw(apply_procrastinate_schema)
    return manager
