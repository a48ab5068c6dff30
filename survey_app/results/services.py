"""Index of a unit (and the units below it) for one campaign, as survey_app/results/figures.py defines and stores it."""

from __future__ import annotations

from litestar.exceptions import NotFoundException

from analysis.aggregates import RatingSums, indices_from_sums
from survey_app.core import db
from survey_app.core.settings import SMALL_GROUP_DEFAULT
from survey_app.core.tables import Campaign, Questionnaire, Unit

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

    # one probe of the (campaign, unit) index per campaign: `campaign IN (SELECT campaign FROM response WHERE unit
    # IN …)` read every answer of the units (a province's: all of them, 0.2–0.9 s at 2 M on SQLite)
    answered = [campaign for (campaign,) in await db.fetch_tuples(
        "SELECT id FROM campaign WHERE EXISTS (SELECT 1 FROM response WHERE response.campaign = campaign.id AND "
        f"response.unit IN ({', '.join(str(int(unit)) for unit in unit_ids)}))")] if unit_ids else []
    if not answered:
        return []
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
                     suppress_below: int = SMALL_GROUP_DEFAULT, max_age: float = 0.0) -> dict:
    """The published index of a unit and the units below it (survey_app/results/figures.py: without excluded responses,
    weighted by the campaign's design, with SE and 95 % CI), read from the campaign's stored sums; officials'
    answers only once the campaign is closed (live figures would give each new answer or exclusion away by
    difference) and only from units with enough of them; up to `max_age` seconds behind new answers
    (RESULTS_MAX_AGE_SECONDS). With nothing to show, "index" is None and
    "suppressed_below" or "published_when_closed" says why."""
    from survey_app.results.dashboard import published
    from survey_app.results.weighting import version_in_use

    unit = await find_unit(unit_code)
    campaign = await choose_campaign(campaign_code, subtree(unit["id"], await children_by_parent()))
    weight_version = await version_in_use(campaign["id"])
    questionnaire = await Questionnaire.select(Questionnaire.key, Questionnaire.version) \
        .where(Questionnaire.id == campaign["questionnaire"]).first()
    officials, shown = campaign["mode"] == "invitation", published(campaign)
    index = None
    if shown:
        index = await _published_index(campaign, unit, suppress_below, max_age)
    withheld = officials and index is None
    return {
        "unit": {"code": unit["code"], "name": unit["name"], "level": unit["level"]},
        "campaign": {"code": campaign["code"], "name": campaign["name"], "mode": campaign["mode"]},
        "questionnaire": {"key": questionnaire["key"], "version": questionnaire["version"]},
        "index": index,
        "suppressed_below": suppress_below if withheld and shown else None,
        "published_when_closed": not shown,
        "weight_version": weight_version["number"] if weight_version else None,  # None: never weighted, all 1
    }


async def _published_index(campaign: dict, unit: dict, suppress_below: int, max_age: float) -> dict | None:
    """The unit's figure; for citizens' answers, an empty one (no index, 0 responses) while too few are counted."""
    from survey_app.results.dashboard import NotEnoughData, campaign_figures
    from survey_app.results.figures import scoring_of

    try:
        figures = await campaign_figures(campaign, True, suppress_below, max_age)
        index = figures["province"] if unit["level"] == "province" else figures["by"]["unit"].get(unit["code"])
    except NotEnoughData:
        index = None
    if index is None and campaign["mode"] != "invitation":
        scoring, items = await scoring_of(campaign)
        index = indices_from_sums(RatingSums.empty(len(items)), scoring, 0).to_dict()
    return index


async def units_overview() -> list[dict]:
    """Units with their level and parent, for the results home page."""
    return await Unit.select(Unit.code, Unit.name, Unit.level, Unit.parent).order_by(Unit.id)
