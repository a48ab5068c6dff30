"""Storing a draw of officials (members, reserves, code hashes) and reading it back for tracking and export.

The sampling library does the statistics; this module only maps its results to rows. What is stored about an
official: unit, role, stratum label, a keyed hash of the staff id, probabilities, status. Plain codes are
returned once to the caller (for the printed slips) and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import sampling
from sampling import Problem, SamplingError
from survey_app.core.db import erase_deleted, write_transaction
from survey_app.officials import slips
from survey_app.core.sampling_tables import DraftAnswers, Invitation, SampleDraw, SampleMember
from survey_app.core.tables import Campaign, Unit

STRATA = ["unit", "role"]
DEFAULT_FIELDS = ("unit", "role", "staff_id", "name", "contact")
REF_PREFIX = 10  # characters of the staff reference shown in reminders and on slips
INSERT_CHUNK = 500
TRACKED = ("invited", "started", "completed", "refused", "replaced", "not_reached", "ineligible")
# What `mark` may record. "ineligible": no longer in the population the sample stands for (left the unit, on
# long leave); AAPOR takes such members out of the RR1/RR3 denominators and uses them to estimate e.
MARKABLE = ("refused", "not_reached", "ineligible")
# Our member status → the status names of sampling.rates (an invited member not heard from is "pending").
RATE_STATUS = {"invited": "pending"}


def staff_ref(secret_key: str, staff_id: str) -> str:
    """Keyed hash of a staff id: recognises the same person in a draw without storing who it is."""
    key = hashlib.sha256(b"staff-ref:" + secret_key.encode()).digest()
    return hmac.new(key, str(staff_id).strip().encode(), hashlib.sha256).hexdigest()


def code_key(secret_key: str) -> bytes:
    """The key under which invitation codes are hashed (sampling.hash_code)."""
    return hashlib.sha256(b"invitation-code:" + secret_key.encode()).digest()


def refuse(where: str, message_vi: str, message_en: str) -> SamplingError:
    return SamplingError([Problem(where, message_vi, message_en)])


def parse_quotas(texts: list[str]) -> dict[str, int]:
    """["head of division=5", "civil servant=4"] → {role: n}; every bad entry reported at once."""
    quotas, problems = {}, []
    for text in texts:
        role, separator, number = text.rpartition("=")
        if not separator or not role.strip() or not re.fullmatch(r"\s*-?[0-9]+\s*", number):
            problems.append(Problem(f"--quota {text!r}", "Chỉ tiêu phải viết dạng vai_trò=số, ví dụ cong_chuc=4.",
                                    "a quota reads role=number, e.g. civil servant=4."))
        elif int(number) < 1:
            problems.append(Problem(f"--quota {text!r}", "Chỉ tiêu phải là số nguyên dương.",
                                    "a quota must be a positive whole number."))
        else:
            quotas[role.strip()] = int(number)
    if not texts:
        problems.append(Problem("--quota", "Cần ít nhất một chỉ tiêu theo vai trò.", "give at least one quota."))
    if problems:
        raise SamplingError(problems)
    return quotas


def parse_mapping(text: str | None, headers: list[str]) -> dict[str, str]:
    """"unit=Mã đơn vị,role=Chức vụ,staff_id=Mã CB" → {field: header}; by default every field whose header
    is the field's own name (unit, role, staff_id, name, contact)."""
    if not text:
        return {field: field for field in DEFAULT_FIELDS if field in headers}
    mapping = {}
    for entry in text.split(","):
        field, separator, header = entry.partition("=")
        if not separator:
            raise refuse(f"--mapping {entry!r}", "Ánh xạ cột viết dạng trường=tiêu đề cột.",
                         "a mapping entry reads field=column header.")
        mapping[field.strip()] = header.strip()
    return mapping


@dataclass
class StoredDraw:
    draw_id: int
    sample: sampling.Sample
    slips: pd.DataFrame  # unit, role, name, staff ref prefix, code: printed once, never stored
    table: pd.DataFrame  # per stratum: population, sample, reserves


def frame_problems(imported: sampling.FrameImport) -> SamplingError:
    return SamplingError([Problem(f"row {problem.row}, column {problem.column!r}", problem.message_vi,
                                  problem.message_en) for problem in imported.problems])


