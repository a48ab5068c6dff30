"""What the analyst's and unit manager's pages show, gathered from the services (controllers stay two lines)."""

from __future__ import annotations

import dataclasses


from survey_app.results import charts
from survey_app.campaigns import counts, targets
from survey_app.campaigns.catalog import definition_by_id
from survey_app.campaigns.filters import DashboardFilters, filtered_figures
from survey_app.campaigns.services import COMMON, LEVEL_NAMES
from survey_app.results.dashboard import (
    NotEnoughData,
    campaign_figures,
    domain_names,
    excluded_ids,
    is_suppressed,
    ranked_units,
    trend,
    unit_rows,
)
from survey_app.core import worker_process
from survey_app.core.single_flight import cached_or_built
from survey_app.core.tables import Campaign, Questionnaire, Response, Unit


async def campaign_list() -> list[dict]:
    rows = await Campaign.select(*Campaign.all_columns(), Campaign.questionnaire.key.as_alias("questionnaire_key"),
                                 Campaign.questionnaire.version.as_alias("questionnaire_version")) \
        .order_by(Campaign.starts_on, ascending=False).order_by(Campaign.id, ascending=False)
    totals = {}
    for row in await Response.select(Response.campaign):
        totals[row["campaign"]] = totals.get(row["campaign"], 0) + 1
    return [{**row, "responses": totals.get(row["id"], 0)} for row in rows]


async def form_choices() -> dict:
    questionnaires = await Questionnaire.select(Questionnaire.id, Questionnaire.key, Questionnaire.version,
                                                Questionnaire.title).order_by(Questionnaire.key).order_by(Questionnaire.id)
    units = await Unit.select(Unit.id, Unit.code, Unit.name, Unit.level, Unit.parent).order_by(Unit.id)
    return {"questionnaires": questionnaires, "units": units, "unit_tree": unit_tree(units), **COMMON}


def unit_tree(units: list[dict]) -> list[dict]:
    """The units as nested nodes {unit, children}, roots first, each level in id order (the form's tree)."""
    nodes = {unit["id"]: {"unit": unit, "children": []} for unit in units}
    roots = []
    for unit in units:
        parent = nodes.get(unit["parent"])
        (parent["children"] if parent else roots).append(nodes[unit["id"]])
    return roots


async def edit_form(campaign: dict) -> dict:
    """The edit form filled in with the campaign as it is (every unit it covers ticked, with its quota)."""
    units = await counts.campaign_units(campaign["id"])
    form = {"name": campaign["name"], "starts_on": campaign["starts_on"].isoformat(),  # what a date field takes
            "ends_on": campaign["ends_on"].isoformat(),
            **{f"quota_{unit['id']}": str(unit["quota"]) for unit in units if unit["quota"]}}
    return {"campaign": campaign, "form": form, "chosen_units": [str(unit["id"]) for unit in units], "problems": {},
            **await form_choices()}


async def campaign_detail(campaign: dict) -> dict:
    stratum_rows = await counts.stratum_counts(campaign["code"]) if campaign["mode"] == "invitation" else []
    definition = await definition_by_id(campaign["questionnaire"])
    return {"campaign": campaign, "unit_counts": await counts.unit_counts(campaign["id"]), "strata": stratum_rows,
            "questionnaires": (await form_choices())["questionnaires"], **COMMON,
            "has_repeats": bool(definition and definition.repeats)}


async def comments_page(campaign: dict, threshold: int, search: str, unit_code: str, page: int) -> dict:
    from survey_app.campaigns import comments

    found = await comments.campaign_comments(campaign, threshold)
    units = sorted({(c["unit_code"], c["unit_name"]) for c in found["comments"]})
    return {"campaign": campaign, "campaigns": [], "search": search, "unit_filter": unit_code, "threshold": threshold,
            "units": [{"code": code, "name": name} for code, name in units], **found,
            **comments.page_of(comments.matching(found["comments"], search, unit_code), page), **COMMON}


