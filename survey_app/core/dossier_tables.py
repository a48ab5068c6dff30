"""Tables of the dossier feed: the procedure catalogue and the completed dossiers the one-stop system sends.

Privacy: a dossier row holds its code only as the keyed hash the counter form uses (public/services.dossier_hash),
never the code; its rating link is `link_id` plus a signature made with the server's key, so the stored row alone
opens no rating page. References are strings so this module never imports tables.py (which imports it).
"""

from piccolo.columns import Date, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

RESTRICT = {"on_delete": OnDelete.restrict}
CHANNELS = ("truc_tiep", "truc_tuyen", "buu_chinh")  # at the counter, online, by post


class Procedure(Table, tablename="procedure"):
    """An administrative procedure (thủ tục hành chính) of one domain, by the code the province's system uses."""

    code = Varchar(length=64, unique=True, index=True)
    name = Varchar(length=500)
    domain = ForeignKey("survey_app.core.tables.Domain", null=False, **RESTRICT)


class Dossier(Table, tablename="dossier"):
    """A completed dossier: where and how it was handled, when; rated at most once (rated_at, response)."""

    code_hash = Varchar(length=64, unique=True, help_text="HMAC of the dossier code; the code is never stored")
    link_id = Varchar(length=32, unique=True, help_text="random id of the one-time rating link (signed in the URL)")
    unit = ForeignKey("survey_app.core.tables.Unit", null=False, **RESTRICT)
    domain = ForeignKey("survey_app.core.tables.Domain", null=False, **RESTRICT)
    procedure = ForeignKey(Procedure, null=False, **RESTRICT)
    channel = Varchar(length=16, help_text="one of " + ", ".join(CHANNELS))
    received_on = Date()
    due_on = Date(null=True, default=None)
    returned_on = Date()
    source = Varchar(length=16, default="api", help_text="api or import")
    created_at = Timestamptz(default=TimestamptzNow())
    rated_at = Timestamptz(null=True, default=None)
    response = ForeignKey("survey_app.core.tables.Response", null=True, default=None, unique=True, **RESTRICT)
    held_by = Varchar(length=32, null=True, default=None,
                      help_text="an import still being stored on SQLite: unseen until it is released (NULL)")


DOSSIER_TABLES = (Procedure, Dossier)
