"""Live counts of a campaign: responses per unit and counter against quotas, and per stratum for invitations."""

from __future__ import annotations

from survey_app.core.campaign_tables import CampaignUnit
from survey_app.core.tables import Counter, Response, Unit


async def campaign_units(campaign_id: int) -> list[dict]:
    """The campaign's units with quotas; a campaign without chosen units covers every unit that has counters."""
    chosen = await CampaignUnit.select(CampaignUnit.unit, CampaignUnit.quota).where(CampaignUnit.campaign == campaign_id)
    quotas = {row["unit"]: row["quota"] for row in chosen}
    query = Unit.select(Unit.id, Unit.code, Unit.name, Unit.level).order_by(Unit.id)
    if quotas:
        query = query.where(Unit.id.is_in(list(quotas)))
    else:
        query = query.where(Unit.id.is_in(Counter.select(Counter.unit)))
    return [{**unit, "quota": quotas.get(unit["id"])} for unit in await query]


def _share(count: int, quota: int | None) -> float | None:
    return None if not quota else 100.0 * count / quota


async def unit_counts(campaign_id: int) -> list[dict]:
    """Per unit: responses so far, quota, share of the quota; per counter of the unit: responses."""
    rows = await Response.select(Response.unit, Response.counter, Response.counter.code.as_alias("counter_code")) \
        .where(Response.campaign == campaign_id)
    per_unit: dict[int, int] = {}
    per_counter: dict[tuple[int, str], int] = {}
    for row in rows:
        per_unit[row["unit"]] = per_unit.get(row["unit"], 0) + 1
        key = (row["unit"], row["counter_code"] or "—")
        per_counter[key] = per_counter.get(key, 0) + 1
    table = []
    for unit in await campaign_units(campaign_id):
        count = per_unit.get(unit["id"], 0)
        counters = sorted((code, n) for (unit_id, code), n in per_counter.items() if unit_id == unit["id"])
        table.append({**unit, "responses": count, "share": _share(count, unit["quota"]), "counters": counters})
    return table


async def stratum_counts(campaign_code: str) -> list[dict]:
    """Invitation campaigns: per stratum invited, completed and response rates (sampling's AAPOR RR1/RR3)."""
    from sampling import SamplingError
    from survey_app.officials import draws

    try:
        members = await draws.members_frame(campaign_code)
    except SamplingError:
        return []
    if members.empty:
        return []
    from survey_app.core.tables import Unit
    from survey_app.core.wording import stratum_label

    table = draws.tracking_table(members)
    names = {row["code"]: row["name"] for row in await Unit.select(Unit.code, Unit.name)}
    return [{"stratum": stratum_label(str(index), names), **{key: _plain(value) for key, value in row.items()}}
            for index, row in table.iterrows()]


def _plain(value):
    """numpy numbers to Python ones; a NaN rate (nobody invited) to None, never shown as 'nan'."""
    number = float(value)
    if number != number:
        return None
    return int(number) if number.is_integer() else number
