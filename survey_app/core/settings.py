"""Settings read once from the environment into one frozen dataclass."""

from __future__ import annotations

import functools

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The smallest group whose answers may be shown (Decree 13/2023 privacy). SUPPRESS_BELOW sets it; callers pass
# Settings.suppress_below down, and functions called without settings (library use, tests) default to this.
SMALL_GROUP_DEFAULT = 5


@dataclass(frozen=True)
class Setting:
    """One environment variable the app reads, with its default and help text (docs/settings.md lists them)."""

    name: str
    default: str
    help: str


SETTINGS = (
    Setting("DATABASE_URL", "sqlite:///var/survey.db",
            "sqlite:///relative/path.db, sqlite:////absolute/path.db or postgresql://user@host:port/db"),
    Setting("SECRET_KEY", "", "key for signing tokens and hashing dossier codes; when empty, one is generated "
            "once and kept in var/secret_key (fine on one machine; set it explicitly for several servers)"),
    Setting("SIGNING_KEYS", "", "counter QR signing keys, newest first: k2:secret2,k1:secret1; empty: one key "
            "derived from SECRET_KEY. Removing a key id revokes the posters signed with it"),
    Setting("REDIS_URL", "", "redis://host:port/db; shared rate limits and sessions across workers when set"),
    Setting("FORWARDED_ALLOW_IPS", "", "addresses of the reverse proxies (nginx, Caddy, a load balancer) whose "
            "X-Forwarded-For and X-Forwarded-Proto are believed: 127.0.0.1 or 10.0.0.0/8,192.0.2.7. Empty: none, and "
            "every client seen through a proxy is the proxy (one client for the per-client limits)"),
    Setting("BASE_URL", "http://127.0.0.1:8000", "public address used in QR codes and printed links"),
    Setting("STATIC_DIR", str(PROJECT_ROOT / "static"), "folder served under /static"),
    Setting("DB_POOL_SIZE", "10", "maximum PostgreSQL connections per worker"),
    Setting("RATE_LIMIT_PER_CLIENT", "20", "form submissions a minute from one client (by daily salted hash)"),
    Setting("RATE_LIMIT_PER_COUNTER", "300", "form submissions a minute to one counter"),
    Setting("CODE_GUESS_LIMIT", "10", "wrong invitation codes one client (by daily salted hash) may type at /o, "
            "and wrong staff sign-ins it may make, within CODE_GUESS_WINDOW_MINUTES before it is refused with 429"),
    Setting("CODE_GUESS_WINDOW_MINUTES", "15", "minutes the wrong-code count at /o runs from a client's first wrong code"),
    Setting("SQLITE_BUSY_TIMEOUT", "5", "seconds a SQLite writer waits for the lock before failing"),
    Setting("SUPPRESS_BELOW", str(SMALL_GROUP_DEFAULT), "a group smaller than this shows no figure (dashboard, manager "
            "view, report, par-index); officials' answers of such a unit are never exported"),
    Setting("SESSION_HOURS", "8", "hours a staff sign-in lasts; sessions live in Redis when REDIS_URL is set"),
    Setting("RETENTION_DAYS", "", "days raw answers are kept; `survey retention` then drops free-text answers and "
            "dossier hashes of closed campaigns and deletes old officials' drafts. Empty: keep everything"),
    Setting("FORM_CACHE_SECONDS", "5", "seconds a worker keeps a counter's form (campaign, counter, unit, "
            "questionnaire) in memory; a closed campaign or counter is refused within this time; 0 turns it off"),
    Setting("RESULTS_MAX_AGE_SECONDS", "5", "seconds the public results and index API may lag behind new answers: "
            "within it a worker serves the figures it has, after it serves them while newer ones are made; 0: always current"),
    Setting("JOB_QUEUE", "auto", "where background jobs (webhook deliveries, e-mail) wait: auto = procrastinate in the "
            "PostgreSQL database, or in the server's own process on SQLite; redis = SAQ on REDIS_URL; in-process"),
    Setting("JOB_WORKER", "on", "on: each server process also runs jobs; off: only `survey worker` processes do "
            "(PostgreSQL or Redis queues)"),
    Setting("WEBHOOK_ALLOW_HOSTS", "", "hosts or networks webhooks may call although they are loopback or private "
            "(a receiver inside the province's network): intranet.tinh.gov.vn,10.1.0.0/16. Empty: only public addresses"),
    Setting("WEBHOOK_TIMEOUT_SECONDS", "10", "seconds a webhook receiver has to answer one delivery"),
    Setting("WEBHOOK_RETRY_SECONDS", "10", "wait before the second attempt of a failed delivery; it doubles at each "
            "attempt (with random jitter) up to WEBHOOK_RETRY_MAX_SECONDS"),
    Setting("WEBHOOK_RETRY_MAX_SECONDS", "3600", "the longest wait between two attempts of a delivery"),
    Setting("WEBHOOK_MAX_ATTEMPTS", "25", "attempts before a delivery is marked failed (it can still be re-sent by hand)"),
    Setting("LOG_FORMAT", "text", "text, or json for one JSON object a line (time, level, logger, message, traceback)"),
    Setting("SMTP_HOST", "", "mail server for officials' invitations and reminders; empty: e-mail is off (the message "
            "file for Zalo/SMS still works)"),
    Setting("SMTP_PORT", "587", "mail server port (587 with starttls, 465 with tls, 25 with none)"),
    Setting("SMTP_SECURITY", "starttls", "starttls, tls (implicit TLS) or none (a relay on the same machine only)"),
    Setting("SMTP_USER", "", "mail server account; empty: send without signing in"),
    Setting("SMTP_PASSWORD", "", "password of SMTP_USER"),
    Setting("SMTP_FROM", "", "sender of invitations, e.g. Sở Nội vụ <khaosat@snv.example.gov.vn>; required with SMTP_HOST"),
)


