"""The examples in the batch modules' docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["alliance.batch.chunks", "alliance.batch.monitor",
                                  "alliance.coding.onnx_encoder"])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_every_batch_command_has_a_step() -> None:
    from alliance.batch import COMMANDS, StepSpec, build_step
    from alliance.errors import BatchError

    options = {"score": {"instrument": "alliance-12"}, "monitor": {},
               "analyze": {"rules_only": True}}
    for command in COMMANDS:
        step = build_step(StepSpec(command, options[command]))
        assert callable(step) and step.default_chunk_rows > 0
    with pytest.raises(BatchError, match="unknown batch command"):
        build_step(StepSpec("plot"))
