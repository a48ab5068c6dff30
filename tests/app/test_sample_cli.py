"""`survey sample draw|show|export`: reproducible draws, exact quotas, refusals that store nothing, hashes only."""

from __future__ import annotations

import csv
import itertools
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sampling
from survey_app.campaigns.catalog import register_shipped
from survey_app.officials import draws
from survey_app.core.sampling_tables import Invitation, SampleDraw, SampleMember
from survey_app.core.tables import Campaign

SURVEY = Path(sys.executable).parent / "survey"
QUOTAS = ["lanh_dao_phong=5", "cong_chuc=4"]
BAD_NUMBERS = itertools.count(1)


async def make_campaign(code: str) -> str:
    questionnaire_ids = await register_shipped()
    today = dt.date.today()
    await Campaign.insert(Campaign(code=code, name=f"PAR INDEX {code}", questionnaire=questionnaire_ids["par_index_so"],
                                   starts_on=today - dt.timedelta(days=1), ends_on=today + dt.timedelta(days=30),
                                   mode="invitation", status="open"))
    return code


def write_frame(path: Path, rows: list[tuple], header=("unit", "role", "staff_id", "name")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def province_rows(heads: int = 8, civil_servants: int = 10) -> list[tuple]:
    """20 departments SO01..SO20, each with `heads` heads of division and `civil_servants` civil servants."""
    rows, number = [], 0
    for unit in range(1, 21):
        for role, count in (("lanh_dao_phong", heads), ("cong_chuc", civil_servants)):
            for _ in range(count):
                number += 1
                rows.append((f"SO{unit:02d}", role, f"CB{number:04d}", f"Nguyễn Văn {number}"))
    return rows


@pytest.fixture
def frame(tmp_path) -> Path:
    return write_frame(tmp_path / "officials.csv", province_rows())


async def drawn_refs(campaign: str) -> dict[str, set[str]]:
    members = await draws.members_frame(campaign)
    return {stratum: set(group["staff_ref_hash"]) for stratum, group in members.groupby("stratum")}


async def test_same_frame_and_seed_give_the_same_members_and_exact_quotas(settings, app, frame, tmp_path):
    first, again, other = [await make_campaign(code) for code in ("DRAW-A", "DRAW-B", "DRAW-C")]
    stored = await draws.draw_and_store(settings.secret_key, first, frame, None, QUOTAS, seed=2026, level="so")
    shuffled = write_frame(tmp_path / "shuffled.csv", list(reversed(province_rows())))
    await draws.draw_and_store(settings.secret_key, again, shuffled, None, QUOTAS, seed=2026, level="so")
    await draws.draw_and_store(settings.secret_key, other, frame, None, QUOTAS, seed=7, level="so")

    assert await drawn_refs(first) == await drawn_refs(again)
    assert await drawn_refs(first) != await drawn_refs(other)
    members = await draws.members_frame(first)
    counts = members.groupby(["unit", "role"]).size()
    assert len(members) == 180 and len(counts) == 40
    assert set(counts.xs("lanh_dao_phong", level="role")) == {5}
    assert set(counts.xs("cong_chuc", level="role")) == {4}
    assert set(members["inclusion_probability"].round(4)) == {0.625, 0.4}
    assert set(members["design_weight"].round(4)) == {1.6, 2.5}
    # Every stratum keeps its ordered reserve list; every active member has exactly one invitation.
    reserves = await draws.members_frame(first, include_reserves=True)
    assert (reserves["status"] == "reserve").sum() == 20 * (3 + 6) == len(stored.sample.reserves)
    assert await Invitation.count().where(Invitation.member.draw == stored.draw_id) == 180
    draw = await SampleDraw.select().where(SampleDraw.id == stored.draw_id).first()
    assert draw["seed"] == 2026


async def test_a_campaign_is_drawn_once(settings, app, frame):
    campaign = await make_campaign("DRAW-ONCE")
    await draws.draw_and_store(settings.secret_key, campaign, frame, None, QUOTAS, seed=1)
    with pytest.raises(sampling.SamplingError, match="already has a draw"):
        await draws.draw_and_store(settings.secret_key, campaign, frame, None, QUOTAS, seed=2)


async def test_an_open_qr_campaign_is_not_drawn(settings, app, frame):
    """Issue #25: `survey sample draw --campaign QUAY-2026` stored 180 members for the counters' QR campaign."""
    members_before = await SampleMember.count()
    with pytest.raises(sampling.SamplingError, match="open QR campaign") as refused:
        await draws.draw_and_store(settings.secret_key, "QUAY-2026", frame, None, QUOTAS, seed=1)
    assert "quét mã QR" in refused.value.problems[0].message_vi
    assert await SampleMember.count() == members_before


@pytest.mark.parametrize("rows,quotas,messages", [
    ([("SO01", "cong_chuc", "X1", "A"), ("SO01", "cong_chuc", "X1", "B"), ("ZZ99", "cong_chuc", "X2", "C"),
      ("SO01", "", "X3", "D")], ["cong_chuc=1"],
     ["row 2", "row 3", "duplicated", "row 4", "ZZ99", "row 5", "trống"]),
    (province_rows(civil_servants=3), QUOTAS, ["quota 4 but only 3", "Chỉ tiêu 4"]),
    (province_rows(), ["lanh_dao_phong=5"], ["no quota"]),
    (province_rows(), ["lanh_dao_phong=0", "cong_chuc=x"], ["positive whole number", "role=number"]),
    ([row for row in province_rows() if row[0] != "SO07"], QUOTAS, ["SO07"]),
])
async def test_bad_frames_and_quotas_are_refused_with_every_problem_and_nothing_stored(
        settings, app, tmp_path, rows, quotas, messages):
    campaign = await make_campaign(f"BAD-{next(BAD_NUMBERS)}")
    frame = write_frame(tmp_path / "bad.csv", rows)
    draws_before, members_before = await SampleDraw.count(), await SampleMember.count()
    with pytest.raises(sampling.SamplingError) as refused:
        await draws.draw_and_store(settings.secret_key, campaign, frame, None, quotas, seed=3, level="so")
    for message in messages:
        assert message in str(refused.value) + " ".join(p.message_vi for p in refused.value.problems)
    assert (await SampleDraw.count(), await SampleMember.count()) == (draws_before, members_before)


def run_survey(settings, *arguments) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key}
    return subprocess.run([str(SURVEY), "sample", *arguments], capture_output=True, text=True, env=environment,
                          timeout=120)


