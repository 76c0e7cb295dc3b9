"""Tests with the real embedding model: few and quick (the model loads once per session)."""

from __future__ import annotations

import numpy as np
import pytest

from alliance.coding.coder import Coder
from alliance.coding.embedder import MODEL_NAME
from alliance.coding.heads import load_heads, load_rule_precision
from alliance.coding.report import build_report, validate_report
from alliance.coding.rules import RuleSet

pytestmark = pytest.mark.model


def test_packaged_model_verifies_loads_and_gives_unit_vectors(real_embedder) -> None:
    assert real_embedder.name == MODEL_NAME and real_embedder.dimension == 384
    v = real_embedder.encode(["I don't know.", "Let's look at this together."])
    assert v.shape == (2, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    # semantically close sentences are closer than unrelated ones
    a, b, c = real_embedder.encode(["You never listen to me.", "You don't hear what I say.",
                                    "The bus was late this morning."])
    assert a @ b > a @ c


def test_hybrid_report_validates_and_codes_clear_cases(real_embedder, session) -> None:
    coder = Coder(RuleSet(precision=load_rule_precision()), real_embedder, load_heads())
    report = build_report(coder.code(session))
    validate_report(report)
    assert report["coder"]["mode"] == "hybrid" and report["coder"]["model"] == MODEL_NAME
    by_index = {u["index"]: {c["code"] for c in u["codes"]} for u in report["utterances"]}
    assert "withdrawal.minimal_response" in by_index[1]
    assert "repair.name_rupture" in by_index[2] or "repair.invite_feedback" in by_index[2]
    assert "collaboration.we_language" in by_index[4]
    assert report["episodes"] and report["episodes"][0]["marker_index"] == 1
