"""Log lines safe to read, and the log output of `survey serve`.

Text that came with a request (a path, a token) cannot forge a second line: `printable` escapes its control
characters in text logs. With LOG_FORMAT=json each record is one JSON object a line for a log collector: time
(UTC, ISO 8601), level, logger, message, and the traceback when there is one; JSON escapes the control characters.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import logging.config
import re

LOG_FORMATS = ("text", "json")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: object, limit: int = 200) -> str:
    """`text` cut to `limit` characters with every control character (newline, NUL, escape...) as \\xNN."""
    return CONTROL_CHARACTERS.sub(lambda found: f"\\x{ord(found.group()):02x}", str(text)[:limit])


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def uvicorn_log_config(log_format: str) -> dict | None:
    """The logging configuration `survey serve` hands uvicorn: None keeps uvicorn's own (text)."""
    if log_format == "text":
        return None
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonLinesFormatter}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": "INFO"},
        "loggers": {name: {"handlers": [], "level": "INFO", "propagate": True}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def litestar_logging(log_format: str) -> dict:
    """The `logging_config` argument of the Litestar app: Litestar configures logging itself at start-up (its
    "standard" text format), which would undo uvicorn's JSON configuration in every worker."""
    if log_format == "text":
        return {}
    from litestar.logging.config import LoggingConfig

    return {"logging_config": LoggingConfig(formatters={"standard": {"()": JsonLinesFormatter}})}


@contextlib.contextmanager
def migrations_logged(log_format: str):
    """Around the migrations `survey serve` runs first: with JSON logs, Piccolo's printed progress becomes one
    JSON line (and a failure another), so the log stays one object a line from the start."""
    if log_format == "text":
        yield
        return
    logging.config.dictConfig(uvicorn_log_config(log_format))
    logging.captureWarnings(True)  # a library's warning is a log record too, not a bare line on stderr
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            yield
    except Exception:  # the caller says why in one line (a traceback here would bury it)
        logging.getLogger("survey_app").error("migrations failed: %s", printed.getvalue().strip() or "-")
        raise
    if progress := printed.getvalue().strip():
        logging.getLogger("survey_app").info("migrations: %s", progress)
