"""The survey web application: Litestar app, Piccolo tables, the `survey` command."""

import os

# Piccolo finds its engine through this module; survey_app.core.db replaces its DB when the app starts.
os.environ.setdefault("PICCOLO_CONF", "survey_app.core.piccolo_conf")
