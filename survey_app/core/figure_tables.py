"""Tables of the stored figures (survey_app/results/figures.py): per campaign × unit × domain, the sums of
analysis.aggregates.RatingSums, and per campaign how far they are up to date.

References are strings (like analyst/tables.py) so this module never imports tables.py, which imports it.
"""

from piccolo.columns import BigInt, DoublePrecision, Integer, SmallInt, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class FigureCell(Table, tablename="figure_cell"):
    """The sums of a campaign's counted responses of one unit and domain (domain 0: none), base64 float64."""

    campaign = Integer()
    unit = Integer()
    domain = Integer(default=0)
    responses = Integer(default=0)
    sums = Text(default="")


class FigureState(Table, tablename="figure_state"):
    """How far a campaign's cells are folded: every response with id <= through_response (−1: fold again from the
    start, e.g. after `survey weight`), without the `excluded` ones; `item_hash` which scoring items they hold."""

    campaign = Integer(unique=True)
    through_response = Integer(default=0)
    responses_seen = Integer(default=0)
    excluded = Text(default="[]")
    item_hash = Varchar(length=64, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class QualityFlag(Table, tablename="quality_flag"):
    """One response's stored quality flags (survey_app/results/quality_store.py): `rules` a bit set (RULE_BITS),
    what later batches need (the burst rule's counter, answer pattern and time; the duration for speeding)."""

    campaign = Integer()
    response = Integer(unique=True)
    unit = Integer()
    counter = Integer(default=0)
    at_us = BigInt()  # submitted_at, microseconds since 1970 (UTC)
    duration = DoublePrecision(null=True, default=None)  # seconds from start to submission; None: no start time
    pattern = BigInt()  # hash of the answer pattern (analysis.quality.pattern_hashes)
    rules = SmallInt(default=0)
    outlier_score = DoublePrecision(null=True, default=None)


class QualityFlagState(Table, tablename="quality_flag_state"):
    """How far a campaign's flags are computed: every response with id <= through_response; the speeding
    threshold in force; the outlier model fitted on the responses with id <= model_through (0: none yet)."""

    campaign = Integer(unique=True)
    through_response = Integer(default=0)
    responses_seen = Integer(default=0)
    missing_durations = Integer(default=0)
    speed_threshold = DoublePrecision(null=True, default=None)
    model_through = Integer(default=0)
    bursts = Text(default="{}")  # JSON: "counter:pattern" → first time (µs) the group held a run
    updated_at = Timestamptz(default=TimestamptzNow())


FIGURE_TABLES = (FigureCell, FigureState, QualityFlag, QualityFlagState)