async def campaign_by_code(code: str) -> dict:
    campaign = await Campaign.select().where(Campaign.code == code).first()
    if campaign is None:
        raise refuse("--campaign", f"Không có đợt khảo sát '{code}'.", f"no campaign with code {code!r}.")
    return campaign


async def draw_and_store(secret_key: str, campaign_code: str, frame_path: Path, mapping_text: str | None,
                         quota_texts: list[str], seed: int, level: str | None = None) -> StoredDraw:
    """Import the frame, draw unit × role with fixed quotas, store everything in one transaction.

    Refused (SamplingError listing every problem, nothing stored) on any bad frame row, a quota the frame cannot
    fill, an empty stratum, a stratum without a quota, a campaign that is not an invitation (officials') campaign,
    or one that already has a draw."""
    campaign = await campaign_by_code(campaign_code)
    if campaign["mode"] != "invitation":
        raise refuse("--campaign", f"Đợt khảo sát '{campaign_code}' là khảo sát quét mã QR tại quầy, không rút mẫu "
                     "công chức; hãy chọn một đợt khảo sát theo thư mời.",
                     f"campaign {campaign_code!r} is an open QR campaign; officials are drawn for an invitation campaign.")
    if await SampleDraw.exists().where(SampleDraw.campaign == campaign["id"]):
        raise refuse("--campaign", f"Đợt khảo sát '{campaign_code}' đã có mẫu; không rút lại.",
                     f"campaign {campaign_code!r} already has a draw; it is not drawn again.")
    quotas_by_role = parse_quotas(quota_texts)
    units_query = Unit.select(Unit.id, Unit.code, Unit.level)
    unit_rows = await (units_query.where(Unit.level == level) if level else units_query)
    unit_ids = {row["code"]: row["id"] for row in unit_rows}
    table = sampling.read_table(frame_path)
    mapping = parse_mapping(mapping_text, list(table.columns))
    imported = sampling.validate_frame(table, "officials", mapping, known_units=unit_ids)
    if imported.problems:
        raise frame_problems(imported)
    frame = imported.frame
    units = sorted(unit_ids) if level else sorted(frame["unit"].unique())
    sizes = frame.groupby(STRATA).size()
    quotas = sampling.allocate_fixed(units, quotas_by_role, stratum_sizes=sizes)
    sample = sampling.draw_stratified(frame, quotas, strata=STRATA, seed=seed)
    codes = sampling.generate_codes(len(sample.members))
    draw_id = await _store(secret_key, campaign["id"], sample, codes, unit_ids, quotas_by_role, mapping)
    return StoredDraw(draw_id, sample, _slips(secret_key, sample.members, codes, campaign_code),
                      _draw_table(sizes, sample))


async def _store(secret_key, campaign_id, sample, codes, unit_ids, quotas_by_role, mapping) -> int:
    design = {**sample.design, "quota_by_role": quotas_by_role, "frame_fields": sorted(mapping),
              "members": len(sample.members), "reserves": len(sample.reserves)}
    hashed_codes = {}
    async with write_transaction(SampleDraw._meta.db):
        inserted = await SampleDraw.insert(SampleDraw(
            campaign=campaign_id, seed=sample.seed, design=json.dumps(design, default=str)))
        draw_id = inserted[0]["id"]
        rows = []
        for member, code in zip(sample.members.to_dict("records"), codes):
            reference = staff_ref(secret_key, member["member_id"])
            hashed_codes[reference] = sampling.hash_code(code_key(secret_key), code)
            rows.append(_member_row(draw_id, member, reference, unit_ids, status="invited"))
        rows += [_member_row(draw_id, reserve, staff_ref(secret_key, reserve["member_id"]), unit_ids,
                             status="reserve", reserve_rank=int(reserve["reserve_rank"]))
                 for reserve in sample.reserves.to_dict("records")]
        await _insert_chunked(SampleMember, rows)
        members = await SampleMember.select(SampleMember.id, SampleMember.staff_ref_hash).where(
            (SampleMember.draw == draw_id) & SampleMember.reserve_rank.is_null())
        await _insert_chunked(Invitation, [Invitation(member=row["id"], code_hash=hashed_codes[row["staff_ref_hash"]])
                                           for row in members])
    return draw_id


