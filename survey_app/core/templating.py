"""Jinja filters shared by every page: Vietnamese dates, percentages, labels in the chosen language."""

from __future__ import annotations

import datetime as dt

from litestar.plugins.jinja import JinjaTemplateEngine


def vietnamese_date(value: dt.date | dt.datetime | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def percent(value: float | None) -> str:
    """82.35 → '82,4 %' (Vietnamese decimal comma); None → '–'."""
    return "–" if value is None else f"{value:.1f}".replace(".", ",") + " %"


def thousands(value: int) -> str:
    """1234567 → '1.234.567' (Vietnamese groups thousands with dots)."""
    return f"{value:,}".replace(",", ".")


def percent_share(value: float | None) -> str:
    """0.4286 → '42,9 %'; a missing or undefined rate → '–'."""
    if value is None or value != value:  # NaN: a rate with an empty denominator
        return "–"
    return percent(100 * value)


def label(texts: dict | None, lang: str = "vi") -> str:
    """Text in the chosen language, falling back to Vietnamese, then to any language."""
    if not texts:
        return ""
    return texts.get(lang) or texts.get("vi") or next(iter(texts.values()))


def configure_environment(engine: JinjaTemplateEngine) -> None:
    from survey_app.accounts.controllers import nav_links

    engine.engine.filters.update(vndate=vietnamese_date, percent=percent, percent_share=percent_share, label=label,
                                  thousands=thousands)
    engine.engine.globals.update(nav_links=nav_links)
