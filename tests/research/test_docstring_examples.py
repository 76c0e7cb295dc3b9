"""The docstring examples of the research modules run and give the numbers they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["alliance.instruments.multilevel", "alliance.outcome.disaggregation",
           "alliance.outcome.synthetic", "alliance.interop.fhir"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
