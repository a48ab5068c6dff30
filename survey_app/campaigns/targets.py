"""Targets a province sets per campaign (SIPAS ≥ 90 %, land > 82 %…), read from a form and compared with indices."""

from __future__ import annotations

import math

from survey_app.accounts import audit
from survey_app.campaigns.services import FormProblems
from survey_app.core.campaign_tables import COMPARISONS, CampaignTarget
from survey_app.core.db import write_transaction
from survey_app.core.wording import domain_label


def target_subjects(scoring: dict, domains: dict[str, str]) -> list[tuple[str, str]]:
    """(subject, Vietnamese name) of everything a target may be set on: overall, each factor, each domain."""
    subjects = [("overall", "Chỉ số chung")]
    subjects += [(f"factor:{factor['key']}", factor.get("label", {}).get("vi", factor["key"])) for factor in scoring["factors"]]
    subjects += [(f"domain:{code}", domain_label(name)) for code, name in sorted(domains.items())]
    return subjects


def parse_percent(text: str) -> float | None | str:
    """'82,5' or '82.5' → 82.5; empty → None; anything else, or outside 0–100 → 'bad'."""
    text = (text or "").strip().replace(",", ".").rstrip("%").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return "bad"
    return value if math.isfinite(value) and 0 <= value <= 100 else "bad"


def read_targets(form, subjects: list[tuple[str, str]]) -> dict[str, tuple[str, float]]:
    """subject → (comparison, value) for every filled field; FormProblems names each bad one."""
    problems, targets = FormProblems(), {}
    for subject, name in subjects:
        value = parse_percent(form.get(f"target_{subject}", ""))
        comparison = form.get(f"cmp_{subject}", ">=")
        if value == "bad":
            problems.add(f"target_{subject}", f"{name}: mục tiêu phải là số từ 0 đến 100 (ví dụ 82,5).",
                         f"{subject}: the target must be a number from 0 to 100 (e.g. 82.5).")
        elif comparison not in COMPARISONS:
            problems.add(f"target_{subject}", f"{name}: so sánh phải là ≥ hoặc >.", f"{subject}: comparison must be >= or >.")
        elif value is not None:
            targets[subject] = (comparison, value)
    if problems.problems:
        raise problems
    return targets


async def stored_targets(campaign_id: int) -> dict[str, tuple[str, float]]:
    rows = await CampaignTarget.select().where(CampaignTarget.campaign == campaign_id)
    return {row["subject"]: (row["comparison"], row["value"]) for row in rows}


async def save_targets(campaign: dict, targets: dict[str, tuple[str, float]], username: str) -> None:
    """Replace the campaign's targets, with the old and new sets in the audit log, in one transaction."""
    before = await stored_targets(campaign["id"])
    async with write_transaction():
        await CampaignTarget.delete().where(CampaignTarget.campaign == campaign["id"])
        if targets:
            await CampaignTarget.insert(*[CampaignTarget(campaign=campaign["id"], subject=subject, comparison=comparison,
                                                         value=value) for subject, (comparison, value) in targets.items()])
        await audit.record(username, "campaign_targets", f"campaign {campaign['code']}",
                           before={key: list(value) for key, value in before.items()},
                           after={key: list(value) for key, value in targets.items()})


def meets(value: float | None, target: tuple[str, float] | None) -> bool | None:
    """True/False against the target; None when there is no target or no figure."""
    if target is None or value is None:
        return None
    comparison, threshold = target
    return value >= threshold if comparison == ">=" else value > threshold


def subject_value(subject: str, figures: dict) -> dict | None:
    """The province-wide index a target's subject refers to (overall, a factor, or a domain's overall)."""
    province = figures["province"]
    if subject == "overall":
        return {"value": province["overall"], "ci_low": province["ci_low"], "ci_high": province["ci_high"],
                "response_count": province["response_count"]}
    kind, _, key = subject.partition(":")
    if kind == "factor":
        factor = next((factor for factor in province["factors"] if factor["key"] == key), None)
        return factor and {**factor, "response_count": province["response_count"]}
    group = figures["by"]["domain"].get(key)
    return group and {"value": group["overall"], "ci_low": group["ci_low"], "ci_high": group["ci_high"],
                      "response_count": group["response_count"]}