async def test_cli_draws_writes_codes_once_and_stores_only_hashes(settings, app, frame, tmp_path):
    campaign = await make_campaign("DRAW-CLI")
    slips = tmp_path / "slips.csv"
    mapped = write_frame(tmp_path / "mapped.csv", province_rows(), header=("Mã đơn vị", "Chức vụ", "Mã CB", "Họ tên"))
    result = run_survey(settings, "draw", "--campaign", campaign, "--frame", str(mapped),
                        "--mapping", "unit=Mã đơn vị,role=Chức vụ,staff_id=Mã CB,name=Họ tên",
                        "--quota", "lanh_dao_phong=5", "--quota", "cong_chuc=4", "--seed", "99",
                        "--codes-out", str(slips))
    assert result.returncode == 0, result.stderr
    assert "180 members" in result.stdout and "SO20" in result.stdout and "0.625" in result.stdout
    with slips.open(encoding="utf-8-sig") as handle:
        printed = list(csv.DictReader(handle))
    assert len(printed) == 180 and all(sampling.is_valid_code(row["code"]) for row in printed)
    stored = {row["code_hash"] for row in await Invitation.select(Invitation.code_hash)}
    key = draws.code_key(settings.secret_key)
    assert {sampling.hash_code(key, row["code"]) for row in printed} <= stored
    assert not {row["code"] for row in printed} & stored
    # The database never holds a name or staff id.
    names = {row["name"] for row in printed} | {row["staff_id"] for row in printed}
    member_texts = {str(value) for row in await SampleMember.select() for value in row.values()}
    assert not names & member_texts

    again = run_survey(settings, "draw", "--campaign", campaign, "--frame", str(mapped), "--quota", "cong_chuc=4",
                       "--codes-out", str(slips))
    assert again.returncode == 1 and "không ghi đè" in again.stderr

    shown = run_survey(settings, "show", "--campaign", campaign)
    assert shown.returncode == 0, shown.stderr
    assert "rr1" in shown.stdout and "unit=SO01, role=cong_chuc" in shown.stdout
    assert "180 member(s) have not submitted" in shown.stdout
    assert printed[0]["staff_ref"] in shown.stdout and printed[0]["name"] not in shown.stdout

    exported = tmp_path / "members.csv"
    result = run_survey(settings, "export", "--campaign", campaign, "-o", str(exported))
    assert result.returncode == 0, result.stderr
    with exported.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 180
    assert set(rows[0]) == {"unit", "unit_name", "role", "stratum", "status", "inclusion_probability",
                            "design_weight"}


