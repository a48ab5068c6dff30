"""Tables of the analyst's workspace: a campaign's units and quotas, its targets, quality-review decisions.

References are strings (like sampling_tables.py) so this module never imports tables.py, which imports it.
"""

from piccolo.columns import JSON, DoublePrecision, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

RESTRICT = {"on_delete": OnDelete.restrict}
COMPARISONS = (">=", ">")
DECISIONS = ("keep", "exclude")


class CampaignUnit(Table, tablename="campaign_unit"):
    """A unit taking part in a campaign, with its quota of responses (None: no quota). A campaign without rows
    covers every unit (the demo campaigns)."""

    campaign = ForeignKey("survey_app.core.tables.Campaign", null=False, **RESTRICT)
    unit = ForeignKey("survey_app.core.tables.Unit", null=False, **RESTRICT)
    quota = Integer(null=True, default=None)


class CampaignTarget(Table, tablename="campaign_target"):
    """A target the province set itself, e.g. overall ≥ 90, domain dat_dai > 82 (percent)."""

    campaign = ForeignKey("survey_app.core.tables.Campaign", null=False, **RESTRICT)
    subject = Varchar(length=96, help_text="overall, factor:KEY or domain:CODE")
    comparison = Varchar(length=2, default=">=", help_text=">= or >")
    value = DoublePrecision()


class QualityReview(Table, tablename="quality_review"):
    """The analyst's decision on a flagged response: keep it or exclude it from indices shown without exclusions."""

    campaign = ForeignKey("survey_app.core.tables.Campaign", null=False, **RESTRICT)
    response = ForeignKey("survey_app.core.tables.Response", null=False, unique=True, **RESTRICT)
    decision = Varchar(length=8, help_text="keep or exclude")
    flags = JSON(default="[]")
    reviewed_by = Varchar(length=64, default="")
    reason = Text(default="", help_text="why the analyst kept or excluded it")
    reviewed_at = Timestamptz(default=TimestamptzNow())


ANALYST_TABLES = (CampaignUnit, CampaignTarget, QualityReview)
