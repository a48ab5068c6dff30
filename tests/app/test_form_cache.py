"""FORM_CACHE_SECONDS: a worker reuses a counter's form for that long, then sees a closed campaign."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx

from survey_app.tables import Campaign
from tests.app.helpers import started_app


async def test_a_closed_campaign_is_refused_once_the_cached_form_expires(app, settings, counter_form):
    try:
        async with started_app(app, dataclasses.replace(settings, form_cache_seconds=0.5)) as cached, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=cached), base_url="http://t") as client:
            assert (await client.get(counter_form)).status_code == 200
            await Campaign.update({Campaign.status: "closed"}).where(Campaign.code == "QUAY-2026")
            within = await client.get(counter_form)
            await asyncio.sleep(0.6)
            after = await client.get(counter_form)
    finally:
        await Campaign.update({Campaign.status: "open"}).where(Campaign.code == "QUAY-2026")
    assert within.status_code == 200  # served from the worker's memory, no database read
    assert after.status_code == 410 and "kết thúc" in after.text