async def test_cli_refusal_prints_the_problems_and_exits_1(settings, app, tmp_path):
    bad = write_frame(tmp_path / "bad.csv", [("SO01", "cong_chuc", "X1", "A"), ("SO01", "cong_chuc", "X1", "B")])
    campaign = await make_campaign("CLI-REFUSED")
    result = run_survey(settings, "draw", "--campaign", campaign, "--frame", str(bad), "--quota", "cong_chuc=1")
    assert result.returncode == 1
    assert "row 2" in result.stderr and "row 3" in result.stderr and "bị trùng" in result.stderr


async def test_replace_brings_in_the_next_reserve_with_a_new_code_and_mark_records_refusals(settings, app, tmp_path):
    from survey_app.officials.services import CodeRefused, invitation_for_code, load_context

    campaign = await make_campaign("DRAW-REPLACE")
    rows = [("SO01", "cong_chuc", f"R{number}", f"Trần Thị {number}") for number in range(4)]
    frame = write_frame(tmp_path / "small.csv", rows)
    stored = await draws.draw_and_store(settings.secret_key, campaign, frame, None, ["cong_chuc=2"], seed=5)
    leaving, staying = stored.slips.to_dict("records")
    reserves_before = stored.sample.reserves["member_id"].tolist()

    result = run_survey(settings, "replace", "--campaign", campaign, "--ref", leaving["staff_ref"],
                        "--reason", "nghỉ thai sản", "--frame", str(frame))
    assert result.returncode == 0, result.stderr
    assert f"staff_id {reserves_before[0]}" in result.stdout
    new_code = result.stdout.strip().rsplit(" ", 1)[-1]
    with pytest.raises(CodeRefused, match="no longer valid"):
        await load_context((await invitation_for_code(settings.secret_key, leaving["code"]))["id"])
    context = await load_context((await invitation_for_code(settings.secret_key, new_code))["id"])
    assert context.member["design_weight"] == pytest.approx(2.0)

    await draws.mark(campaign, staying["staff_ref"], "refused", "không muốn trả lời")
    tracking = draws.tracking_table(await draws.members_frame(campaign))
    assert tracking.loc["all", ["invited", "replaced", "refused", "not_started"]].tolist() == [3, 1, 1, 1]
    exported = draws.export_frame(await draws.members_frame(campaign))
    assert "không muốn" not in exported.to_csv() and "thai sản" not in exported.to_csv()

    # The last reserve goes; then the stratum has none left and the replacement is refused, nothing changed.
    incoming = draws.reminders(await draws.members_frame(campaign))["staff_ref"][0]
    await draws.replace(settings.secret_key, campaign, incoming, "chuyển công tác")
    last = draws.reminders(await draws.members_frame(campaign))["staff_ref"][0]
    with pytest.raises(sampling.SamplingError, match="no reserves left"):
        await draws.replace(settings.secret_key, campaign, last, "nghỉ hưu")


def test_a_command_run_with_another_key_refuses_instead_of_printing_codes_the_server_refuses(tmp_path):
    """`survey sample draw` from another folder (its own var/secret_key) on the server's database: refused, clearly,
    before anything is drawn, so the campaign can still be drawn with the right key."""
    from survey_app.core.server_key import fingerprint

    server_env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}", "SECRET_KEY": "server-key"}
    # the first command (or the server's start) records the key's fingerprint in the database
    subprocess.run([str(SURVEY), "sample", "show", "--campaign", "X"], env=server_env, capture_output=True, timeout=120)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other_env = {key: value for key, value in server_env.items() if key != "SECRET_KEY"}
    frame_file = write_frame(tmp_path / "f.csv", [("SO01", "cong_chuc", "A1", "An")])
    result = subprocess.run([str(SURVEY), "sample", "draw", "--campaign", "X", "--frame", str(frame_file),
                             "--quota", "cong_chuc=1"], env=other_env, cwd=elsewhere, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert "SECRET_KEY của lệnh này khác khóa của máy chủ" in result.stderr
    assert fingerprint("server-key") != fingerprint((elsewhere / "var" / "secret_key").read_text().strip())
    same_key = subprocess.run([str(SURVEY), "sample", "show", "--campaign", "X"], env=server_env, cwd=elsewhere,
                              capture_output=True, text=True, timeout=120)
    assert "SECRET_KEY" not in same_key.stderr  # the server's key is accepted wherever the command runs
