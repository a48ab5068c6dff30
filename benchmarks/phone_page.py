"""Weight of the citizen's phone page (HTML with inline CSS + scripts, gzip) and time from submit to stored response.

Runs the app in-process on a fresh SQLite file with the demo province; prints a table and writes JSON to
benchmarks/results/phone_page.json.   Usage: .venv/bin/python benchmarks/phone_page.py [--posts 200]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from questionnaires import load_shipped
from survey_app.core import db
from survey_app.app import create_app
from survey_app.campaigns.demo import load_demo
from survey_app.core.settings import Settings
from survey_app.core.tokens import sign

RESULTS = Path(__file__).parent / "results" / "phone_page.json"


def filled(definition) -> dict:
    answers = {"_key": uuid.uuid4().hex}
    for item in definition.items:
        if item.type == "rating5":
            answers[item.key] = "4"
        elif item.type == "domain":
            answers[item.key] = item.choices[0].value
    return answers


async def measure(posts: int) -> dict:
    folder = Path(tempfile.mkdtemp())
    settings = Settings.from_env({
        "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "bench", "RATE_LIMIT_PER_CLIENT": "100000",
        "RATE_LIMIT_PER_COUNTER": "100000",
    })
    app = create_app(settings)
    for hook in app.on_startup:
        await hook(app)
    await db.migrate()
    await load_demo(per_unit=2)
    path = "/q/" + sign(settings.signing_keys, "SO01-Q1", "QUAY-2026")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        html = (await client.get(path, headers={"Accept-Encoding": "identity"})).content
        # the page's own files, at the fingerprinted addresses it names (its CSS is inline)
        scripts = re.findall(rb'<script src="([^"]+)"', html)
        parts = {"html": html, **{address.decode().rsplit("/", 1)[-1]: (await client.get(address.decode())).content
                                  for address in scripts}}
        definition = load_shipped()["counter_rating"]
        timings = []
        for _ in range(posts):
            started = time.perf_counter()
            response = await client.post(path, data=filled(definition))
            assert response.status_code == 303, response.text
            timings.append((time.perf_counter() - started) * 1000)
    for hook in app.on_shutdown:
        await hook(app)
    gzipped = {name: len(gzip.compress(body, 6)) for name, body in parts.items()}  # the server's level
    return {
        "raw_bytes": {name: len(body) for name, body in parts.items()},
        "gzip_bytes": gzipped, "gzip_total_bytes": sum(gzipped.values()),
        "posts": posts, "store_ms_median": statistics.median(timings),
        "store_ms_p95": statistics.quantiles(timings, n=20)[18],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    result = asyncio.run(measure(parser.parse_args().posts))
    print(f"{'part':24} {'raw B':>8} {'gzip B':>8}")
    for name in result["raw_bytes"]:
        print(f"{name:24} {result['raw_bytes'][name]:8} {result['gzip_bytes'][name]:8}")
    print(f"{'total':24} {sum(result['raw_bytes'].values()):8} {result['gzip_total_bytes']:8}  (goal ≤ 30 KB)")
    print(f"submit → stored (in-process, SQLite): median {result['store_ms_median']:.1f} ms, "
          f"p95 {result['store_ms_p95']:.1f} ms over {result['posts']} posts")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
