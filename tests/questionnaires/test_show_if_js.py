"""The page script questionnaires/show_if.js agrees with the Python evaluator on the shared cases."""

import json
import os
import pathlib
import shutil
import subprocess

import pytest

HERE = pathlib.Path(__file__).parent
SCRIPT = HERE.parents[1] / "questionnaires" / "show_if.js"
RUNNER = """
const showIf = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const results = {evaluate: [], syntax_errors: []};
for (const c of cases.evaluate) results.evaluate.push(showIf.evaluate(c.expression, c.answers));
for (const c of cases.syntax_errors) {
  try { showIf.parse(c.expression); results.syntax_errors.push(null); }
  catch (error) { results.syntax_errors.push(error.message); }
}
console.log(JSON.stringify(results));
"""


def node_or_skip() -> str:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is needed to test questionnaires/show_if.js (apt-get install nodejs)")
        pytest.skip("node is not installed")
    return node


def test_javascript_evaluator_matches_the_shared_cases():
    results = json.loads(subprocess.run(
        [node_or_skip(), "-e", RUNNER, str(SCRIPT), str(HERE / "show_if_cases.json")],
        check=True, capture_output=True, text=True).stdout)
    cases = json.loads((HERE / "show_if_cases.json").read_text(encoding="utf-8"))
    for case, result in zip(cases["evaluate"], results["evaluate"]):
        assert result is case["expected"], case["expression"]
    for case, message in zip(cases["syntax_errors"], results["syntax_errors"]):
        assert message is not None and case["message"] in message, case["expression"]