def local_secret_key(path: Path = Path("var/secret_key")) -> str:
    """A key generated once and kept beside the SQLite file, so every worker and restart shares it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def retention_days(text: str) -> int | None:
    """RETENTION_DAYS: empty keeps answers for ever; otherwise a whole number of days, at least 1."""
    if not text.strip():
        return None
    if not text.strip().isdecimal() or int(text) < 1:
        raise ValueError(f"RETENTION_DAYS={text!r} must be a whole number of days (e.g. 730) or empty")
    return int(text)


def log_format(text: str) -> str:
    if text.strip().lower() not in ("text", "json"):
        raise ValueError(f"LOG_FORMAT={text!r} must be text or json")
    return text.strip().lower()


SMTP_SECURITIES = ("starttls", "tls", "none")


def smtp_security(text: str) -> str:
    if text.strip().lower() not in SMTP_SECURITIES:
        raise ValueError(f"SMTP_SECURITY={text!r} must be one of {', '.join(SMTP_SECURITIES)}")
    return text.strip().lower()


@dataclass(frozen=True)
class SmtpSettings:
    """Where officials' invitations are sent from (SMTP_*); host empty: e-mail is off."""

    host: str = ""
    port: int = 587
    security: str = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)  # never printed with the settings
    sender: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @classmethod
    def from_env(cls, environ: dict[str, str]) -> "SmtpSettings":
        smtp = cls(host=_env("SMTP_HOST", environ).strip(), port=int(_env("SMTP_PORT", environ)),
                   security=smtp_security(_env("SMTP_SECURITY", environ)), user=_env("SMTP_USER", environ),
                   password=_env("SMTP_PASSWORD", environ), sender=_env("SMTP_FROM", environ).strip())
        if smtp.host and not smtp.sender:
            raise ValueError("SMTP_FROM must name the sender when SMTP_HOST is set")
        return smtp


