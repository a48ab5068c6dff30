"""RETENTION_DAYS and `survey retention`: old free text and dossier hashes go, ratings stay, old drafts go."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_asyncio

from survey_app.public.retention import apply_retention, compact_ids
from survey_app.core.sampling_tables import DraftAnswers, Invitation, SampleDraw, SampleMember
from survey_app.core.settings import Settings
from survey_app.core.tables import AuditLog, Campaign, Questionnaire, Response, Unit
from tests.app.helpers import counter_definition, rating_keys

SURVEY = Path(sys.executable).parent / "survey"
LONG_AGO = dt.datetime(2019, 3, 1, tzinfo=dt.timezone.utc)  # older than anything else in the test database
NOW = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
DAYS = 365  # with NOW: the limit is 02/01/2020 (2020 has 366 days)
FIRST_RATING, SECOND_RATING = rating_keys(counter_definition())[:2]
RATINGS = {FIRST_RATING: "4", SECOND_RATING: "5", "domain": "dat_dai"}
ANSWERS = {**RATINGS, "why": "Cán bộ Nguyễn Văn A ở quầy 2 rất tận tình"}


def as_dict(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


async def add_campaign(code: str, status: str, questionnaire_id: int) -> int:
    row = Campaign(code=code, name=code, questionnaire=questionnaire_id, status=status,
                   starts_on=dt.date(2019, 1, 1), ends_on=dt.date(2019, 12, 31))
    await row.save()
    return row.id


async def add_response(campaign_id: int, questionnaire_id: int, unit_id: int, key: str, submitted_at) -> int:
    row = Response(campaign=campaign_id, unit=unit_id, questionnaire=questionnaire_id, idempotency_key=key,
                   answers_digest="x", answers=json.dumps(ANSWERS, ensure_ascii=False), dossier_hash=key.ljust(64, "d"),
                   submitted_at=submitted_at)
    await row.save()
    return row.id


async def add_draft(campaign_id: int, unit_id: int, name: str, updated_at) -> int:
    draw = SampleDraw(campaign=campaign_id, seed=1, design="{}")
    await draw.save()
    member = SampleMember(draw=draw.id, unit=unit_id, stratum="s", role="r", staff_ref_hash=name)
    await member.save()
    invitation = Invitation(member=member.id, code_hash=name)
    await invitation.save()
    draft = DraftAnswers(invitation=invitation.id, answers=json.dumps({"comments": "ý kiến riêng"}),
                         updated_at=updated_at)
    await draft.save()
    return draft.id


@pytest_asyncio.fixture(scope="module")
async def old_data(app):
    questionnaire = await Questionnaire.select(Questionnaire.id).where(Questionnaire.key == "counter_rating").first()
    unit = await Unit.select(Unit.id).where(Unit.code == "SO01").first()
    closed = await add_campaign("CU-2019", "closed", questionnaire["id"])
    still_open = await add_campaign("MO-2019", "open", questionnaire["id"])
    ids = {
        "old_closed": await add_response(closed, questionnaire["id"], unit["id"], "ret-1", LONG_AGO),
        "recent_closed": await add_response(closed, questionnaire["id"], unit["id"], "ret-2", NOW),
        "old_open": await add_response(still_open, questionnaire["id"], unit["id"], "ret-3", LONG_AGO),
        "old_draft": await add_draft(closed, unit["id"], "ret-old", LONG_AGO),
        "recent_draft": await add_draft(closed, unit["id"], "ret-new", NOW),
    }
    return ids


async def response(response_id: int) -> dict:
    return await Response.select().where(Response.id == response_id).first()


async def test_a_dry_run_counts_and_changes_nothing(old_data):
    report = await apply_retention(DAYS, actor="test", dry_run=True, now=NOW)
    assert (report.responses_anonymised, report.text_answers_dropped, report.dossier_hashes_dropped,
            report.drafts_deleted) == (1, 1, 1, 1)
    assert as_dict((await response(old_data["old_closed"]))["answers"]) == ANSWERS
    assert await DraftAnswers.count().where(DraftAnswers.id == old_data["old_draft"]) == 1


async def test_retention_drops_free_text_and_dossier_hashes_keeps_ratings_and_logs_counts(old_data):
    report = await apply_retention(DAYS, actor="test", now=NOW)
    assert report.cutoff == "02/01/2020" and report.responses_anonymised == 1
    old = await response(old_data["old_closed"])
    assert as_dict(old["answers"]) == RATINGS
    assert old["dossier_hash"] is None and old["answers_digest"] != "x"
    for kept in ("recent_closed", "old_open"):  # too recent, or the campaign is still collecting
        row = await response(old_data[kept])
        assert as_dict(row["answers"]) == ANSWERS and row["dossier_hash"].startswith("ret-")
    assert await DraftAnswers.count().where(DraftAnswers.id == old_data["old_draft"]) == 0
    assert await DraftAnswers.count().where(DraftAnswers.id == old_data["recent_draft"]) == 1
    entry = await AuditLog.select().where(AuditLog.action == "retention_applied").order_by(
        AuditLog.id, ascending=False).first()
    assert entry["username"] == "test" and entry["detail"] == f"response ids: {old_data['old_closed']}"
    assert as_dict(entry["after"])["text_answers_dropped"] == 1
    assert "Nguyễn Văn A" not in json.dumps([as_dict(entry["before"]), as_dict(entry["after"])], ensure_ascii=False)
    again = await apply_retention(DAYS, actor="test", now=NOW)
    assert (again.responses_anonymised, again.drafts_deleted) == (0, 0)


def run_retention(settings, days: str, *arguments) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key,
                   "RETENTION_DAYS": days}
    return subprocess.run([str(SURVEY), "retention", *arguments], capture_output=True, text=True, env=environment,
                          timeout=120)


async def test_the_command_does_nothing_without_the_setting_and_dry_runs_with_it(settings, old_data):
    assert "nothing to do" in run_retention(settings, "").stdout
    dry = run_retention(settings, "36500", "--dry-run")  # a century: nothing is that old
    assert dry.returncode == 0, dry.stderr
    assert "0 responses would be anonymised" in dry.stdout and "nothing was changed" in dry.stdout
    bad = run_retention(settings, "two years")
    assert bad.returncode != 0 and "RETENTION_DAYS='two years' must be a whole number" in bad.stderr


def test_the_setting_is_read_once_and_checked():
    assert Settings.from_env({"RETENTION_DAYS": "", "SECRET_KEY": "k"}).retention_days is None
    assert Settings.from_env({"RETENTION_DAYS": "730", "SECRET_KEY": "k"}).retention_days == 730
    with pytest.raises(ValueError, match="whole number of days"):
        Settings.from_env({"RETENTION_DAYS": "0", "SECRET_KEY": "k"})


def test_compact_ids():
    assert compact_ids([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10" and compact_ids([]) == ""
