"""The layout rule (docs/layout.md): web and command line are doors onto the areas' services and never import each
other; pure libraries never import the app; tables know no pages; no import circle among the project's modules.

Every import statement counts, at the top of a module, inside a function (a lazy import is still a dependency) or
under `if TYPE_CHECKING:` (a type still ties the two modules together).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("survey_app", "questionnaires", "sampling", "analysis")
PURE_LIBRARIES = ("questionnaires", "sampling", "analysis")


def module_files() -> dict[str, Path]:
    files = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            files[name.removesuffix(".__init__")] = path
    return files


MODULES = module_files()


def import_nodes(tree: ast.AST):
    """Every Import/ImportFrom in the tree."""
    return (node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)))


def imported_names(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Dotted names an import statement loads: `from a import b` loads a.b if that is a module, else a."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative import
        parts = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join(parts + ([base] if base else []))
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]


def project_module(name: str) -> str | None:
    """The project module a dotted name lands in (`survey_app.core.db.bind` → `survey_app.core.db`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def all_imports() -> dict[str, set[str]]:
    """Module → every module it imports (project modules under their own name, others by their top package)."""
    graph = {}
    for module, path in MODULES.items():
        found = set()
        for node in import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            for name in imported_names(module, node):
                found.add(project_module(name) or name.split(".")[0])
        found.discard(module)
        graph[module] = found
    return graph


GRAPH = all_imports()


def is_web(module: str) -> bool:
    """The web door: the app factory and every controller or page module."""
    last = module.rpartition(".")[2]
    return module == "survey_app.app" or last in ("controllers", "pages") or last.endswith("_controllers")


def is_command(module: str) -> bool:
    """The command-line door: the `survey` command and its command groups."""
    return module == "survey_app.cli" or module.startswith("survey_app.commands")


def project_imports(module: str) -> set[str]:
    return {name for name in GRAPH[module] if name in MODULES}


def test_the_parser_sees_function_level_and_relative_imports():
    assert "survey_app.results.analysis" in GRAPH["survey_app.commands.analysis"]  # imported inside a function
    assert "survey_app.core.db" in GRAPH["survey_app.core.piccolo_migrations.2026-11-23T11-20-00_initial"]
    assert is_web("survey_app.units.counter_controllers") and is_command("survey_app.commands.qr")
    assert not is_web("survey_app.units.posters") and not is_command("survey_app.units.posters")


def test_web_modules_never_import_command_modules():
    wrong = {module: sorted(filter(is_command, project_imports(module))) for module in MODULES if is_web(module)}
    assert {module: names for module, names in wrong.items() if names} == {}


def test_command_modules_never_import_web_modules():
    wrong = {module: sorted(filter(is_web, project_imports(module))) for module in MODULES if is_command(module)}
    assert {module: names for module, names in wrong.items() if names} == {}


def test_services_import_neither_door():
    """An area's operations are owned by neither door: a service module imports no controller, page or command.
    (core/templating.py may name the navigation links of accounts/controllers.py: it is the web's own plumbing.)"""
    allowed = {"survey_app.core.templating"}
    services = [m for m in MODULES if m.startswith("survey_app.") and not (is_web(m) or is_command(m))]
    wrong = {module: sorted(n for n in project_imports(module) if is_web(n) or is_command(n))
             for module in services if module not in allowed}
    assert {module: names for module, names in wrong.items() if names} == {}


def test_pure_libraries_never_import_the_app_or_a_web_or_database_library():
    forbidden = {"survey_app", "litestar", "piccolo", "uvicorn", "jinja2"}
    wrong = {module: sorted(name for name in GRAPH[module] if name.split(".")[0] in forbidden)
             for module in MODULES if module.split(".")[0] in PURE_LIBRARIES}
    assert {module: names for module, names in wrong.items() if names} == {}


def test_tables_know_no_pages():
    table_modules = [m for m in MODULES if m.startswith("survey_app.core.") and m.endswith("tables")]
    assert "survey_app.core.tables" in table_modules
    wrong = {module: sorted(n for n in project_imports(module) if not n.startswith("survey_app.core."))
             for module in table_modules}
    assert {module: names for module, names in wrong.items() if names} == {}


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each a circle or several."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                circles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return circles


def test_the_circle_finder_finds_a_circle():
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle_among_project_modules():
    graph = {module: project_imports(module) for module in MODULES}
    assert import_circles(graph) == []


def loaded_modules(*arguments: str) -> tuple[set[str], str]:
    """The modules a fresh `survey ARGUMENTS` process has loaded when it exits, and what it printed."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: sys.stderr.write('\\nLOADED ' + ' '.join(sorted(sys.modules))))\n"
            "from survey_app.cli import app\n"
            f"app({list(arguments)!r})\n")
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=environment,
                          timeout=60)
    loaded = done.stderr.rpartition("LOADED ")[2].split()
    return set(loaded), done.stdout


def test_survey_estimate_help_loads_no_web_or_database_stack():
    loaded, printed = loaded_modules("estimate", "--help")
    assert "--mean" in printed
    assert "typer" in loaded
    heavy = {name for name in loaded if name.split(".")[0] in ("litestar", "piccolo", "uvicorn", "pandas")}
    assert heavy == set()
    assert "survey_app.core.db" not in loaded


def test_survey_validate_loads_no_web_or_database_stack():
    shipped = sorted((ROOT / "questionnaires").rglob("*.yaml"))[0]
    loaded, printed = loaded_modules("validate", str(shipped))
    assert "1 file(s) valid" in printed
    assert "questionnaires.validate" in loaded
    assert {name for name in loaded if name.split(".")[0] in ("litestar", "piccolo", "uvicorn")} == set()
