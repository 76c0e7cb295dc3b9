"""The docstring examples of the training package run and hold."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import alliance.training

MODULES = sorted(m.name for m in pkgutil.iter_modules(alliance.training.__path__,
                                                     "alliance.training."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