def _member_row(draw_id, member, reference, unit_ids, status, reserve_rank=None) -> SampleMember:
    probability = member.get("inclusion_probability")
    return SampleMember(
        draw=draw_id, unit=unit_ids[member["unit"]], stratum=member["stratum"] if "stratum" in member
        else f"unit={member['unit']}, role={member['role']}", role=member["role"], staff_ref_hash=reference,
        inclusion_probability=None if probability is None else float(probability),
        design_weight=None if probability is None else float(member["design_weight"]),
        reserve_rank=reserve_rank, status=status,
    )


async def _insert_chunked(table, rows) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        await table.insert(*rows[start:start + INSERT_CHUNK])


def _slips(secret_key: str, members: pd.DataFrame, codes: list[str], campaign_code: str) -> pd.DataFrame:
    """What goes on each printed slip: who it is for (to hand it over) and the code. Written once, never stored."""
    return pd.DataFrame({
        "campaign": campaign_code, "unit": members["unit"], "role": members["role"],
        "staff_id": members["staff_id"] if "staff_id" in members else "",
        "name": members["name"] if "name" in members else "",
        "staff_ref": [staff_ref(secret_key, member_id)[:REF_PREFIX] for member_id in members["member_id"]],
        "code": codes,
    })


def _draw_table(sizes: pd.Series, sample: sampling.Sample) -> pd.DataFrame:
    drawn = sample.members.groupby(STRATA).size()
    reserves = sample.reserves.groupby(STRATA).size() if len(sample.reserves) else pd.Series(dtype=int)
    table = pd.DataFrame({"population": sizes, "sample": drawn, "reserves": reserves}).fillna(0).astype(int)
    table["probability"] = (table["sample"] / table["population"]).round(4)
    return table


async def members_frame(campaign_code: str, include_reserves: bool = False) -> pd.DataFrame:
    """Every member of the campaign's draw(s) with unit code, role, stratum, probabilities and status."""
    campaign = await campaign_by_code(campaign_code)
    query = SampleMember.select(
        SampleMember.id, SampleMember.unit.code.as_alias("unit"), SampleMember.unit.name.as_alias("unit_name"),
        SampleMember.role, SampleMember.stratum, SampleMember.staff_ref_hash, SampleMember.status,
        SampleMember.inclusion_probability, SampleMember.design_weight, SampleMember.reserve_rank,
        SampleMember.replaced_by, SampleMember.reason,
    ).where(SampleMember.draw.campaign == campaign["id"]).order_by(SampleMember.id)
    if not include_reserves:
        query = query.where(SampleMember.reserve_rank.is_null())
    rows = await query
    if not rows and not await SampleDraw.exists().where(SampleDraw.campaign == campaign["id"]):
        raise refuse("--campaign", f"Đợt khảo sát '{campaign_code}' chưa có mẫu.",
                     f"campaign {campaign_code!r} has no draw yet.")
    return pd.DataFrame(rows)


def tracking_table(members: pd.DataFrame) -> pd.DataFrame:
    """Per stratum and overall: invited, a count per status, e (estimated eligibility of the not yet started),
    RR1 and RR3 (AAPOR; ineligible members are out of both denominators)."""
    statuses = members.assign(status=members["status"].replace(RATE_STATUS))
    table = sampling.response_table(statuses)
    table = table.rename(columns={"pending": "not_started", "eligibility_rate": "e"})
    return table[["invited", "not_started", "started", "completed", "refused", "replaced", "not_reached",
                  "ineligible", "e", "rr1", "rr3"]]


def reminders(members: pd.DataFrame) -> pd.DataFrame:
    """Members still expected to answer (invited or started), by unit, role and staff reference prefix only."""
    waiting = members[members["status"].isin(["invited", "started"])]
    return pd.DataFrame({
        "unit": waiting["unit"], "role": waiting["role"], "status": waiting["status"],
        "staff_ref": waiting["staff_ref_hash"].str[:REF_PREFIX],
    }).sort_values(["unit", "role", "staff_ref"]).reset_index(drop=True)


def export_frame(members: pd.DataFrame) -> pd.DataFrame:
    """Members with stratum, probabilities and weights; no staff reference, no reason, no identity."""
    columns = ["unit", "unit_name", "role", "stratum", "status", "inclusion_probability", "design_weight"]
    return members[columns].sort_values(["unit", "role", "status"]).reset_index(drop=True)


