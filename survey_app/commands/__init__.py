"""Command groups of the `survey` CLI, one module each, registered in survey_app/cli.py."""
