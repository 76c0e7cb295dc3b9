"""Delivery is an adapter over the core: it never reaches into the store, web app or CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import alliance.delivery

PACKAGE = Path(alliance.delivery.__file__).parent
FORBIDDEN = ("alliance.store", "alliance.web", "alliance.cli", "alliance.batch",
             "alliance.worker", "alliance.clinic", "alliance.testing", "sqlalchemy", "fastapi")


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_delivery_module_imports_no_store_web_or_cli(path: Path) -> None:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    bad = {n for n in found if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_public_surface_is_sorted_and_importable() -> None:
    names = alliance.delivery.__all__
    assert names == sorted(set(names))
    assert all(hasattr(alliance.delivery, n) for n in names)
