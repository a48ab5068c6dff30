"""100 citizens, each from its own address, post one form through a real nginx with TLS in front of
`survey serve` (issue #17: behind a proxy every client was one client: 20 × 303 and 80 × 429).

Runs twice on a fresh SQLite demo database: without FORWARDED_ALLOW_IPS (the proxy's address is everyone's) and
with FORWARDED_ALLOW_IPS=127.0.0.1; default limits (RATE_LIMIT_PER_CLIENT=20). Loopback only, 100 posts a run.
Usage: PYTHONPATH=. .venv/bin/python benchmarks/proxy_clients.py   (needs nginx and openssl: `make nginx`)
"""

from __future__ import annotations

import asyncio
import collections
import random
import tempfile
from pathlib import Path

from survey_app.campaigns.demo import load_demo
from survey_app.core import db
from survey_app.core.settings import Settings
from tests.app.servers import SECRET, Server, submission
from tests.app.test_proxy import client_from, start_nginx

CITIZENS = 100


def statuses_through_nginx(database_url: str, folder: Path, **environment: str) -> collections.Counter:
    server = Server(database_url, folder, **environment)
    server.env.pop("RATE_LIMIT_PER_CLIENT"), server.env.pop("RATE_LIMIT_PER_COUNTER")  # the defaults, as deployed
    server.start()
    nginx, port = start_nginx(folder, server.port)
    rng, counts = random.Random(17), collections.Counter()
    try:
        for number in range(CITIZENS):
            with client_from(f"127.0.{number // 250}.{2 + number % 250}") as citizen:
                answer = citizen.post(f"https://127.0.0.1:{port}{server.form_path()}", data=submission("bench", rng))
                counts[answer.status_code] += 1
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        server.stop()
    return counts


def main() -> None:
    for label, environment in (("without FORWARDED_ALLOW_IPS", {}),
                               ("FORWARDED_ALLOW_IPS=127.0.0.1", {"FORWARDED_ALLOW_IPS": "127.0.0.1"})):
        folder = Path(tempfile.mkdtemp(prefix="proxy-bench-"))
        url = f"sqlite:///{folder / 'bench.db'}"
        asyncio.run(db.run_connected(Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": SECRET}),
                                     lambda: load_demo(per_unit=1)))
        counts = statuses_through_nginx(url, folder, **environment)
        print(f"{label:<30} " + ", ".join(f"{count} × {status}" for status, count in sorted(counts.items())))


if __name__ == "__main__":
    main()
