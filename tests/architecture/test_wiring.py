"""The clinic is wired from one place (issue 9): no import cycle, no SQL in the web layer, and
only the composition root reads the environment. Run: ``python -m pytest tests/architecture``."""

from __future__ import annotations

import ast

from tests.architecture.imports import SRC, cycles, graph, imported_names, modules

# Modules outside the clinic slice that still read the environment themselves; each is
# named here with its reason, so a new reader anywhere else fails this test.
KNOWN_READERS = {
    "alliance.coding.embedder": "ALLIANCE_ENCODER / model path of the coder (coding slice)",
    "alliance.interop.specfiles": "the deployer folder when no directory is passed "
                                  "(`alliance instruments`; the clinic passes it)",
    "alliance.cli.monitoring": "BROWSER_PATH for `alliance monitor plot --open`",
}
COMPOSITION_ROOT = "alliance.clinic"


def test_no_import_cycle_among_modules() -> None:
    assert cycles(graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_web_imports_no_sqlalchemy() -> None:
    bad = {name: sorted({t for t, _ in imported_names(path)
                         if t == "sqlalchemy" or t.startswith("sqlalchemy.")})
           for name, path in modules().items() if name.startswith("alliance.web")}
    assert {k: v for k, v in bad.items() if v} == {}


def _reads_environment(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in ("environ", "getenv", "environb")
    if isinstance(node, ast.ImportFrom) and node.module == "os":
        return any(a.name in ("environ", "getenv") for a in node.names)
    return False


def _environment_reads(tree: ast.AST) -> list[int]:
    return [node.lineno for node in ast.walk(tree) if _reads_environment(node)]  # type: ignore[attr-defined]


def test_nothing_but_the_composition_root_reads_the_environment() -> None:
    readers = {}
    for name, path in modules().items():
        lines = _environment_reads(ast.parse(path.read_text(encoding="utf-8")))
        if lines and name != COMPOSITION_ROOT and name not in KNOWN_READERS:
            readers[name] = lines
    assert readers == {}, "read settings through alliance.clinic.Settings instead"


def test_the_known_readers_still_exist() -> None:
    """An exception that is no longer needed is removed from the list."""
    known = modules()
    for name in KNOWN_READERS:
        assert name in known and _environment_reads(ast.parse(
            known[name].read_text(encoding="utf-8"))), f"{name} no longer reads os.environ"


def test_routes_do_not_import_each_other_or_the_app() -> None:
    edges = graph()
    for name, deps in edges.items():
        if name.startswith("alliance.web.routes."):
            bad = {d for d in deps if d == "alliance.web.app" or
                   d.startswith("alliance.web.routes.")}
            assert not bad, f"{name} imports {sorted(bad)}"


def test_source_folder_is_where_the_graph_looks() -> None:
    assert (SRC / "clinic.py").is_file()