@dataclass
class Replacement:
    unit: str
    role: str
    stratum: str
    staff_ref: str  # the incoming member's reference prefix
    code: str  # the incoming member's new code: shown once, stored as a hash only
    person: dict  # staff_id / name from the analyst's frame file when given (never stored)


async def _active_member(campaign_code: str, ref_prefix: str) -> dict:
    campaign = await campaign_by_code(campaign_code)
    prefix = ref_prefix.strip().lower()
    matches = await SampleMember.select(
        *SampleMember.all_columns(), SampleMember.unit.code.as_alias("unit_code"),
    ).where((SampleMember.draw.campaign == campaign["id"]) & SampleMember.reserve_rank.is_null()
            & SampleMember.staff_ref_hash.like(prefix + "%"))
    if len(prefix) < 6 or len(matches) != 1:
        raise refuse("--ref", f"Mã tham chiếu '{ref_prefix}' phải khớp đúng một người trong mẫu (≥ 6 ký tự).",
                     f"reference {ref_prefix!r} must match exactly one sampled member (at least 6 characters).")
    member = matches[0]
    if member["status"] not in ("invited", "started"):
        raise refuse("--ref", f"Người này đang ở trạng thái '{member['status']}'; không đổi được.",
                     f"this member's status is {member['status']!r}; it cannot change any more.")
    return member


async def mark(campaign_code: str, ref_prefix: str, status: str, reason: str) -> dict:
    """Record that a sampled member refused, could not be reached or is not eligible (no replacement)."""
    if status not in MARKABLE:
        raise refuse("--status", "Trạng thái là refused, not_reached hoặc ineligible.",
                     "status is refused, not_reached or ineligible.")
    if status == "ineligible" and not reason.strip():
        raise refuse("--reason", "Cần ghi lý do không đủ điều kiện (ví dụ: đã chuyển công tác, nghỉ dài hạn).",
                     "an ineligible member needs a reason (e.g. left the unit, on long leave).")
    member = await _active_member(campaign_code, ref_prefix)
    async with write_transaction(SampleMember._meta.db):
        await SampleMember.update({SampleMember.status: status, SampleMember.reason: reason}).where(
            SampleMember.id == member["id"])
        await _drop_draft(member["id"])
    await erase_deleted(SampleMember._meta.db)  # the dropped draft must not stay readable in SQLite's WAL
    return member


async def replace(secret_key: str, campaign_code: str, ref_prefix: str, reason: str,
                  frame_path: Path | None = None, mapping_text: str | None = None,
                  ineligible: bool = False) -> Replacement:
    """Replace a member who cannot answer by the next reserve of the same stratum, with a new one-time code.

    The replacement carries the replaced member's probability and weight (as sampling.Sample.replace does);
    the old code stops working. The leaving member is recorded as `replaced` (an eligible nonrespondent) or, with
    `ineligible`, as `ineligible` (left the unit, long leave: out of the response-rate denominators). With the
    analyst's frame file, the incoming person's id and name are looked up there for the slip (never stored)."""
    if not reason.strip():
        raise refuse("--reason", "Cần ghi lý do thay thế.", "a replacement needs a reason.")
    leaving = await _active_member(campaign_code, ref_prefix)
    reserve = await SampleMember.select().where(
        (SampleMember.draw == leaving["draw"]) & (SampleMember.stratum == leaving["stratum"])
        & (SampleMember.status == "reserve")).order_by(SampleMember.reserve_rank).first()
    if reserve is None:
        raise refuse(f"stratum {leaving['stratum']}", "Tầng này đã hết danh sách dự phòng.",
                     "this stratum has no reserves left.")
    code = sampling.generate_code()
    async with write_transaction(SampleMember._meta.db):
        await SampleMember.update({
            SampleMember.status: "invited", SampleMember.reserve_rank: None,
            SampleMember.inclusion_probability: leaving["inclusion_probability"],
            SampleMember.design_weight: leaving["design_weight"],
        }).where(SampleMember.id == reserve["id"])
        await SampleMember.update({SampleMember.status: "ineligible" if ineligible else "replaced",
                                   SampleMember.replaced_by: reserve["id"],
                                   SampleMember.reason: reason}).where(SampleMember.id == leaving["id"])
        await Invitation.insert(Invitation(member=reserve["id"],
                                           code_hash=sampling.hash_code(code_key(secret_key), code)))
        await _drop_draft(leaving["id"])
    await erase_deleted(SampleMember._meta.db)
    person = _person_in_frame(secret_key, reserve["staff_ref_hash"], frame_path, mapping_text) if frame_path else {}
    return Replacement(leaving["unit_code"], reserve["role"], reserve["stratum"],
                       reserve["staff_ref_hash"][:REF_PREFIX], code, person)


