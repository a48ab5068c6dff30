"""Docs cover every setting and command; the CLI's validate command reports problems with file:line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from questionnaires import shipped_paths
from survey_app.cli import app
from survey_app.core.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
SURVEY = Path(sys.executable).parent / "survey"


def test_every_setting_is_documented():
    text = (ROOT / "docs" / "settings.md").read_text()
    assert [setting.name for setting in SETTINGS if f"`{setting.name}`" not in text] == []


def test_every_command_is_documented():
    text = (ROOT / "docs" / "cli.md").read_text()
    names = [command.name or command.callback.__name__ for command in app.registered_commands]
    assert [name for name in names if f"`survey {name}" not in text] == []


def test_readme_gives_exactly_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


def test_validate_accepts_the_shipped_definitions():
    result = CliRunner().invoke(app, ["validate", *map(str, shipped_paths())])
    assert result.exit_code == 0, result.output


def test_validate_reports_file_and_line_and_exits_nonzero(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("key: broken\nversion: '1'\ntitle: {vi: Hỏng}\nsections:\n  - key: s\n    items:\n"
                      "      - key: q1\n        type: no_such_type\n        label: {vi: Câu hỏi}\n", encoding="utf-8")
    result = subprocess.run([str(SURVEY), "validate", str(broken)], capture_output=True, text=True)
    assert result.returncode == 1
    assert f"{broken}:8:" in result.stderr


def test_demo_without_serving_prints_links_on_base_url(tmp_path):
    """Issue #25: `survey demo --no-serve` printed http://127.0.0.1:8000 links whatever BASE_URL said."""
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "SECRET_KEY": "demo-test",
                   "BASE_URL": "https://khaosat.tinh.gov.vn/"}
    result = subprocess.run([str(SURVEY), "demo", "--no-serve"], env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "https://khaosat.tinh.gov.vn/results/DEMO" in result.stdout and ":8000" not in result.stdout
