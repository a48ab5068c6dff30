"""Tables of the officials' sample: draws, sampled members (and reserves), invitation codes, draft answers.

Privacy: a member row holds the unit, the stratum, the role and a keyed hash of the staff id, never a name;
an invitation holds only the HMAC of its code. Submitted answers go to `response` with no link back here (no
stratum, role weight or time shared with these rows; docs/privacy.md).
References are strings ("survey_app.core.tables.Unit") so this module never imports tables.py (which imports it).
"""

from piccolo.columns import JSON, BigInt, DoublePrecision, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

RESTRICT = {"on_delete": OnDelete.restrict}
MEMBER_STATUSES = ("invited", "started", "completed", "refused", "replaced", "not_reached", "ineligible", "reserve")


class SampleDraw(Table, tablename="sample_draw"):
    """One random draw for a campaign: the seed and the design, enough to redo it from the same frame."""

    campaign = ForeignKey("survey_app.core.tables.Campaign", null=False, **RESTRICT)
    seed = BigInt()
    design = JSON()
    created_at = Timestamptz(default=TimestamptzNow())


class SampleMember(Table, tablename="sample_member"):
    """A sampled official (reserve_rank is null) or a reserve (ordered by reserve_rank within the stratum)."""

    draw = ForeignKey(SampleDraw, null=False, **RESTRICT)
    unit = ForeignKey("survey_app.core.tables.Unit", null=False, **RESTRICT)
    stratum = Varchar(length=255)
    role = Varchar(length=255)
    staff_ref_hash = Varchar(length=64, help_text="HMAC of the staff id; the id and name are never stored")
    inclusion_probability = DoublePrecision(null=True, default=None)
    design_weight = DoublePrecision(null=True, default=None)
    reserve_rank = Integer(null=True, default=None)
    status = Varchar(length=16, default="invited", help_text="one of " + ", ".join(MEMBER_STATUSES))
    replaced_by = ForeignKey("self", null=True, default=None, **RESTRICT)
    reason = Text(default="")


class Invitation(Table, tablename="invitation"):
    """A one-time code for one member, stored only as its HMAC; used_at is set once the answers are submitted, to
    the campaign's first day (never the real time: officials/services.recorded_time)."""

    member = ForeignKey(SampleMember, null=False, unique=True, **RESTRICT)
    code_hash = Varchar(length=64, unique=True)
    used_at = Timestamptz(null=True, default=None)


class DraftAnswers(Table, tablename="draft_answers"):
    """Answers in progress (as typed) for one invitation; deleted when the final answers are submitted."""

    invitation = ForeignKey(Invitation, null=False, unique=True, **RESTRICT)
    answers = JSON()
    updated_at = Timestamptz(default=TimestamptzNow())


SEND_KINDS = ("invitation", "reminder")
SEND_STATES = ("queued", "sending", "done", "interrupted")


class InvitationSend(Table, tablename="invitation_send"):
    """One e-mailing of invitations or reminders for a campaign: progress and counts. The addresses were read from
    the analyst's file for this send only and are stored nowhere (docs/integration.md, "Thư mời / Invitations")."""

    campaign = ForeignKey("survey_app.core.tables.Campaign", null=False, **RESTRICT)
    kind = Varchar(length=16, help_text="one of " + ", ".join(SEND_KINDS))
    state = Varchar(length=16, default="queued", help_text="one of " + ", ".join(SEND_STATES))
    planned = Integer(default=0)
    sent = Integer(default=0)
    failed = Integer(default=0)
    created_by = Varchar(length=64, default="")
    summary = Text(default="", help_text="who gets a letter and who was left out, in counts")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow(), help_text="last progress: a sending silent for long has stopped")
    finished_at = Timestamptz(null=True, default=None)


class SendFailure(Table, tablename="send_failure"):
    """A message that did not go: the member (shown by unit, role and staff reference prefix) and why, with any
    address taken out of the mail server's answer."""

    send = ForeignKey(InvitationSend, null=False, **RESTRICT)
    member = ForeignKey(SampleMember, null=False, **RESTRICT)
    reason = Text(default="")


SAMPLING_TABLES = (SampleDraw, SampleMember, Invitation, DraftAnswers, InvitationSend, SendFailure)
