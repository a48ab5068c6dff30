"""The counter form's own urlencoded parsing gives what Litestar's did, and other bodies behave as before."""

from __future__ import annotations

import json

import pytest_asyncio
from hypothesis import given, settings as hypothesis_settings
from hypothesis import strategies as st
from litestar._parsers import parse_url_encoded_form_data

from survey_app.public.form_body import parse_urlencoded
from tests.app.helpers import app_client, counter_definition, filled_form, response_count

PIECES = ["a", "_key", "reception", "3", "=", "&", "&&", "+", "%", "%2", "%20", "%2B", "%26", "%3D", "%C3%A1",
          "%C3", "%ZZ", "á", "ệ", "\x00", " ", ";", "==", ""]
bodies = st.lists(st.sampled_from(PIECES), max_size=20).map("".join).map(lambda text: text.encode("utf-8")) | (
    st.binary(max_size=40))


@pytest_asyncio.fixture(scope="module")
async def client(app):
    """A client of its own address: the suite's shared client may have spent its per-client form-post limit."""
    async with app_client(app, "198.51.100.20") as own_client:
        yield own_client


@hypothesis_settings(max_examples=400, deadline=None, database=None)
@given(body=bodies)
def test_the_parse_is_litestars(body):
    litestars = {name: value if isinstance(value, list) else [value]
                 for name, value in parse_url_encoded_form_data(body).items()}
    assert parse_urlencoded(body) == litestars


async def test_a_multipart_post_is_stored_as_before(client, counter_form):
    post = filled_form(counter_definition(), rating="2", why="Chờ lâu")
    files = {name: (None, value) for name, value in post.items()}  # multipart/form-data without files
    response = await client.post(counter_form, files=files)
    assert response.status_code == 303
    assert await response_count(idempotency_key=post["_key"]) == 1


async def test_a_charset_parameter_and_a_repeated_field_are_read_as_before(client, counter_form):
    post = filled_form(counter_definition(), rating="4")
    body = "&".join(f"{name}={value}" for name, value in post.items()) + "&reception=1"  # the first value counts
    response = await client.post(counter_form, content=body.encode(),
                                 headers={"content-type": "application/x-www-form-urlencoded; charset=UTF-8"})
    assert response.status_code == 303
    assert await response_count(idempotency_key=post["_key"]) == 1


async def test_a_json_body_is_refused_in_vietnamese_and_nothing_stored(client, counter_form):
    before = await response_count()
    post = filled_form(counter_definition())
    response = await client.post(counter_form, content=json.dumps(post), headers={"content-type": "application/json"})
    assert response.status_code == 422 and "Vui lòng" in response.text
    assert await response_count() == before


async def test_a_body_over_the_limit_is_refused_and_nothing_stored(client, counter_form):
    before = await response_count()
    post = filled_form(counter_definition(), why="x" * 300_000)
    response = await client.post(counter_form, data=post)
    assert response.status_code == 413
    assert await response_count() == before
