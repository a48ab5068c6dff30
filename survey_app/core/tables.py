"""Piccolo tables. Answers live in one JSON column per response: one row per submission is one atomic write."""

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

# Deleting a unit, campaign or questionnaire must never delete answers: references restrict.
RESTRICT = {"on_delete": OnDelete.restrict}

UNIT_LEVELS = ("province", "so", "huyen", "xa")
CAMPAIGN_MODES = ("open_qr", "invitation")
CAMPAIGN_STATUSES = ("draft", "open", "paused", "closed")
USER_ROLES = ("admin", "analyst", "unit_manager")


class Unit(Table, tablename="unit"):
    """A node of the administrative tree: province → sở / huyện → xã."""

    code = Varchar(length=32, unique=True, index=True)
    name = Varchar(length=255)
    name_en = Varchar(length=255, default="")
    level = Varchar(length=16, help_text="one of " + ", ".join(UNIT_LEVELS))
    parent = ForeignKey("self", null=True, default=None, **RESTRICT)


class Counter(Table, tablename="counter"):
    """A one-stop counter (quầy); its public code goes into the QR URL."""

    code = Varchar(length=32, unique=True, index=True)
    unit = ForeignKey(Unit, null=False, **RESTRICT)
    name = Varchar(length=255)
    signing_key_id = Varchar(length=32, default="k1")
    active = Boolean(default=True)


class Domain(Table, tablename="domain"):
    """A procedure domain (lĩnh vực): land, investment, civil status…"""

    code = Varchar(length=32, unique=True, index=True)
    name = Varchar(length=255)
    name_en = Varchar(length=255, default="")


class Questionnaire(Table, tablename="questionnaire"):
    """One version of a questionnaire definition; immutable once it has responses."""

    key = Varchar(length=64, index=True)
    version = Varchar(length=32)
    content_hash = Varchar(length=64)
    title = Varchar(length=255)
    definition = JSON()
    created_at = Timestamptz(default=TimestamptzNow())


class Campaign(Table, tablename="campaign"):
    """A survey campaign (đợt khảo sát) on one questionnaire version."""

    code = Varchar(length=32, unique=True, index=True)
    name = Varchar(length=255)
    questionnaire = ForeignKey(Questionnaire, null=False, **RESTRICT)
    starts_on = Date()
    ends_on = Date()
    mode = Varchar(length=16, default="open_qr", help_text="open_qr or invitation")
    status = Varchar(length=16, default="draft", help_text="draft, open, paused or closed")


class Response(Table, tablename="response"):
    """One submitted questionnaire. No IP address, phone number or raw dossier code is ever stored here."""

    campaign = ForeignKey(Campaign, null=False, **RESTRICT)
    unit = ForeignKey(Unit, null=False, **RESTRICT)
    counter = ForeignKey(Counter, null=True, default=None, **RESTRICT)
    domain = ForeignKey(Domain, null=True, default=None, **RESTRICT)
    questionnaire = ForeignKey(Questionnaire, null=False, **RESTRICT)
    idempotency_key = Varchar(length=64, unique=True)
    answers_digest = Varchar(length=64, help_text="sha256 of the canonical answers, to recognise a replay")
    answers = JSON()
    channel = Varchar(length=16, default="qr")
    started_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(default=TimestamptzNow())
    dossier_hash = Varchar(length=64, null=True, default=None, help_text="HMAC of the dossier code")
    quality_flags = JSON(default="[]")
    weight = Float(default=1.0)
    stratum = Varchar(length=255, null=True, default=None, help_text="unused for officials' answers since issue #25 (it named the unit × role of the one respondent)")


class User(Table, tablename="app_user"):
    """A signed-in person: administrator, analyst or unit manager (scoped to a unit)."""

    username = Varchar(length=64, unique=True)
    display_name = Varchar(length=255, default="")
    password_hash = Text(default="")
    role = Varchar(length=16, help_text="admin, analyst or unit_manager")
    unit = ForeignKey(Unit, null=True, default=None, **RESTRICT)
    active = Boolean(default=True)
    failed_logins = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    session_epoch = Integer(default=0, help_text="grows on password change: older sessions stop working")


class ApiToken(Table, tablename="api_token"):
    """A machine client's bearer token, stored only as its HMAC; acts with its user's role, limited to its scopes
    (survey_app.accounts.api_tokens), until it expires or is revoked."""

    user = ForeignKey(User, null=False, **RESTRICT)
    name = Varchar(length=255, default="")
    token_hash = Varchar(length=64, unique=True)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    scopes = Varchar(length=255, default="", help_text="comma-separated: results, export, admin, dossiers, metrics")
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class AuditLog(Table, tablename="audit_log"):
    """Who did what, when, with the record before and after; refused attempts too."""

    at = Timestamptz(default=TimestamptzNow())
    username = Varchar(length=64, default="")
    action = Varchar(length=64)
    target = Varchar(length=255, default="")
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)
    detail = Text(default="")


class UnitChange(Table, tablename="unit_change"):
    """A unit merged into (kind "merge") or split off to (kind "split") a successor from `effective_on`: trends
    show the successor with the predecessor's earlier figures mapped onto it."""

    predecessor = ForeignKey(Unit, null=False, **RESTRICT)
    successor = ForeignKey(Unit, null=False, **RESTRICT)
    kind = Varchar(length=8, help_text="merge or split")
    effective_on = Date()
    recorded_by = Varchar(length=64, default="")


class ServerKey(Table, tablename="server_key"):
    """A fingerprint of the server's SECRET_KEY (survey_app/core/server_key.py), never the key."""

    fingerprint = Varchar(length=64)


# The officials' sample (draws, members, invitation codes, drafts) lives in its own module.
from survey_app.core.sampling_tables import SAMPLING_TABLES  # noqa: E402
# The analyst workspace's campaign units, targets and quality reviews too.
from survey_app.core.campaign_tables import ANALYST_TABLES  # noqa: E402
# The stored figures (sums per campaign, unit and domain) too.
from survey_app.core.figure_tables import FIGURE_TABLES  # noqa: E402

# Export jobs, shared by every worker and server.
from survey_app.core.export_tables import EXPORT_TABLES  # noqa: E402
# Webhook subscriptions and their outbox.
from survey_app.core.webhook_tables import WEBHOOK_TABLES  # noqa: E402
# The dossier feed: procedures and completed dossiers with their one-time rating links.
from survey_app.core.dossier_tables import DOSSIER_TABLES  # noqa: E402
# Paper mode's printed copies and keyed entries.
from survey_app.core.paper_tables import PAPER_TABLES  # noqa: E402

# A campaign's weighting plan and versions.
from survey_app.core.weight_tables import WEIGHT_TABLES  # noqa: E402

ALL_TABLES = (Unit, Counter, Domain, Questionnaire, Campaign, Response, User, ApiToken, AuditLog, ServerKey, UnitChange,
              *SAMPLING_TABLES, *ANALYST_TABLES, *EXPORT_TABLES, *FIGURE_TABLES,
              *WEBHOOK_TABLES, *PAPER_TABLES, *WEIGHT_TABLES, *DOSSIER_TABLES)
