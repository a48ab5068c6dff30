"""Operations metrics for Prometheus at /metrics: submissions, refusals by reason, latency, queue depths (answers
waiting for the database writer, export jobs by state), 5xx.

Counted by one ASGI middleware from what every request answered (no handler counts anything itself), by route
template, never by path: a path carries a counter's token or an official's page, and would make a series per
citizen. Guarded: an administrator signed in, or an API token with the `metrics` (or `admin`) scope.
With several uvicorn workers set PROMETHEUS_MULTIPROC_DIR to an empty folder (docs/deploy.md): each worker then
writes its counts there and any worker's /metrics adds them all up.
"""

from __future__ import annotations

import os
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

FORM_ROUTES = {"/q/{token}": "qr", "/o": "official", "/o/{index}": "official"}
REFUSAL_REASONS = {400: "bad_request", 403: "bad_token", 404: "unknown_form", 409: "conflict", 410: "gone",
                   413: "too_large", 422: "invalid_answers", 429: "rate_limited", 503: "unavailable"}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

SUBMISSIONS = Counter("survey_submissions", "Form posts acknowledged (a citizen's answer stored, or an official's "
                      "section saved or sent)", ["channel"])
REFUSALS = Counter("survey_refusals", "Form posts refused, by reason", ["channel", "reason"])
LATENCY = Histogram("survey_request_seconds", "Time to answer a request, by route template", ["method", "route"],
                    buckets=LATENCY_BUCKETS)
SERVER_ERRORS = Counter("survey_server_errors", "Answers with a 5xx status, by route template", ["route"])
EXPORT_JOBS = Gauge("survey_export_jobs", "Export jobs kept in the database, by state (running: the export queue)",
                    ["state"], multiprocess_mode="mostrecent")
EXPORT_STATES = ("running", "done", "failed")
WRITE_QUEUE = Gauge("survey_write_queue_depth", "Answers waiting for the database writer (SQLite writer thread or "
                    "PostgreSQL batcher)", multiprocess_mode="livesum")


def write_queue_depth(engine) -> int:
    """Writes queued in this worker; 0 for an engine without a queue."""
    if writer := getattr(engine, "writer", None):
        return writer._queue.qsize()
    if batcher := getattr(engine, "batcher", None):
        return len(batcher._pending) + len(batcher._in_flight)
    return 0


async def count_export_jobs() -> None:
    """Read at each scrape: the jobs are shared by every worker and server, so any worker counts them all."""
    from survey_app.core.db import fetch_tuples

    counts = dict(await fetch_tuples('SELECT "state", count(*) FROM "export_job" GROUP BY "state"'))
    for state in {*EXPORT_STATES, *counts}:
        EXPORT_JOBS.labels(state).set(counts.get(state, 0))


def observe(scope: dict, status: int, seconds: float) -> None:
    route = scope.get("path_template") or "unmatched"
    LATENCY.labels(scope["method"], route).observe(seconds)
    if status >= 500:
        SERVER_ERRORS.labels(route).inc()
    channel = FORM_ROUTES.get(route)
    if channel and scope["method"] == "POST":
        if status < 400:
            SUBMISSIONS.labels(channel).inc()
        else:
            REFUSALS.labels(channel, REFUSAL_REASONS.get(status, str(status))).inc()


class MetricsMiddleware:
    """Times every HTTP request and counts its outcome; adds two clock reads and a few dict lookups to each."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_noting_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            observe(scope, status, time.perf_counter() - started)


def registry() -> CollectorRegistry | None:
    """Every worker's counts when PROMETHEUS_MULTIPROC_DIR is set; None: this process's default registry."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    from prometheus_client import multiprocess

    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)
    return combined