async def _drop_draft(member_id: int) -> None:
    """A member leaving the sample leaves no answers behind."""
    invitations = [row["id"] for row in await Invitation.select(Invitation.id).where(Invitation.member == member_id)]
    if invitations:
        await DraftAnswers.delete().where(DraftAnswers.invitation.is_in(invitations))


def _person_in_frame(secret_key: str, reference: str, frame_path: Path, mapping_text: str | None) -> dict:
    table = sampling.read_table(frame_path)
    imported = sampling.validate_frame(table, "officials", parse_mapping(mapping_text, list(table.columns)))
    for row in imported.frame.to_dict("records"):
        if staff_ref(secret_key, row["member_id"]) == reference:
            return {field: row[field] for field in ("staff_id", "name") if field in row}
    return {}


# ---- printable slips ------------------------------------------------------------------------------------------

SLIP_FILE_COLUMNS = ("campaign", "unit", "code")
OPEN_STATUSES = ("invited", "started")


async def printable_slips(secret_key: str, rows: list[dict]) -> tuple[str, list[slips.Slip], list[str]]:
    """Rows of a codes file (as written at draw time) → (survey title, slips of codes still open, notes).

    Every code is checked against the stored hashes: a malformed code, a code of another campaign or one the
    database does not know refuses the whole file (one problem per row); a code already used or withdrawn by a
    replacement is left out with a note, so a reprint never carries a dead code."""
    campaign_codes = {str(row.get("campaign") or "") for row in rows}
    if len(campaign_codes) != 1 or "" in campaign_codes:
        raise refuse("campaign", "Tệp mã phải thuộc đúng một đợt khảo sát (cột campaign).",
                     "the codes file must belong to exactly one campaign (column campaign).")
    campaign = await campaign_by_code(campaign_codes.pop())
    key = code_key(secret_key)
    hashes, problems = {}, []
    for row_number, row in enumerate(rows, start=2):
        try:
            hashes[row_number] = sampling.hash_code(key, sampling.check_code(str(row.get("code") or "")))
        except SamplingError as error:
            problems += [Problem(f"row {row_number}", item.message_vi, item.message_en) for item in error.problems]
    states = await _invitation_states(campaign["id"], list(hashes.values()))
    problems += [Problem(f"row {row_number}", "Mã không thuộc mẫu của đợt khảo sát này.",
                         "this code does not belong to this campaign's sample.")
                 for row_number, code_hash in hashes.items() if code_hash not in states]
    if problems:
        raise SamplingError(problems)
    units = {row["code"]: row["name"] for row in await Unit.select(Unit.code, Unit.name)}
    open_rows = [row for number, row in enumerate(rows, start=2) if states[hashes[number]] in OPEN_STATUSES]
    notes = [f"row {number}: left out, code {states[hashes[number]]} / bỏ qua, mã đã "
             f"{'dùng' if states[hashes[number]] == 'used' else 'hết hiệu lực'}"
             for number in range(2, len(rows) + 2) if states[hashes[number]] not in OPEN_STATUSES]
    return campaign["name"], slips.slips_from_rows(open_rows, units), notes


async def _invitation_states(campaign_id: int, code_hashes: list[str]) -> dict[str, str]:
    """code hash → "used", or the member's status (invited, started, replaced, …) for the campaign's invitations."""
    states = {}
    for start in range(0, len(code_hashes), INSERT_CHUNK):
        found = await Invitation.select(Invitation.code_hash, Invitation.used_at,
                                        Invitation.member.status.as_alias("status")).where(
            Invitation.code_hash.is_in(code_hashes[start:start + INSERT_CHUNK])
            & (Invitation.member.draw.campaign == campaign_id))
        states |= {row["code_hash"]: "used" if row["used_at"] is not None else row["status"] for row in found}
    return states
