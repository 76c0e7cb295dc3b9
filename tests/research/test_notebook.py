"""The example research notebook runs from top to bottom (nbclient, small data)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).parents[2] / "examples"
SRC = Path(__file__).parents[2] / "src"


@pytest.mark.slow
def test_research_notebook_executes(monkeypatch: pytest.MonkeyPatch) -> None:
    # the kernel imports this tree's alliance, whether or not it is installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p))
    notebook = nbformat.read(EXAMPLES / "research.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code"
               for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    figure = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figure) == 2, "the reliability and alliance-outcome figures are Plotly figures"
    tables = [o for o in outputs if "text/html" in o.get("data", {})
              and "<table" in o["data"]["text/html"]]
    assert len(tables) >= 5  # DataFrames render as tables
