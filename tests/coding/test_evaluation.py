from __future__ import annotations

import json
import math
from pathlib import Path

from alliance.coding.coder import Coder
from alliance.coding.corpus import load_corpus
from alliance.coding.evaluation import CodeScore, episode_agreement, evaluate


def test_code_score_hand_computed() -> None:
    s = CodeScore("x", tp=3, fp=1, fn=2)
    assert s.precision == 0.75 and s.recall == 0.6
    assert math.isclose(s.f1, 2 * 0.75 * 0.6 / 1.35)
    assert CodeScore("y", 0, 0, 0).f1 == 0.0


def _corpus(root: Path) -> Path:
    (root / "sessions").mkdir(parents=True)
    session = {
        "id": "t1", "modality": "individual", "split": "test", "description": "",
        "utterances": [
            {"speaker": "T", "role": "therapist", "text": "What was it like for you?",
             "codes": []},
            {"speaker": "C", "role": "client", "text": "I don't know.",
             "codes": ["withdrawal.minimal_response"]},
            {"speaker": "T", "role": "therapist", "text": "Let's slow down together.",
             "codes": ["repair.renegotiate"]},
            {"speaker": "C", "role": "client", "text": "Okay, it was mostly about my sister.",
             "codes": []},
        ],
        "episodes": [{"marker_index": 1, "marker_code": "withdrawal.minimal_response",
                      "repair_indices": [2], "threat_indices": [],
                      "resolution": "resolved"}],
    }
    (root / "sessions" / "t1.json").write_text(json.dumps(session), encoding="utf-8")
    return root


def test_evaluate_counts_per_code_and_family_confusion(tmp_path) -> None:
    corpus = load_corpus(_corpus(tmp_path))
    ev = evaluate(corpus, Coder(), "test")
    assert ev.turns == 4
    minimal = ev.codes["withdrawal.minimal_response"]
    assert (minimal.tp, minimal.fp, minimal.fn) == (1, 0, 0)
    # "Let's slow down" is a renegotiation (gold) and we-language (not gold here)
    assert (ev.codes["repair.renegotiate"].tp, ev.codes["repair.renegotiate"].fn) == (1, 0)
    assert (ev.codes["collaboration.we_language"].fp) == 1
    assert ev.family_macro_f1("withdrawal") == 1.0
    assert ev.family_macro_f1("threat") is None  # no support in this split
    assert ev.confusion["repair"]["repair"] == 1
    assert ev.confusion["repair"]["collaboration"] == 1
    assert ev.confusion["none"]["none"] == 2


def test_episode_agreement_on_annotated_sessions(tmp_path) -> None:
    corpus = load_corpus(_corpus(tmp_path))
    agreement = episode_agreement(corpus, Coder(), "test")
    assert agreement["annotated_episodes"] == 1
    assert agreement["gold_codes"]["resolution_agreement"] == 1.0
    assert agreement["predicted_codes"]["marker_recall"] == 1.0
