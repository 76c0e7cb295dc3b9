from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alliance.coding import trainer
from alliance.coding.coder import Coder
from alliance.coding.corpus import load_corpus
from alliance.coding.heads import load_heads, load_rule_precision
from alliance.coding.rules import RuleSet
from alliance.errors import CodingError

TURNS = {
    "withdrawal.self_criticism": ["I'm useless at everything.", "I always mess it up.",
                                  "I'm such a failure.", "Nothing will ever change for me.",
                                  "I'm broken, useless."],
    "": ["It was a long week, my sister stayed and we argued about the kids.",
         "I tried the breathing and it helped a bit on Tuesday night.",
         "Work is stressful but I handled the meeting better than last time.",
         "I talked to my mum on the phone and it went okay actually.",
         "I slept better after I stopped checking my phone in bed."],
}


def tiny_corpus(root: Path) -> Path:
    (root / "snippets").mkdir(parents=True)
    lines = []
    k = 0
    for split in ("train", "train", "dev", "test"):
        for code, texts in TURNS.items():
            for t in texts:
                k += 1
                lines.append({"id": f"s{k}", "group": f"g-{split}", "split": split,
                              "context": [{"role": "therapist",
                                           "text": "What was this week like for you?"}],
                              "role": "client", "text": t + ("" if split == "train" else " "),
                              "codes": [code] if code else [], "note": ""})
    (root / "snippets" / "t.jsonl").write_text("\n".join(json.dumps(x) for x in lines),
                                               encoding="utf-8")
    return root


def test_training_is_reproducible_and_artifacts_round_trip(tmp_path, fake_embedder) -> None:
    corpus = load_corpus(tiny_corpus(tmp_path / "corpus"))
    a = trainer.train(corpus, fake_embedder, seed=7)
    b = trainer.train(corpus, fake_embedder, seed=7)
    assert a.heads.codes == ("withdrawal.self_criticism",)
    assert np.array_equal(a.heads.weights, b.heads.weights)
    assert np.array_equal(a.heads.length_directions, b.heads.length_directions)
    trainer.save(a, tmp_path / "heads")
    loaded = load_heads(tmp_path / "heads")
    assert loaded.codes == a.heads.codes
    assert np.allclose(loaded.weights, a.heads.weights, atol=1e-6)
    assert loaded.manifest["seed"] == 7
    assert loaded.manifest["corpus_sha256"] == corpus.data_hash
    assert np.allclose(loaded.length_directions, a.heads.length_directions, atol=1e-6)
    assert "minimal.dont_know" in load_rule_precision(tmp_path / "heads")


def test_minimal_response_has_no_head_and_length_is_projected_out(tmp_path,
                                                                   fake_embedder) -> None:
    root = tiny_corpus(tmp_path / "corpus")
    extra = [{"id": f"m{k}", "group": f"m-{split}", "split": split,
              "context": [{"role": "therapist", "text": "What was this week like for you?"}],
              "role": "client", "text": t, "codes": ["withdrawal.minimal_response"],
              "note": ""}
             for k, (split, t) in enumerate([("train", "Dunno."), ("train", "Whatever."),
                                             ("train", "I guess."), ("dev", "Not sure."),
                                             ("test", "Fine.")])]
    (root / "snippets" / "m.jsonl").write_text("\n".join(json.dumps(x) for x in extra),
                                               encoding="utf-8")
    result = trainer.train(load_corpus(root), fake_embedder, seed=7)
    assert "withdrawal.minimal_response" not in result.heads.codes
    assert "withdrawal.minimal_response" in result.skipped
    length = result.heads.manifest["length"]
    assert length["heldout_r2_log_words"]["after"] <= length["heldout_r2_log_words"]["before"]


def test_hybrid_coder_with_injected_embedder_gives_calibrated_codes(tmp_path,
                                                                   fake_embedder,
                                                                   transcript_of) -> None:
    corpus = load_corpus(tiny_corpus(tmp_path / "corpus"))
    result = trainer.train(corpus, fake_embedder, seed=7)
    coder = Coder(RuleSet(), fake_embedder, result.heads)
    assert coder.mode == "hybrid"
    coded = coder.code(transcript_of([("T", "What was this week like for you?"),
                                      ("C", "I'm such a failure, I always mess it up.")]))
    codes = coded[1].codes
    assert [c.code for c in codes] == ["withdrawal.self_criticism"]
    assert 0 <= codes[0].confidence <= 1 and codes[0].evidence


