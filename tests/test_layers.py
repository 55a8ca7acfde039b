"""The architecture's directions, checked on every import statement (STYLE: make them checkable).

flows/ is the pure core: standard library only (plus phonenumbers, a pure computation library),
no I/O modules, nothing from the outer layers. Only storage/ talks to the database; handlers/
never import the composition layer (bot/) or each other.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = {"flows", "storage", "handlers", "bot"}
IO_MODULES = {
    "asyncio", "socket", "sqlite3", "subprocess", "urllib", "http", "ssl", "select", "shutil",
    "os", "io", "pathlib", "logging", "random", "uuid", "time", "tempfile", "zoneinfo",
}  # fmt: skip
DATABASE = {"sqlalchemy", "aiosqlite", "asyncpg", "alembic"}


def imports_of(package: str) -> list[tuple[str, str]]:
    """(file, top-level module) for every import in a package."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name.split(".")[0]) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path.name, node.module.split(".")[0]))
    return found


def test_flows_is_pure() -> None:
    allowed_third_party = {"phonenumbers"}
    for file, module in imports_of("flows"):
        assert module not in IO_MODULES, f"flows/{file} imports {module}"
        assert module not in PROJECT - {"flows"}, f"flows/{file} imports {module}"
        known = sys.stdlib_module_names | allowed_third_party | {"flows"}
        assert module in known, f"flows/{file} imports third-party {module}"


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("storage", {"bot", "handlers"}),
        ("handlers", {"bot", "storage"} | DATABASE),
        ("bot", DATABASE),
    ],
    ids=["storage", "handlers", "bot"],
)
def test_dependencies_point_inward(package: str, forbidden: set[str]) -> None:
    bad = [(f, m) for f, m in imports_of(package) if m in forbidden]
    assert not bad, f"{package} imports {bad}"
