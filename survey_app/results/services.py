"""Index of a unit (and the units below it) for one campaign, computed by analysis/ from stored answers."""

from __future__ import annotations

from litestar.exceptions import NotFoundException

from analysis.sipas import compute_indices
from survey_app.campaigns.catalog import definition_of
from survey_app.core.settings import SMALL_GROUP_DEFAULT
from survey_app.results.frames import rating_frame
from survey_app.results.suppression import publishable
from survey_app.core.tables import Campaign, Questionnaire, Response, Unit

NOT_APPLICABLE = "na"


async def find_unit(code: str) -> dict:
    unit = await Unit.select().where(Unit.code == code).first()
    if unit is None:
        raise NotFoundException(f"Không có đơn vị với mã {code!r}.")
    return unit


async def children_by_parent() -> dict[int | None, list[int]]:
    children: dict[int | None, list[int]] = {}
    for row in await Unit.select(Unit.id, Unit.parent):
        children.setdefault(row["parent"], []).append(row["id"])
    return children


def subtree(unit_id: int, children: dict[int | None, list[int]]) -> list[int]:
    found, frontier = [unit_id], [unit_id]
    while frontier:
        frontier = [child for parent in frontier for child in children.get(parent, [])]
        found.extend(frontier)
    return found


async def unit_and_descendant_ids(unit_id: int) -> list[int]:
    """The unit and every unit below it (a province's index covers its sở, huyện and xã)."""
    return subtree(unit_id, await children_by_parent())


async def campaigns_answered(unit_ids: list[int]) -> list[dict]:
    """Campaigns with answers from these units, those with published figures first, newest first within each
    (an officials' campaign still collecting publishes nothing, so it is never the one shown by default)."""
    from survey_app.results.dashboard import published

    answered = Response.select(Response.campaign).where(Response.unit.is_in(unit_ids))
    rows = await Campaign.select(Campaign.id, Campaign.code, Campaign.name, Campaign.mode, Campaign.status,
                                 Campaign.starts_on, Campaign.questionnaire).where(Campaign.id.is_in(answered)) \
        .order_by(Campaign.starts_on, ascending=False).order_by(Campaign.id, ascending=False)
    return sorted(rows, key=lambda row: not published(row))  # a stable sort keeps the newest first


async def choose_campaign(campaign_code: str | None, unit_ids: list[int]) -> dict:
    """The named campaign, else the newest campaign with published answers for these units."""
    if campaign_code:
        campaign = await Campaign.select().where(Campaign.code == campaign_code).first()
        if campaign is None:
            raise NotFoundException(f"Không có đợt khảo sát với mã {campaign_code!r}.")
        return campaign
    answered = await campaigns_answered(unit_ids)
    if not answered:
        raise NotFoundException("Đơn vị này chưa có câu trả lời nào.")
    return await Campaign.select().where(Campaign.id == answered[0]["id"]).first()


async def campaign_choices(unit_code: str) -> list[dict]:
    """What the results page offers to choose from: the unit's campaigns (with the units below it)."""
    unit = await find_unit(unit_code)
    return await campaigns_answered(subtree(unit["id"], await children_by_parent()))



async def unit_index(unit_code: str, campaign_code: str | None = None,
                     suppress_below: int = SMALL_GROUP_DEFAULT) -> dict:
    """The index of a unit and the units below it, as every published page counts: without the responses the
    analyst excluded and, for officials' answers, only what suppression.publishable lets through, once the campaign
    is closed (live figures would give each new answer or exclusion away by difference). With nothing to show,
    "index" is None and "suppressed_below" or "published_when_closed" says why."""
    from survey_app.results.dashboard import not_excluded, published

    unit = await find_unit(unit_code)
    children = await children_by_parent()
    unit_ids = subtree(unit["id"], children)
    campaign = await choose_campaign(campaign_code, unit_ids)
    questionnaire = await Questionnaire.select().where(Questionnaire.id == campaign["questionnaire"]).first()
    scoring = definition_of(questionnaire).scoring_dict()
    item_keys = [item for factor in scoring.get("factors", []) for c in factor["criteria"] for item in c["items"]]
    officials, shown = campaign["mode"] == "invitation", published(campaign)
    rows = [] if not shown else await Response.select(Response.unit, Response.answers).where(
        (Response.campaign == campaign["id"]) & Response.unit.is_in(unit_ids) & not_excluded())
    ratings, _ = publishable(rating_frame(rows, item_keys).assign(unit=[row["unit"] for row in rows]),
                             officials, suppress_below)
    withheld = officials and ratings.empty
    return {
        "unit": {"code": unit["code"], "name": unit["name"], "level": unit["level"]},
        "campaign": {"code": campaign["code"], "name": campaign["name"], "mode": campaign["mode"]},
        "questionnaire": {"key": questionnaire["key"], "version": questionnaire["version"]},
        "index": None if withheld else compute_indices(ratings[item_keys], scoring).to_dict(),
        "suppressed_below": suppress_below if withheld and shown else None,
        "published_when_closed": not shown,
    }


async def units_overview() -> list[dict]:
    """Units with their level and parent, for the results home page."""
    return await Unit.select(Unit.code, Unit.name, Unit.level, Unit.parent).order_by(Unit.id)