def test_missing_heads_is_a_coding_error(tmp_path) -> None:
    with pytest.raises(CodingError, match="no trained heads"):
        load_heads(tmp_path)


def test_heads_with_mismatched_arrays_are_refused(tmp_path, fake_embedder) -> None:
    corpus = load_corpus(tiny_corpus(tmp_path / "corpus"))
    trainer.save(trainer.train(corpus, fake_embedder), tmp_path / "heads")
    with np.load(tmp_path / "heads" / "heads.npz") as z:
        arrays = dict(z)
    arrays["thresholds"] = np.array([0.5, 0.5])
    np.savez(tmp_path / "heads" / "heads.npz", **arrays)
    with pytest.raises(CodingError, match="do not match"):
        load_heads(tmp_path / "heads")


def test_packaged_heads_load_and_cover_codebook_codes() -> None:
    heads = load_heads()
    assert heads.manifest["model_sha256"].startswith("53aa5117")
    assert len(heads.codes) >= 25
    assert np.all((heads.thresholds > 0) & (heads.thresholds < 1))


def test_head_inputs_put_the_answered_turns_embedding_beside_the_turn() -> None:
    from alliance.coding.coder import head_inputs
    from alliance.coding.features import turn_features

    emb = np.eye(3, 4, dtype=np.float32)  # turn i -> unit vector e_i
    feats = turn_features(["T", "C", "C"], ["therapist", "client", "client"],
                          ["How was it?", "Hard.", "Really hard."])
    x = head_inputs(emb, feats, [[], [], []], ["repair.clarify"], previous_turn=True)
    assert x.shape == (3, 4 + 4 + len(feats[0].vector()) + 1)
    assert np.array_equal(x[0, 4:8], np.zeros(4))  # the first turn answers nobody
    assert np.array_equal(x[1, 4:8], emb[0])
    assert np.array_equal(x[2, 4:8], emb[0])  # answers the therapist, not itself


def test_a_dropped_context_feature_gets_no_weight(tmp_path, fake_embedder, monkeypatch) -> None:
    monkeypatch.setattr(trainer, "DROPPED_FEATURES",
                        {"withdrawal.self_criticism": ("continuity",)})
    result = trainer.train(load_corpus(tiny_corpus(tmp_path / "corpus")), fake_embedder, seed=7)
    column = fake_embedder.dimension + trainer.FEATURE_NAMES.index("continuity")
    assert result.heads.weights[0, column] == 0.0
    assert result.heads.manifest["codes"]["withdrawal.self_criticism"]["dropped_features"] == [
        "continuity"]


def test_rule_confidence_is_session_precision_shrunk_toward_all_rows() -> None:
    from types import SimpleNamespace

    def ex(conv: str, right: bool) -> trainer.Example:
        hit = SimpleNamespace(rule="advice.try", code="threat.unsolicited_advice")
        gold = frozenset({"threat.unsolicited_advice"} if right else ())
        return trainer.Example(conv, "train", "therapist", np.zeros(1), gold,
                               SimpleNamespace(hits=[hit]))  # type: ignore[arg-type]

    exs = [ex(f"snip{k}", True) for k in range(9)] + [ex("sess", False), ex("sess", False)]
    out = trainer.rule_calibration(exs, frozenset({"sess"}))["advice.try"]
    # all rows: 9 of 11 right -> (9 + 1) / (11 + 2) = 10/13; sessions: 0 of 2
    # -> (0 + 4 * 10/13) / (2 + 4) = 0.5128
    assert (out["hits"], out["correct"], out["session_hits"], out["session_correct"]) == (
        11, 9, 2, 0)
    assert out["precision"] == pytest.approx(0.5128, abs=1e-4)
    assert trainer.rule_calibration(exs)["advice.try"]["precision"] == pytest.approx(
        10 / 13, abs=1e-4)