def _target_rows(figures: dict, stored: dict, subjects: list[tuple[str, str]], threshold: int) -> list[dict]:
    rows = []
    for subject, name in subjects:
        value = targets.subject_value(subject, figures)
        suppressed = is_suppressed(value, threshold)
        rows.append({"subject": subject, "name": name, "target": stored.get(subject), "value": value,
                     "suppressed": suppressed,
                     "meets": None if suppressed else targets.meets(value["value"], stored.get(subject))})
    return rows


async def dashboard(campaign: dict, without_excluded: bool, threshold: int,
                    chosen: DashboardFilters = DashboardFilters()) -> dict:
    """Everything on the dashboard page; `error` instead of figures when the campaign (or what the filters keep)
    has too few responses. A group with fewer than `threshold` responses (SUPPRESS_BELOW) shows no figure and is
    not ranked."""
    from survey_app.results.weighting import version_in_use

    domains = await domain_names()
    by_period = campaign["mode"] != "invitation"  # officials' answers are published per whole campaign only
    if not by_period:
        chosen = dataclasses.replace(chosen, starts_on=None, ends_on=None)
    context = {"campaign": campaign, "by_period": by_period, "without_excluded": without_excluded, "threshold": threshold,
               "weight_version": await version_in_use(campaign["id"]),
               "excluded_count": len(await excluded_ids(campaign["id"])), "filters": chosen,
               "domain_choices": domains, **COMMON}
    try:
        figures = await campaign_figures(campaign, without_excluded, threshold)
        if chosen.narrows_responses:
            figures = await filtered_figures(campaign, figures, chosen, without_excluded, await unit_rows())
    except NotEnoughData:
        return {**context, "error": True}
    units = [unit for unit in await unit_rows() if not chosen.level or unit["level"] == chosen.level]
    stored = await targets.stored_targets(campaign["id"])
    subjects = targets.target_subjects(figures["scoring"], {code: domains.get(code, code)
                                                             for code in figures["by"]["domain"] if code in domains})
    ranked = ranked_units(figures["by"]["unit"], units, threshold, figures["left_out"])
    overall_target = stored.get("overall")
    for row in ranked:
        row["alone"] = figures["by"]["unit_alone"].get(row["code"])
        row["alone_withheld"] = row["code"] in figures["left_out"]  # officials' answers of a small unit
        row["meets"] = None if row["suppressed"] else targets.meets(row["index"]["overall"], overall_target)
    return {**context, "figures": figures, "province": figures["province"], "units": ranked,
            "levels": _groups(figures["by"]["level"], LEVEL_NAMES, threshold),
            "domains": _groups(figures["by"]["domain"], domains, threshold),
            "target_rows": _target_rows(figures, stored, subjects, threshold),
            "trend": await trend(campaign, without_excluded, threshold),
            **await _charts(figures, ranked, overall_target and overall_target[1], threshold),
            "factor_keys": [factor["key"] for factor in figures["province"]["factors"]]}


async def _charts(figures: dict, ranked: list[dict], target: float | None, threshold: int) -> dict:
    """The SVG charts, drawn once per cached figures, target, threshold and ranked units (drawing is most of a
    dashboard's time, so it runs in a thread; the ranking leaves out suppressed units, so another threshold or
    level draws another chart)."""
    drawn = figures.setdefault("charts", {})
    return await cached_or_built(drawn, (target, threshold, tuple(row["code"] for row in ranked)),
                                 lambda: worker_process.run(draw_charts, _chart_inputs(figures), ranked, target))


def _chart_inputs(figures: dict) -> dict:
    """What the charts need, without the drawn charts themselves (a worker process gets a copy of it)."""
    return {"cells": figures["cells"], "scoring": figures["scoring"]}


def draw_charts(figures: dict, ranked: list[dict], target: float | None) -> dict:
    with charts.DRAWING:
        return {"ranking_chart": charts.ranking_chart(ranked, target),
                "distribution_chart": charts.distribution_chart(figures["cells"].total(), figures["scoring"])}


def _groups(by: dict, names: dict, threshold: int) -> list[dict]:
    return [{"code": code, "name": names.get(code, code), "index": group, "suppressed": is_suppressed(group, threshold)}
            for code, group in sorted(by.items())]
