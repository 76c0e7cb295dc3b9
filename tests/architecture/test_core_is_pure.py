"""The domain core stays pure: no database, web, CLI or batch imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "alliance"
CORE = ["instruments", "monitoring", "coding", "training", "transcripts", "outcome"]
FORBIDDEN = ("alliance.store", "alliance.web", "alliance.cli", "alliance.batch", "sqlalchemy",
             "alembic", "fastapi", "starlette", "uvicorn", "click", "psycopg")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


CORE_FILES = [p for pkg in CORE if (SRC / pkg).is_dir() for p in sorted((SRC / pkg).rglob("*.py"))]


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(SRC)))
def test_domain_core_module_imports_no_adapter(path: Path) -> None:
    bad = {name for name in imports_of(path)
           if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_cli_help_imports_neither_torch_nor_the_web_stack() -> None:
    code = ("import sys; from click.testing import CliRunner; from alliance.cli import main; "
            "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0; "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'fastapi', "
            "'sqlalchemy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
