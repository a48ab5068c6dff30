"""Reading the questionnaire catalogue: shipped definitions into the database, stored versions into objects."""

from __future__ import annotations

from functools import lru_cache
import json

from questionnaires import Questionnaire as Definition
from questionnaires import load_shipped

from survey_app.core.tables import Questionnaire


class ImmutableVersionError(Exception):
    """A stored questionnaire version may not change; publish a new version instead."""


@lru_cache(maxsize=64)
def _definition_from_json(definition_json: str) -> Definition:
    return Definition.from_dict(json.loads(definition_json))


def definition_of(row: dict) -> Definition:
    """The parsed definition of a questionnaire row, parsed once per content and cached."""
    definition = row["definition"]
    text = definition if isinstance(definition, str) else json.dumps(definition, sort_keys=True)
    return _definition_from_json(text)


async def register(definition: Definition) -> int:
    """Store one definition version (once); refuse a changed definition under an existing version."""
    existing = await Questionnaire.select().where(
        (Questionnaire.key == definition.key) & (Questionnaire.version == definition.version)
    ).first()
    if existing:
        if existing["content_hash"] != definition.content_hash:
            raise ImmutableVersionError(
                f"questionnaire {definition.key} version {definition.version} is already stored with other "
                "content; give the changed definition a new version"
            )
        return existing["id"]
    row = Questionnaire(
        key=definition.key, version=definition.version, content_hash=definition.content_hash,
        title=definition.title.get("vi", definition.key), definition=json.dumps(definition.to_dict()),
    )
    await row.save()
    return row.id


async def register_shipped() -> dict[str, int]:
    """Store every shipped definition; returns questionnaire key → row id."""
    return {key: await register(definition) for key, definition in load_shipped().items()}


async def stored_definition(key: str, version: str | None = None) -> Definition | None:
    """A stored questionnaire version (the latest stored when no version is given), else the shipped definition
    of that key when it matches; None when there is neither."""
    query = Questionnaire.select().where(Questionnaire.key == key)
    if version is not None:
        query = query.where(Questionnaire.version == version)
    row = await query.order_by(Questionnaire.id, ascending=False).first()
    if row:
        return definition_of(row)
    shipped = load_shipped().get(key)
    return shipped if shipped and version in (None, shipped.version) else None


async def definition_by_id(questionnaire_id: int) -> Definition | None:
    row = await Questionnaire.select().where(Questionnaire.id == questionnaire_id).first()
    return definition_of(row) if row else None
