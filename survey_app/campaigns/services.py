"""Campaigns: the create form's checks, status changes and the questionnaire-version rule, each audit-logged."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from survey_app.accounts import audit
from survey_app.core.campaign_tables import CampaignUnit
from survey_app.core.confirmations import Confirmation, with_reason
from survey_app.core.db import write_transaction
from survey_app.core.tables import CAMPAIGN_MODES, Campaign, Questionnaire, Response, Unit
from survey_app.webhooks import outbox

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
MODE_NAMES = {"open_qr": ("Mở, quét mã QR tại quầy", "open QR"), "invitation": ("Theo mã mời", "invitation")}
STATUS_NAMES = {"draft": ("Nháp", "draft"), "open": ("Đang mở", "open"), "paused": ("Tạm dừng", "paused"),
                "closed": ("Đã đóng", "closed")}
LEVEL_NAMES = {"province": "Tỉnh", "so": "Sở, ban, ngành", "huyen": "UBND cấp huyện", "xa": "UBND cấp xã"}
# The names every campaign page (the analyst's and the unit manager's) shows for statuses, modes and levels
COMMON = {"status_names": STATUS_NAMES, "mode_names": MODE_NAMES, "level_names": LEVEL_NAMES}
# action → (statuses it may start from, the status it leads to)
TRANSITIONS = {"open": (("draft", "paused"), "open"), "pause": (("open",), "paused"),
               "close": (("draft", "open", "paused"), "closed")}


@dataclass
class FormProblems(Exception):
    """Every problem of a submitted form: field name → (Vietnamese, English)."""

    problems: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, name: str, message_vi: str, message_en: str) -> None:
        self.problems.setdefault(name, (message_vi, message_en))


class CampaignRefused(Exception):
    """A change the campaign's state does not allow; the message says why (Vietnamese, English)."""

    def __init__(self, message_vi: str, message_en: str):
        super().__init__(message_en)
        self.message_vi, self.message_en = message_vi, message_en


def parse_date(text: str) -> dt.date | None:
    """dd/mm/yyyy (as shown everywhere), or yyyy-mm-dd (what a browser's date field sends)."""
    text = (text or "").strip()
    for layout in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, layout).date()
        except ValueError:
            continue
    return None


def _quota(text: str) -> int | None | str:
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if text.isdecimal() and int(text) > 0 else "bad"


async def check_new_campaign(form) -> dict:
    """The create form's values, checked; raises FormProblems naming every bad field."""
    problems = FormProblems()
    code = (form.get("code") or "").strip().upper()
    if not CODE_PATTERN.match(code):
        problems.add("code", "Mã đợt: 2–32 ký tự A–Z, 0–9, - hoặc _.", "Code: 2–32 characters A–Z, 0–9, - or _.")
    elif await Campaign.exists().where(Campaign.code == code):
        problems.add("code", f"Mã đợt: '{code}' đã có.", f"Code: {code!r} is already used.")
    questionnaire_id = form.get("questionnaire", "")
    if not questionnaire_id.isdecimal() or not await Questionnaire.exists().where(Questionnaire.id == int(questionnaire_id)):
        problems.add("questionnaire", "Phiếu hỏi: chọn một phiên bản.", "Questionnaire: choose a version.")
    mode = form.get("mode", "")
    if mode not in CAMPAIGN_MODES:
        problems.add("mode", "Hình thức: chọn mở (QR) hoặc theo mã mời.", "Mode: choose open QR or invitation.")
    editable = await _checked_editable(form, problems)
    if problems.problems:
        raise problems
    return {"code": code, "questionnaire": int(questionnaire_id), "mode": mode, **editable}


def closed_for_changes() -> CampaignRefused:
    return CampaignRefused("Đợt khảo sát đã đóng: không sửa được nữa.", "the campaign is closed: it cannot change")


