"""List which specification clauses the tests check, from their ``@pytest.mark.spec`` marks.

Usage::

    python scripts/spec_coverage.py [TESTS_DIR] [--markdown] [--unmarked]

The tests are read, never imported or run: each file is parsed and every
``spec`` mark is collected from test functions, from test classes (applying to
their test methods) and from a module-level ``pytestmark``. Prints one row per
clause with the tests that check it; ``--unmarked`` lists tests without a mark.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_TESTS = REPOSITORY / "tests"


@dataclass(frozen=True)
class SpecTest:
    """One test function and the clauses its marks name (empty when unmarked)."""

    path: Path
    name: str
    clauses: tuple[str, ...]

    @property
    def node_id(self) -> str:
        """The pytest-style id, from the repository root: ``tests/x/test_y.py::test_z``."""
        path = self.path.resolve()
        shown = path.relative_to(REPOSITORY) if path.is_relative_to(REPOSITORY) else path
        return f"{shown.as_posix()}::{self.name}"


def _spec_clauses(expression: ast.expr) -> list[str]:
    """Clauses of ``pytest.mark.spec("...")`` calls in a decorator or ``pytestmark`` value."""
    if isinstance(expression, ast.List | ast.Tuple):
        return [clause for item in expression.elts for clause in _spec_clauses(item)]
    if not isinstance(expression, ast.Call):
        return []
    target = expression.func
    is_spec = (
        isinstance(target, ast.Attribute)
        and target.attr == "spec"
        and isinstance(target.value, ast.Attribute)
        and target.value.attr == "mark"
    )
    if not is_spec:
        return []
    return [
        argument.value
        for argument in expression.args
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str)
    ]


def _decorator_clauses(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> list[str]:
    return [clause for decorator in node.decorator_list for clause in _spec_clauses(decorator)]


def _module_clauses(tree: ast.Module) -> list[str]:
    clauses: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytestmark"
            for target in statement.targets
        ):
            clauses.extend(_spec_clauses(statement.value))
    return clauses


def _tests_in(path: Path) -> Iterator[SpecTest]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    inherited = _module_clauses(tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            yield SpecTest(path, node.name, tuple(inherited + _decorator_clauses(node)))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            from_class = inherited + _decorator_clauses(node)
            for member in node.body:
                if isinstance(
                    member, ast.FunctionDef | ast.AsyncFunctionDef
                ) and member.name.startswith("test"):
                    clauses = tuple(from_class + _decorator_clauses(member))
                    yield SpecTest(path, f"{node.name}::{member.name}", clauses)


def collect(tests_dir: Path = DEFAULT_TESTS) -> list[SpecTest]:
    """Every test function under ``tests_dir`` (files ``test_*.py``), with its spec clauses."""
    return [test for path in sorted(tests_dir.rglob("test_*.py")) for test in _tests_in(path)]


def coverage_table(tests: Iterable[SpecTest]) -> dict[str, list[SpecTest]]:
    """Map each clause to the tests that check it, clauses sorted."""
    by_clause: dict[str, list[SpecTest]] = defaultdict(list)
    for test in tests:
        for clause in test.clauses:
            by_clause[clause].append(test)
    return dict(sorted(by_clause.items()))


def render(tests: list[SpecTest], *, markdown: bool, unmarked: bool) -> str:
    """The report as plain text or a Markdown table."""
    table = coverage_table(tests)
    lines = ["| clause | tests |", "| --- | --- |"] if markdown else []
    for clause, checked_by in table.items():
        ids = ", ".join(sorted({test.node_id for test in checked_by}))
        lines.append(f"| {clause} | {ids} |" if markdown else f"{clause}\n    {ids}")
    marked = sum(1 for test in tests if test.clauses)
    lines.append("")
    lines.append(f"{len(table)} clauses, {marked} of {len(tests)} tests marked")
    if unmarked:
        lines.append("")
        lines.extend(f"unmarked: {test.node_id}" for test in tests if not test.clauses)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the coverage report; exit status 1 when no spec mark was found."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests_dir", nargs="?", type=Path, default=DEFAULT_TESTS)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--unmarked", action="store_true", help="also list unmarked tests")
    options = parser.parse_args(argv)
    tests = collect(options.tests_dir.resolve())
    print(render(tests, markdown=options.markdown, unmarked=options.unmarked))
    return 0 if any(test.clauses for test in tests) else 1


if __name__ == "__main__":
    sys.exit(main())
