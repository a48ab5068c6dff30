"""Tables of the stored figures (survey_app/results/figures.py): per campaign × unit × domain, the sums of
analysis.aggregates.RatingSums, and per campaign how far they are up to date.

References are strings (like analyst/tables.py) so this module never imports tables.py, which imports it.
"""

from piccolo.columns import Integer, Text, Timestamptz, Varchar
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


FIGURE_TABLES = (FigureCell, FigureState)