async def check_campaign_changes(campaign: dict, form) -> dict:
    """The edit form's values (name, period, units and quotas), checked; raises FormProblems naming every bad
    field, and CampaignRefused for a closed campaign. A unit with answers in the campaign cannot be dropped."""
    if campaign["status"] == "closed":
        raise closed_for_changes()
    problems = FormProblems()
    editable = await _checked_editable(form, problems)
    answered = await Response.select(Response.unit.code.as_alias("code")).where(
        (Response.campaign == campaign["id"]) & Response.unit.not_in(list(editable["units"]) or [-1])).distinct()
    if answered and editable["units"]:
        codes = ", ".join(sorted(row["code"] for row in answered))
        problems.add("units", f"Đơn vị đã có phiếu trả lời trong đợt, không bỏ được: {codes}.",
                     f"Units with responses in this campaign cannot be dropped: {codes}.")
    if problems.problems:
        raise problems
    return editable


async def _checked_editable(form, problems: FormProblems) -> dict:
    """Name, period, units and quotas: what both the create and the edit form hold."""
    name = (form.get("name") or "").strip()
    if not name:
        problems.add("name", "Tên đợt: không được để trống.", "Name: required.")
    starts_on, ends_on = parse_date(form.get("starts_on")), parse_date(form.get("ends_on"))
    if starts_on is None:
        problems.add("starts_on", "Ngày bắt đầu: viết dạng dd/mm/yyyy.", "Start date: write it as dd/mm/yyyy.")
    if ends_on is None:
        problems.add("ends_on", "Ngày kết thúc: viết dạng dd/mm/yyyy.", "End date: write it as dd/mm/yyyy.")
    elif starts_on and ends_on < starts_on:
        problems.add("ends_on", "Ngày kết thúc: không được trước ngày bắt đầu.", "End date: must not be before the start.")
    units = await _checked_units(form, problems)
    return {"name": name, "starts_on": starts_on, "ends_on": ends_on, "units": units}


async def _with_units_below(form) -> list[str]:
    """The ticked units, plus every unit below a unit ticked "with the units below" (works without JavaScript)."""
    chosen = [value for value in form.getall("units", []) if value.isdecimal()]
    parents = {int(value) for value in form.getall("with_children", []) if value.isdecimal()}
    if parents:
        from survey_app.results.services import children_by_parent, subtree

        children = await children_by_parent()
        chosen += [str(unit_id) for parent in parents for unit_id in subtree(parent, children)]
    return list(dict.fromkeys(chosen))


async def _checked_units(form, problems: FormProblems) -> dict[int, int | None]:
    chosen = await _with_units_below(form)
    known = {row["id"] for row in await Unit.select(Unit.id).where(Unit.id.is_in([int(v) for v in chosen] or [-1]))}
    if not known:
        problems.add("units", "Đơn vị: chọn ít nhất một đơn vị.", "Units: choose at least one unit.")
    units = {}
    for unit_id in sorted(known):
        quota = _quota(form.get(f"quota_{unit_id}", ""))
        if quota == "bad":
            problems.add("units", "Chỉ tiêu số phiếu: phải là số nguyên dương hoặc để trống.",
                         "Quota: a positive whole number, or empty.")
            quota = None
        units[unit_id] = quota
    return units


async def create_campaign(values: dict, username: str) -> int:
    """Store the campaign (as a draft) and its units in one transaction with its audit entry."""
    campaign = Campaign(code=values["code"], name=values["name"], questionnaire=values["questionnaire"],
                        starts_on=values["starts_on"], ends_on=values["ends_on"], mode=values["mode"], status="draft")
    async with write_transaction():
        await campaign.save()
        await CampaignUnit.insert(*[CampaignUnit(campaign=campaign.id, unit=unit_id, quota=quota)
                                    for unit_id, quota in values["units"].items()])
        await audit.record(username, "campaign_create", f"campaign {values['code']}", after=audit.without_secrets(
            {**{k: v for k, v in values.items() if k != "units"}, "units": sorted(values["units"])}))
    return campaign.id


