"""Officials' responses stored before issue #25 lose what could be joined to the member list (docs/privacy.md):
the stratum, the role weight (each gets the mean weight of its unit's answers, the weight publication already
used), the `role` answer, and the week (both sides get the campaign's first day). One transaction."""

import datetime as dt
import json

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T23-10-00_officials_unlinked"
VERSION = "1.38.0"
DESCRIPTION = "officials' responses keep nothing a join to the member list could use"


def _first_day(campaign: dict) -> dt.datetime:
    day = campaign["starts_on"]
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


async def _unlink_responses(campaigns: dict) -> None:
    from survey_app.officials.services import stored_answers
    from survey_app.public.services import answers_digest
    from survey_app.core.tables import Response

    rows = await Response.select(Response.id, Response.campaign, Response.unit, Response.weight,
                                 Response.answers).where(Response.channel == "invitation")
    weights: dict = {}
    for row in rows:
        weights.setdefault((row["campaign"], row["unit"]), []).append(row["weight"])
    for row in rows:
        answers = stored_answers(row["answers"] if isinstance(row["answers"], dict) else json.loads(row["answers"]))
        unit_weights = weights[(row["campaign"], row["unit"])]
        await Response.update({
            Response.stratum: None, Response.weight: sum(unit_weights) / len(unit_weights),
            Response.submitted_at: _first_day(campaigns[row["campaign"]]),
            Response.answers: json.dumps(answers, ensure_ascii=False), Response.answers_digest: answers_digest(answers),
        }).where(Response.id == row["id"])


async def _unlink_invitations(campaigns: dict) -> None:
    from survey_app.core.sampling_tables import Invitation

    spent = await Invitation.select(Invitation.id, Invitation.member.draw.campaign.as_alias("campaign")).where(
        Invitation.used_at.is_not_null())
    for row in spent:
        await Invitation.update({Invitation.used_at: _first_day(campaigns[row["campaign"]])}).where(
            Invitation.id == row["id"])


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="survey", description=DESCRIPTION)

    async def run():
        from survey_app.core.tables import Campaign

        campaigns = {row["id"]: row for row in await Campaign.select(Campaign.id, Campaign.starts_on)}
        await _unlink_responses(campaigns)  # Piccolo runs each migration in one transaction
        await _unlink_invitations(campaigns)

    manager.add_raw(run)
    return manager
