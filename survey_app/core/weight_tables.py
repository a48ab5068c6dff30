"""Tables of a campaign's weighting (survey_app/results/weighting.py): its plan, and every run kept as a version.

References are plain integers (like figure_tables.py) so this module never imports tables.py, which imports it.
"""

from piccolo.columns import Boolean, DoublePrecision, Integer, Text, Varchar
from piccolo.table import Table


class WeightPlan(Table, tablename="weight_plan"):
    """The plan an analyst defined for a campaign (steps as JSON) and its population counts (normalised CSV)."""

    campaign = Integer(unique=True)
    plan = Text(default="{}")
    population = Text(default="", help_text="margin,level,count rows as read from the uploaded file")
    population_name = Varchar(length=255, default="")
    population_hash = Varchar(length=64, default="")
    updated_by = Varchar(length=64, default="")
    updated_at = DoublePrecision(default=0.0)  # time.time()


class WeightVersion(Table, tablename="weight_version"):
    """One run of a plan: who, when, the plan and its inputs' hashes, diagnostics per step, and the weights
    (JSON [[response id, weight], …]); `in_use` marks the version the campaign's figures use."""

    campaign = Integer()
    number = Integer()
    created_by = Varchar(length=64, default="")
    created_at = DoublePrecision(default=0.0)
    plan = Text(default="{}")
    input_hashes = Text(default="{}")
    diagnostics = Text(default="[]")
    weights = Text(default="[]")
    state = Varchar(length=8, default="running")  # running, done, failed
    progress = Integer(default=0)  # percent
    error = Text(default="")
    in_use = Boolean(default=False)


WEIGHT_TABLES = (WeightPlan, WeightVersion)
