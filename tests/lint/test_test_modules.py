"""The suite's own shape: a test module never imports another test module. Fixtures live
in a folder's ``conftest.py`` (pytest finds them there), helpers in support modules
(``tests/factories.py``, ``tests/web/helpers.py``, ...). A fixture imported from a test
module needs ``noqa`` comments to pass the linter, hides which fixture a test gets, and
ties one test file's edits to another's."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every ``tests...`` module a file imports (a ``from`` import's names included: a
    name may be a module), with its line."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tests"):
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("tests")]
    return found


def test_no_module_of_the_suite_imports_a_test_module():
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, module in imported_modules(ast.parse(path.read_text()))
        if module.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert offenders == [], "move what is shared to a conftest.py or tests/factories.py:\n" + (
        "\n".join(offenders)
    )


def test_the_check_sees_a_fixture_imported_from_a_test_module():
    source = "from tests.web.test_workspace import login, staff  # noqa: F401\nimport tests.x\n"
    modules = [m for _, m in imported_modules(ast.parse(source))]
    assert "tests.web.test_workspace" in modules and "tests.x" in modules
