"""``protocol/`` is pure: no server framework, no database, no network or file I/O.

Two checks: a fresh interpreter imports every module of the package and must
not have loaded aiohttp, aiosqlite or ``node``; and a static read of every file
refuses imports of I/O modules and calls that open files, except reading
package data through :mod:`importlib.resources`.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).parents[2]
PACKAGE = REPOSITORY / "protocol"
FORBIDDEN_MODULES = ("aiohttp", "aiosqlite", "node")

IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys
import protocol
names = ["protocol"]
for info in pkgutil.walk_packages(protocol.__path__, "protocol."):
    importlib.import_module(info.name)
    names.append(info.name)
for name in protocol.__all__:
    getattr(protocol, name)
print(json.dumps({
    "imported": names,
    "loaded": sorted({m.split(".")[0] for m in sys.modules}),
}))
"""

#: Top-level modules whose only purpose is I/O (or running other programs).
IO_MODULES = frozenset({
    "aiohttp", "aiosqlite", "node", "asyncio", "ftplib", "http", "httpx", "io", "os",
    "pathlib", "requests", "shutil", "smtplib", "socket", "socketserver", "sqlite3",
    "ssl", "subprocess", "tempfile", "urllib3",
})
#: Dotted modules refused although their package is fine (``urllib.parse`` is pure).
IO_SUBMODULES = frozenset({"urllib.request", "urllib.response", "importlib.metadata"})
#: Method names that read or write files; allowed only on importlib.resources objects.
FILE_METHODS = frozenset({"open", "read_text", "read_bytes", "write_text", "write_bytes"})


def _python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imported_modules(tree: ast.AST) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _io_violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules = _imported_modules(tree)
    problems = [
        f"imports {name}"
        for name in modules
        if name.split(".")[0] in IO_MODULES or name in IO_SUBMODULES
    ]
    uses_resources = any(name.startswith("importlib.resources") for name in modules)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id in ("open", "exec", "eval"):
            problems.append(f"calls {function.id}() on line {node.lineno}")
        elif (
            isinstance(function, ast.Attribute)
            and function.attr in FILE_METHODS
            and not uses_resources
        ):
            problems.append(f"calls .{function.attr}() on line {node.lineno}")
    return problems


@pytest.mark.spec("Kula STYLE §1: protocol/ is pure")
def test_importing_every_protocol_module_loads_no_server_code() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    report = json.loads(completed.stdout)
    modules_on_disk = {
        ".".join(path.relative_to(REPOSITORY).with_suffix("").parts).removesuffix(".__init__")
        for path in _python_files()
    }
    assert modules_on_disk <= set(report["imported"])
    assert not set(FORBIDDEN_MODULES) & set(report["loaded"])


@pytest.mark.spec("Kula STYLE §1: protocol/ is pure")
def test_importing_the_package_alone_stays_light() -> None:
    probe = (
        "import json, sys, protocol;"
        "print(json.dumps(sorted(m for m in ('pyld', 'jsonschema_rs', 'jsonschema',"
        " 'http_sfv', 'protocol.httpsig', 'protocol.normalize') if m in sys.modules)))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPOSITORY, capture_output=True, text=True, check=True, timeout=60,
    )
    assert json.loads(completed.stdout) == []


@pytest.mark.spec("Kula STYLE §1: protocol/ is pure")
def test_no_protocol_file_imports_io_modules_or_opens_files() -> None:
    violations = {
        str(path.relative_to(REPOSITORY)): problems
        for path in _python_files()
        if (problems := _io_violations(path))
    }
    assert violations == {}


@pytest.mark.spec("Kula STYLE §1: protocol/ is pure")
@pytest.mark.parametrize(
    "source",
    [
        "import aiohttp\n",
        "from node.app import create_app\n",
        "import aiosqlite as db\n",
        "import socket\n",
        "from urllib.request import urlopen\n",
        "with open('x') as f:\n    pass\n",
        "from pathlib import Path\nPath('x').read_text()\n",
    ],
)
def test_the_static_check_catches_io(tmp_path: Path, source: str) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(source, encoding="utf-8")
    assert _io_violations(sample)


@pytest.mark.spec("Kula STYLE §10: package data loads through importlib.resources")
def test_the_static_check_allows_package_resources(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from importlib import resources\n"
        "text = resources.files('protocol').joinpath('SPEC.md').read_text()\n"
        "from urllib.parse import urlsplit\n",
        encoding="utf-8",
    )
    assert _io_violations(sample) == []


def _loads_pyld(path: Path) -> bool:
    """Whether a file imports pyld, by statement or by ``import_module("pyld...")``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if any(name.split(".")[0] == "pyld" for name in _imported_modules(tree)):
        return True
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and getattr(node.func, "attr", getattr(node.func, "id", None))
        in ("import_module", "__import__")
        and any(
            isinstance(arg, ast.Constant) and str(arg.value).split(".")[0] == "pyld"
            for arg in node.args
        )
        for node in ast.walk(tree)
    )


@pytest.mark.spec("Kula STYLE §1: protocol/ is pure")
def test_only_the_jsonld_module_imports_pyld() -> None:
    # pyld picks an HTTP client when first imported; protocol.jsonld hides them first.
    importers = {str(p.relative_to(REPOSITORY)) for p in _python_files() if _loads_pyld(p)}
    assert importers == {"protocol/jsonld.py"}
