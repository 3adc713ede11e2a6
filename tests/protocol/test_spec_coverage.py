"""Spec traceability: every protocol test file checks named clauses, and the report works."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPOSITORY = Path(__file__).parents[2]
SCRIPT = REPOSITORY / "scripts" / "spec_coverage.py"
PROTOCOL_TESTS = REPOSITORY / "tests" / "protocol"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("spec_coverage", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up by name while the class is being built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


spec_coverage = _load_script()


@pytest.mark.spec("Kula STYLE §12: spec traceability")
def test_every_protocol_test_file_has_spec_marked_tests() -> None:
    tests = spec_coverage.collect(PROTOCOL_TESTS)
    files = {path.name for path in PROTOCOL_TESTS.glob("test_*.py")}
    marked_files = {test.path.name for test in tests if test.clauses}
    assert files - marked_files == set()
    assert {test.path.name for test in tests} == files


@pytest.mark.spec("Kula STYLE §12: spec traceability")
def test_this_file_is_found_with_its_clause() -> None:
    table = spec_coverage.coverage_table(spec_coverage.collect(PROTOCOL_TESTS))
    ours = {test.node_id for test in table["Kula STYLE §12: spec traceability"]}
    assert "tests/protocol/test_spec_coverage.py::test_this_file_is_found_with_its_clause" in ours


@pytest.mark.spec("Kula STYLE §12: spec traceability")
def test_marks_on_classes_modules_and_lists_are_collected(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n"
        "pytestmark = [pytest.mark.spec('RFC 1 §1'), pytest.mark.slow]\n"
        "@pytest.mark.spec('RFC 2 §2')\n"
        "class TestThing:\n"
        "    @pytest.mark.spec('RFC 3 §3')\n"
        "    async def test_method(self):\n"
        "        pass\n"
        "def test_plain():\n"
        "    pass\n"
        "def helper():\n"
        "    pass\n",
        encoding="utf-8",
    )
    found = {test.name: test.clauses for test in spec_coverage.collect(tmp_path)}
    assert found == {
        "TestThing::test_method": ("RFC 1 §1", "RFC 2 §2", "RFC 3 §3"),
        "test_plain": ("RFC 1 §1",),
    }


@pytest.mark.spec("Kula STYLE §12: spec traceability")
def test_unmarked_tests_are_reported(tmp_path: Path) -> None:
    (tmp_path / "test_bare.py").write_text("def test_bare():\n    pass\n", encoding="utf-8")
    tests = spec_coverage.collect(tmp_path)
    report = spec_coverage.render(tests, markdown=True, unmarked=True)
    assert "0 clauses, 0 of 1 tests marked" in report
    assert "unmarked: " in report and "test_bare.py::test_bare" in report
    assert spec_coverage.main([str(tmp_path)]) == 1


@pytest.mark.spec("Kula STYLE §12: spec traceability")
def test_the_script_runs_from_the_command_line() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), str(PROTOCOL_TESTS), "--markdown"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    lines = completed.stdout.splitlines()
    assert lines[:2] == ["| clause | tests |", "| --- | --- |"]
    assert any(line.startswith("| RFC 9421 §") for line in lines)
    assert any("Kula SPEC §9.1" in line and "test_spec_examples.py" in line for line in lines)
