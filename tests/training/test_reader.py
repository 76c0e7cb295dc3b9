"""The reader (scorer v15): the low-rank update applied to the graph weights, the adapter
file, the blend with the heads, and the ONNX path against a torch reference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alliance.errors import TrainingError
from alliance.training.feedback import blend_readings
from alliance.training.reader import (
    TARGETS,
    ReaderAdapter,
    packaged_adapter_path,
    read_adapter,
)
from alliance.training.steps import STEP_NAMES
from alliance.training.verdicts import VERDICTS


def toy_adapter(rank: int = 1, hidden: int = 2, inter: int = 3) -> ReaderAdapter:
    """One layer, every factor zero except the query's and the feed-forward output's."""
    shapes = {"query": (hidden, hidden), "key": (hidden, hidden), "value": (hidden, hidden),
              "attn_out": (hidden, hidden), "inter": (inter, hidden), "out": (hidden, inter)}
    factors = {}
    for t, (out, inn) in shapes.items():
        factors[f"l0.{t}.A"] = np.zeros((rank, inn))
        factors[f"l0.{t}.B"] = np.zeros((out, rank))
    factors["l0.query.A"] = np.array([[1.0, 2.0]])  # delta = 0.5 * B @ A
    factors["l0.query.B"] = np.array([[1.0], [0.0]])
    factors["l0.out.A"] = np.array([[0.0, 0.0, 2.0]])
    factors["l0.out.B"] = np.array([[0.0], [1.0]])
    return ReaderAdapter(factors, np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2),
                         np.array([[1.0, -1.0]]), np.zeros(1),
                         {"classes": ["partial", "repair"], "steps": ["named"], "layers": 1,
                          "scale": 0.5, "feature_scale": 2.0, "blend": 0.5})


def toy_weights(hidden: int = 2, inter: int = 3) -> dict[str, np.ndarray]:
    return {"l0.qkv_w": np.zeros((hidden, 3 * hidden), np.float32),
            "l0.attn_out_w": np.zeros((hidden, hidden), np.float32),
            "l0.inter_w": np.zeros((hidden, inter), np.float32),
            "l0.out_w": np.zeros((inter, hidden), np.float32), "word": np.ones((4, hidden))}


def test_the_update_lands_transposed_in_the_graph_layout() -> None:
    w = toy_adapter().apply(toy_weights())
    # query: 0.5 * [[1], [0]] @ [[1, 2]] = [[0.5, 1.0], [0, 0]] (out x in); the graph holds
    # W.T in the first block of qkv_w
    assert w["l0.qkv_w"][:, :2].tolist() == [[0.5, 0.0], [1.0, 0.0]]
    assert not w["l0.qkv_w"][:, 2:].any()  # key and value untouched
    # out: 0.5 * [[0], [1]] @ [[0, 0, 2]] = [[0, 0, 0], [0, 0, 1]]; graph (3 x 2) = its T
    assert w["l0.out_w"].tolist() == [[0, 0], [0, 0], [0, 1]]
    assert w["word"].tolist() == toy_weights()["word"].tolist()  # the rest as it was


def test_an_update_that_does_not_fit_the_model_is_a_model_error() -> None:
    from alliance.errors import ModelError

    with pytest.raises(ModelError, match="inter update of layer 0"):
        toy_adapter(inter=4).apply(toy_weights(inter=3))
    with pytest.raises(ModelError, match="has 1 layers"):
        toy_adapter().apply({"word": np.ones((2, 2))})


def test_probabilities_are_a_softmax_and_sigmoids_of_the_scaled_vector() -> None:
    verdict, steps = toy_adapter().probabilities(np.array([[1.0, 0.0]]))
    # x = 2 * [1, 0]: logits [2, 0]; step logit 2
    assert verdict[0].tolist() == pytest.approx([np.exp(2) / (np.exp(2) + 1),
                                                 1 / (np.exp(2) + 1)])
    assert steps[0, 0] == pytest.approx(1 / (1 + np.exp(-2)))
    with pytest.raises(TrainingError, match="expects 2-dimensional"):
        toy_adapter().probabilities(np.ones((1, 3)))


def test_the_adapter_survives_a_round_trip_in_float16(tmp_path: Path) -> None:
    path = tmp_path / "reader.npz"
    toy_adapter().save(path)
    again = read_adapter(path)
    assert again.classes == ("partial", "repair") and again.steps == ("named",)
    assert again.blend == 0.5 and again.feature_scale == 2.0
    assert again.factors["l0.query.A"].dtype == np.float16
    assert np.allclose(again.delta(0, "query"), toy_adapter().delta(0, "query"))


def test_a_file_that_is_not_an_adapter_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not an npz")
    with pytest.raises(TrainingError, match="not a reader adapter"):
        read_adapter(junk)
    with pytest.raises(TrainingError, match="not a reader adapter"):
        read_adapter(tmp_path / "missing.npz")
    partial = tmp_path / "partial.npz"
    a = toy_adapter()
    np.savez(partial, verdict_w=a.verdict_w, verdict_b=a.verdict_b, step_w=a.step_w,
             step_b=a.step_b, manifest=np.array(json.dumps(dict(a.manifest))),
             **{k: v for k, v in a.factors.items() if not k.startswith("l0.value")})
    with pytest.raises(TrainingError, match="missing"):
        read_adapter(partial)


def test_the_blend_weights_the_reader_and_keeps_the_heads_class_order() -> None:
    probs, steps = blend_readings(("repair", "partial"), [0.2, 0.8], {"named": 0.4,
                                                                      "invited": 0.9},
                                  {"partial": 0.3, "repair": 0.7}, {"named": 1.0}, 0.7)
    assert probs.tolist() == pytest.approx([0.3 * 0.2 + 0.7 * 0.7, 0.3 * 0.8 + 0.7 * 0.3])
    # a step the reader lacks keeps the head's probability
    assert steps == pytest.approx({"named": 0.3 * 0.4 + 0.7, "invited": 0.9})
    same, _ = blend_readings(("repair", "partial"), [0.2, 0.8], {}, {"repair": 1.0}, {}, 0.0)
    assert same.tolist() == pytest.approx([0.2, 0.8])


def test_the_packaged_adapter_is_small_and_says_what_it_was_trained_on() -> None:
    path = packaged_adapter_path()
    assert path.stat().st_size < 1_500_000
    a = read_adapter(path)
    assert a.classes == VERDICTS and a.steps == STEP_NAMES
    assert 0 < a.blend <= 1 and a.manifest["scorer"] == "v15"
    assert {k.split(".")[1] for k in a.factors} == set(TARGETS)
    assert a.manifest["model_sha256"].startswith("53aa5117")
    assert all("fresh18" not in s and "fresh19" not in s and "fresh20" not in s
               for s in a.manifest["train_sets"])  # the clean test sets of v15


def _examples(n: int) -> list:  # type: ignore[type-arg]
    from alliance.training.reader_fit import ReaderExample
    from alliance.training.validation import load_labels, load_responses

    data = Path(__file__).parents[2] / "data" / "training"
    labs = load_labels(data / "labels-fresh10-pass1.yaml")
    return [ReaderExample(r.client, r.response, labs[r.id].verdict,
                          frozenset(labs[r.id].steps))
            for r in load_responses(data / "responses-fresh10.yaml")[:n]]


def test_training_refuses_a_single_verdict_or_an_unknown_one() -> None:
    from alliance.training.reader_fit import ReaderExample, fit_reader

    one = [ReaderExample("x", "y", "repair", frozenset())] * 3
    with pytest.raises(TrainingError, match="at least two verdicts"):
        fit_reader(one, VERDICTS, STEP_NAMES)
    odd = [*one, ReaderExample("x", "z", "excellent", frozenset())]
    with pytest.raises(TrainingError, match="excellent"):
        fit_reader(odd, VERDICTS, STEP_NAMES)


@pytest.mark.model
@pytest.mark.slow
def test_the_onnx_reader_equals_the_torch_model_with_the_update_merged(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from alliance.training.reader import load_reader
    from alliance.training.reader_fit import ReaderSettings, fit_reader, reference_probabilities

    examples = _examples(24)
    adapter = fit_reader(examples, VERDICTS, STEP_NAMES,
                         ReaderSettings(rank=2, alpha=4, epochs=1, lr=5e-3, batch=8))
    path = tmp_path / "reader.npz"
    adapter.save(path)
    saved = read_adapter(path)
    assert saved.delta(0, "query").any()  # training moved the update off zero
    clients = [e.client for e in examples[:5]] + [None]
    responses = [e.response for e in examples[:5]] + ["I think I pushed too hard."]
    verdicts, steps = load_reader(saved).read(clients, responses)
    ref_v, ref_s = reference_probabilities(saved, clients, responses)
    got_v = np.array([[row[c] for c in VERDICTS] for row in verdicts])
    got_s = np.array([[row[s] for s in STEP_NAMES] for row in steps])
    assert np.abs(got_v - ref_v).max() < 1e-4 and np.abs(got_s - ref_s).max() < 1e-4


@pytest.mark.model
def test_a_pair_is_read_together_and_a_missing_client_line_reads_the_response_alone() -> None:
    from alliance.coding.embedder import load_embedder

    enc = load_embedder()
    alone = enc.encode(["I think I pushed too hard."])  # type: ignore[attr-defined]
    pairs = enc.encode_pairs([None, "", "Didn't get to it."],  # type: ignore[attr-defined]
                             ["I think I pushed too hard."] * 3)
    assert np.allclose(pairs[0], alone[0], atol=1e-6) and np.allclose(pairs[1], alone[0],
                                                                          atol=1e-6)
    assert float(pairs[2] @ alone[0]) < 0.999  # the client line changes the reading
    from alliance.errors import ModelError

    with pytest.raises(ModelError, match="one first text"):
        enc.encode_pairs(["a"], ["b", "c"])  # type: ignore[attr-defined]


@pytest.mark.model
def test_the_scorer_blends_the_packaged_reader_and_says_so() -> None:
    from alliance.training import score_trainee_response
    from alliance.training.coders import practice_coder

    hybrid = practice_coder("hybrid")
    s = score_trainee_response("I think I pushed the sheets too hard. What has it been like "
                               "for you?", "Didn't get to it. Busy week.", coder=hybrid)
    assert "reader" in s.evidence["verdict"]
    without = score_trainee_response("I think I pushed the sheets too hard. What has it been "
                                     "like for you?", "Didn't get to it. Busy week.",
                                     coder=hybrid, reader=False)
    assert "reader" not in without.evidence["verdict"]


@pytest.mark.model
def test_the_reader_session_does_not_busy_wait_between_runs() -> None:
    from alliance.training.reader import packaged_reader

    reader = packaged_reader()
    assert reader is not None
    options = reader.encoder._session.get_session_options()
    # it runs in turn with the coder's encoder: spinning threads cost 45 ms per response
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_train_reader_says_in_words_what_is_missing_or_out_of_range(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from alliance.cli import main

    r = CliRunner().invoke(main, ["practice", "train-reader", "--data-dir", str(tmp_path),
                                  "--output", str(tmp_path / "r.npz")])
    assert r.exit_code == 1 and "labels-pass1.yaml: cannot read" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "r.npz").exists()
    bad = CliRunner().invoke(main, ["practice", "train-reader", "--blend", "1.5"])
    assert bad.exit_code == 2 and "1.5" in bad.output