def job_queue(text: str) -> str:
    if text.strip().lower() not in ("auto", "redis", "in-process"):
        raise ValueError(f"JOB_QUEUE={text!r} must be auto, redis or in-process")
    return text.strip().lower()


def _env(name: str, environ: dict[str, str]) -> str:
    default = next(setting.default for setting in SETTINGS if setting.name == name)
    return environ.get(name, default) or default


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    redis_url: str
    base_url: str
    static_dir: Path
    db_pool_size: int = 10
    sqlite_busy_timeout: float = 5.0
    signing_keys_text: str = ""
    rate_limit_per_client: int = 20
    rate_limit_per_counter: int = 300
    session_hours: float = 8.0
    suppress_below: int = SMALL_GROUP_DEFAULT
    code_guess_limit: int = 10
    code_guess_window_minutes: int = 15
    retention_days: int | None = None
    form_cache_seconds: float = 5.0
    results_max_age_seconds: float = 5.0
    log_format: str = "text"
    forwarded_allow_ips: str = ""
    smtp: SmtpSettings = SmtpSettings()
    job_queue: str = "auto"
    job_worker: bool = True
    webhook_allow_hosts: str = ""
    webhook_timeout_seconds: float = 10.0
    webhook_retry_seconds: float = 10.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_max_attempts: int = 25

    @functools.cached_property  # parsed once: it is read on every form request (frozen: nothing changes it)
    def signing_keys(self) -> dict[str, bytes]:
        from survey_app.core.tokens import parse_signing_keys

        return parse_signing_keys(self.signing_keys_text, self.secret_key)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        environ = dict(os.environ if environ is None else environ)
        return cls(
            database_url=_env("DATABASE_URL", environ),
            secret_key=_env("SECRET_KEY", environ) or local_secret_key(),
            signing_keys_text=_env("SIGNING_KEYS", environ),
            redis_url=_env("REDIS_URL", environ),
            base_url=_env("BASE_URL", environ).rstrip("/"),
            static_dir=Path(_env("STATIC_DIR", environ)),
            db_pool_size=int(_env("DB_POOL_SIZE", environ)),
            sqlite_busy_timeout=float(_env("SQLITE_BUSY_TIMEOUT", environ)),
            rate_limit_per_client=int(_env("RATE_LIMIT_PER_CLIENT", environ)),
            rate_limit_per_counter=int(_env("RATE_LIMIT_PER_COUNTER", environ)),
            session_hours=float(_env("SESSION_HOURS", environ)),
            suppress_below=max(1, int(_env("SUPPRESS_BELOW", environ))),
            code_guess_limit=int(_env("CODE_GUESS_LIMIT", environ)),
            code_guess_window_minutes=int(_env("CODE_GUESS_WINDOW_MINUTES", environ)),
            retention_days=retention_days(_env("RETENTION_DAYS", environ)),
            form_cache_seconds=float(_env("FORM_CACHE_SECONDS", environ)),
            results_max_age_seconds=float(_env("RESULTS_MAX_AGE_SECONDS", environ)),
            log_format=log_format(_env("LOG_FORMAT", environ)),
            forwarded_allow_ips=_env("FORWARDED_ALLOW_IPS", environ).strip(),
            smtp=SmtpSettings.from_env(environ),
            job_queue=job_queue(_env("JOB_QUEUE", environ)),
            job_worker=_env("JOB_WORKER", environ).strip().lower() not in ("off", "0", "false", "no"),
            webhook_allow_hosts=_env("WEBHOOK_ALLOW_HOSTS", environ).strip(),
            webhook_timeout_seconds=float(_env("WEBHOOK_TIMEOUT_SECONDS", environ)),
            webhook_retry_seconds=float(_env("WEBHOOK_RETRY_SECONDS", environ)),
            webhook_retry_max_seconds=float(_env("WEBHOOK_RETRY_MAX_SECONDS", environ)),
            webhook_max_attempts=max(1, int(_env("WEBHOOK_MAX_ATTEMPTS", environ))),
        )

    @property
    def uses_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")
