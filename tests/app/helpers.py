"""Small helpers for app tests: build form posts from a definition, count stored rows."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
import uuid

import httpx
import pytest

from questionnaires import load_shipped

from survey_app.core.tables import Response
from survey_app.core.tokens import sign



def form_path(settings, counter_code: str = "SO01-Q1", campaign_code: str = "QUAY-2026", expires_on=None) -> str:
    """The path a counter's QR code points to (its signed token)."""
    return "/q/" + sign(settings.signing_keys, counter_code, campaign_code, expires_on)


def counter_definition():
    return load_shipped()["counter_rating"]


def rating_keys(definition) -> list[str]:
    return [item.key for item in definition.items if item.type == "rating5"]


def filled_form(definition, rating: str = "5", key: str | None = None, **overrides) -> dict:
    """A complete valid post: every rating item set to `rating`, required others to their first choice."""
    form = {"_key": key or uuid.uuid4().hex, "_lang": "vi"}
    for item in definition.items:
        if item.type == "rating5":
            form[item.key] = rating
        elif item.required and item.choices:
            form[item.key] = item.choices[0].value
    form.update(overrides)
    return form


def page_form(section, action: str = "next", **overrides) -> dict:
    """An official's post of one page (section): every rating item 4, other choice items their first choice."""
    form = {"_lang": "vi", "_action": action}
    for item in section.items:
        if item.type == "rating5":
            form[item.key] = "4"
        elif item.choices:
            form[item.key] = item.choices[0].value
    form.update(overrides)
    return form


def hidden_key(html: str) -> str:
    return re.search(r'name="_key" value="([0-9a-f]+)"', html).group(1)


async def response_count(**where) -> int:
    query = Response.count()
    for column, value in where.items():
        query = query.where(getattr(Response, column) == value)
    return await query


CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def app_client(app, address: str | None = None) -> httpx.AsyncClient:
    """A client of the app in this process; an `address` of its own gives it its own per-client post limit."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000)) if address else httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@asynccontextmanager
async def signed_in(app, username: str):
    """A client signed in as `username` through the login form, closed on leaving."""
    async with app_client(app) as client:
        assert (await sign_in(client, username)).status_code == 303
        yield client


async def sign_in(client, username: str, password: str | None = None):
    """Sign a fresh client in through the real login form (CSRF included); the login response."""
    from survey_app.campaigns.demo import DEMO_PASSWORD

    page = await client.get("/login")
    return await client.post("/login", data={"username": username, "password": password or DEMO_PASSWORD,
                                             "_csrf_token": csrf_token(page.text), "next": "/staff"})


async def post_form(client, path: str, data: dict | None = None, page_path: str | None = None):
    """POST like a browser: take the CSRF token from a page first (the form's own page, or /staff)."""
    page = await client.get(page_path or "/staff")
    return await client.post(path, data={**(data or {}), "_csrf_token": csrf_token(page.text)})


async def draw_officials(settings, folder, campaign_code: str, name: str, units: tuple[str, ...], per_role: int,
                         quotas: list[str], seed: int, starts_on=None):
    """An open invitation campaign on par_index_so and a stored draw from a synthetic frame of `per_role` officials
    per unit and role; the draw (with its printed slips)."""
    import csv
    import datetime as dt

    from survey_app.campaigns.catalog import register_shipped
    from survey_app.officials import draws
    from survey_app.core.tables import Campaign

    questionnaire_ids = await register_shipped()
    today = dt.date.today()
    await Campaign.insert(Campaign(code=campaign_code, name=name, questionnaire=questionnaire_ids["par_index_so"],
                                   starts_on=starts_on or today, ends_on=today + dt.timedelta(days=30),
                                   mode="invitation", status="open"))
    frame = folder / "officials.csv"
    with frame.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit", "role", "staff_id"])
        writer.writerows([(unit, role, f"{unit}-{role}-{number}") for unit in units
                          for role in ("lanh_dao_phong", "cong_chuc") for number in range(per_role)])
    return await draws.draw_and_store(settings.secret_key, campaign_code, frame, None, quotas, seed=seed)


@asynccontextmanager
async def started_app(suite_app, settings):
    """A second app instance (another worker, or other settings) started beside the suite's: its start-up hooks
    run, it is yielded, then stopped, and the tables are bound back to the suite's engine."""
    from survey_app.core import db
    from survey_app.app import create_app

    other = create_app(settings)
    for hook in other.on_startup:
        await hook(other)
    try:
        yield other
    finally:
        for hook in other.on_shutdown:
            await hook(other)
        db.bind(suite_app.state.engine)  # (its job engine stops alone: jobs.stop gives the suite's back)


async def require_redis(url: str, variable: str) -> None:
    """Skip (fail in CI) when no Redis answers at `url`, naming the environment `variable` that sets it."""
    import redis.asyncio

    from tests.conftest import IN_CI

    client = redis.asyncio.Redis.from_url(url)
    try:
        await client.ping()
    except redis.exceptions.ConnectionError:
        message = f"Redis is not reachable at {url} (set {variable})"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    finally:
        await client.aclose()