async def update_campaign(campaign: dict, values: dict, username: str) -> None:
    """Store the new name, period, units and quotas with an audit entry of what was and what is."""
    before_units = await CampaignUnit.select(CampaignUnit.unit, CampaignUnit.quota).where(
        CampaignUnit.campaign == campaign["id"]).order_by(CampaignUnit.unit)
    before = {"name": campaign["name"], "starts_on": campaign["starts_on"], "ends_on": campaign["ends_on"],
              "quotas": {row["unit"]: row["quota"] for row in before_units}}
    after = {**{key: values[key] for key in ("name", "starts_on", "ends_on")}, "quotas": values["units"]}
    async with write_transaction():
        await Campaign.update({Campaign.name: values["name"], Campaign.starts_on: values["starts_on"],
                               Campaign.ends_on: values["ends_on"]}).where(Campaign.id == campaign["id"])
        await CampaignUnit.delete().where(CampaignUnit.campaign == campaign["id"])
        await CampaignUnit.insert(*[CampaignUnit(campaign=campaign["id"], unit=unit_id, quota=quota)
                                    for unit_id, quota in values["units"].items()])
        await audit.record(username, "campaign_edit", f"campaign {campaign['code']}",
                           before=audit.without_secrets(before), after=audit.without_secrets(after))


def close_confirmation(campaign: dict) -> Confirmation:
    invitation = campaign["mode"] == "invitation"
    return Confirmation(
        title=f"Đóng đợt khảo sát {campaign['code']}?",
        consequence=("Đợt khảo sát dừng nhận phiếu ngay và không mở lại được: "
                     + ("mã mời chưa dùng hết hiệu lực, kết quả của công chức được công bố và quyết định giữ/loại "
                        "phiếu không đổi được nữa." if invitation else
                        "mã QR tại các quầy không còn nhận phiếu, đợt khảo sát không sửa được nữa.")),
        action=f"/analyst/campaigns/{campaign['code']}/status", button="Đóng đợt khảo sát",
        back=f"/analyst/campaigns/{campaign['code']}", hidden={"action": "close"})


async def change_status(campaign: dict, action: str, username: str, reason: str = "") -> str:
    """open / pause / close as the state allows; the change and its audit entry land together."""
    if action not in TRANSITIONS:
        raise CampaignRefused("Thao tác không hợp lệ (mở, tạm dừng hoặc đóng).", "action must be open, pause or close")
    allowed_from, new_status = TRANSITIONS[action]
    if campaign["status"] not in allowed_from:
        now_vi = STATUS_NAMES[campaign["status"]][0].lower()
        raise CampaignRefused(f"Đợt khảo sát đang ở trạng thái '{now_vi}': không thể {ACTION_VI[action]}.",
                              f"the campaign is {campaign['status']}: it cannot be {ACTION_EN[action]}")
    written = 0
    async with write_transaction():
        await Campaign.update({Campaign.status: new_status}).where(Campaign.id == campaign["id"])
        await audit.record(username, f"campaign_{action}", f"campaign {campaign['code']}",
                           before={"status": campaign["status"]}, after={"status": new_status},
                           detail=with_reason(reason) if reason else "")
        if new_status == "closed":  # the webhooks' outbox rows land with the status, or neither does
            written = await outbox.record_closing(campaign)
    if written:
        outbox.nudge()
    return new_status


ACTION_VI = {"open": "mở", "pause": "tạm dừng", "close": "đóng"}
ACTION_EN = {"open": "opened", "pause": "paused", "close": "closed"}


async def change_questionnaire(campaign: dict, questionnaire_id: str, username: str) -> None:
    """Only a draft without responses may change its questionnaire version: answers stay comparable."""
    if campaign["status"] != "draft" or await Response.exists().where(Response.campaign == campaign["id"]):
        raise CampaignRefused(
            "Không thể đổi phiên bản phiếu hỏi khi đợt khảo sát đã mở hoặc đã có phiếu trả lời: "
            "các câu trả lời phải cùng một phiên bản. Hãy tạo đợt khảo sát mới.",
            "the questionnaire version cannot change once the campaign has opened or has responses; "
            "create a new campaign instead")
    if not questionnaire_id.isdecimal() or not await Questionnaire.exists().where(Questionnaire.id == int(questionnaire_id)):
        raise CampaignRefused("Phiếu hỏi: chọn một phiên bản.", "questionnaire: choose a version")
    async with write_transaction():
        await Campaign.update({Campaign.questionnaire: int(questionnaire_id)}).where(Campaign.id == campaign["id"])
        await audit.record(username, "campaign_questionnaire", f"campaign {campaign['code']}",
                           before={"questionnaire": campaign["questionnaire"]}, after={"questionnaire": int(questionnaire_id)})
