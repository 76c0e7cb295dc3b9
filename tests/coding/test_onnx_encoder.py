"""The ONNX Runtime encoder: same embeddings as sentence-transformers, clear errors otherwise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.coding.embedder import (
    MODEL_SHA256,
    choose_encoder,
    load_embedder,
    packaged_model_dir,
    read_verified_weights,
)
from alliance.coding.onnx_encoder import BertShape, batches, check_pipeline
from alliance.errors import ModelError

# --- batching -----------------------------------------------------------------------------


def test_batches_group_by_length_within_the_token_budget() -> None:
    # lengths 5, 3, 9, 3, 4 sorted: 3 (i1), 3 (i3), 4 (i4), 5 (i0), 9 (i2); budget 12:
    # [3, 3, 4] pads to 3 x 4 = 12; adding 5 would pad to 4 x 5 = 20; [5] then [9] (2 x 9 > 12)
    groups = batches(np.array([5, 3, 9, 3, 4]), 12)
    assert [g.tolist() for g in groups] == [[1, 3, 4], [0], [2]]


def test_a_text_longer_than_the_budget_goes_alone() -> None:
    groups = batches(np.array([2, 300, 2]), 256)
    assert [g.tolist() for g in groups] == [[0, 2], [1]]


@given(st.lists(st.integers(1, 300), max_size=200), st.integers(1, 1024))
def test_batches_cover_every_text_once_and_respect_the_budget(lengths: list[int],
                                                              budget: int) -> None:
    arr = np.array(lengths, dtype=np.int64)
    groups = batches(arr, budget)
    flat = [int(i) for g in groups for i in g]
    assert sorted(flat) == list(range(len(lengths)))
    for g in groups:
        assert len(g) >= 1
        assert len(g) == 1 or len(g) * arr[g].max() <= budget
        assert list(arr[g]) == sorted(arr[g])  # ascending, so the last row is the widest


# --- configuration checks (no model needed) ---------------------------------------------------


def model_copy(tmp_path: Path) -> Path:
    """The packaged model's small files, with the weights linked, in a folder we may edit."""
    src = packaged_model_dir()
    dst = tmp_path / "model"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("model.safetensors"))
    (dst / "model.safetensors").symlink_to(src / "model.safetensors")
    return dst


def edit_json(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(("change", "message"), [
    ({"model_type": "roberta"}, "model_type 'roberta'"),
    ({"hidden_act": "relu"}, "hidden_act 'relu'"),
    ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
])
def test_unsupported_architecture_names_the_reference_encoder(change, message) -> None:
    config = {"model_type": "bert", "num_hidden_layers": 6, "hidden_size": 384,
              "num_attention_heads": 12, "intermediate_size": 1536,
              "max_position_embeddings": 512, **change}
    with pytest.raises(ModelError, match=message) as info:
        BertShape.from_config(config, "cfg")
    assert "ALLIANCE_ENCODER=sentence-transformers" in str(info.value)


def test_incomplete_or_inconsistent_config_is_a_model_error() -> None:
    with pytest.raises(ModelError, match="incomplete"):
        BertShape.from_config({"model_type": "bert", "hidden_size": 384}, "cfg")
    with pytest.raises(ModelError, match="not a multiple"):
        BertShape.from_config({"model_type": "bert", "num_hidden_layers": 1, "hidden_size": 100,
                               "num_attention_heads": 12, "intermediate_size": 4,
                               "max_position_embeddings": 8}, "cfg")


def test_packaged_pipeline_is_mean_pooling_with_256_tokens() -> None:
    assert check_pipeline(packaged_model_dir()) == 256


def test_cls_pooling_is_refused(tmp_path) -> None:
    d = model_copy(tmp_path)
    edit_json(d / "1_Pooling" / "config.json", pooling_mode_mean_tokens=False,
              pooling_mode_cls_token=True)
    with pytest.raises(ModelError, match="not mean pooling"):
        check_pipeline(d)


def test_unknown_module_in_the_pipeline_is_refused(tmp_path) -> None:
    d = model_copy(tmp_path)
    modules = json.loads((d / "modules.json").read_text(encoding="utf-8"))
    modules.append({"idx": 3, "name": "3", "path": "3_Dense",
                    "type": "sentence_transformers.models.Dense"})
    (d / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    with pytest.raises(ModelError, match="not Transformer, Pooling"):
        check_pipeline(d)


def test_broken_json_in_the_model_folder_is_a_model_error(tmp_path) -> None:
    d = model_copy(tmp_path)
    (d / "modules.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=r"modules\.json: unreadable"):
        check_pipeline(d)


def test_unknown_encoder_is_a_model_error(monkeypatch) -> None:
    with pytest.raises(ModelError, match="unknown encoder 'tensorflow'"):
        choose_encoder("tensorflow")
    monkeypatch.setenv("ALLIANCE_ENCODER", "jax")
    with pytest.raises(ModelError, match="from ALLIANCE_ENCODER"):
        choose_encoder()
    monkeypatch.delenv("ALLIANCE_ENCODER")
    assert choose_encoder() == "onnx"


def test_weights_are_hashed_as_read(tmp_path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "model.safetensors").write_bytes(b"abc")
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # sha256("abc")
    assert read_verified_weights(d, True, digest) == b"abc"
    with pytest.raises(ModelError, match="does not match"):
        read_verified_weights(d, True, MODEL_SHA256)
    assert read_verified_weights(d, False) == b"abc"


def test_unreadable_weights_with_checksum_off_are_a_model_error(tmp_path) -> None:
    d = model_copy(tmp_path)
    (d / "model.safetensors").unlink()
    (d / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError, match="not a readable safetensors file"):
        load_embedder(d, verify=False, encoder="onnx")


# --- the real model ---------------------------------------------------------------------------


@pytest.mark.model
def test_onnx_embeddings_equal_sentence_transformers_across_the_corpus(
        real_embedder, reference_embedder) -> None:
    from alliance.coding.corpus import load_corpus

    corpus = load_corpus()
    texts = sorted({t.text for c in corpus.conversations for t in c.turns},
                   key=lambda t: (len(t), t))
    assert len(texts) > 2500
    # 800 texts spread evenly over the corpus sorted by length, shortest and longest
    # included (the whole corpus took six minutes of the suite on the reference encoder)
    texts = [texts[round(i * (len(texts) - 1) / 799)] for i in range(800)]
    ours = real_embedder.encode(texts)
    ref = reference_embedder.encode(texts)
    assert ours.shape == ref.shape == (len(texts), 384)
    assert float(np.abs(ours - ref).max()) < 1e-5
    assert float((ours * ref).sum(axis=1).min()) > 0.99999


@pytest.mark.model
def test_onnx_matches_the_reference_on_edge_cases(real_embedder, reference_embedder) -> None:
    long_turn = " ".join(["I kept thinking about what you said last week and"] * 60)
    texts = ["", "   ", "Mm-hmm.", "😀 ünïcödé naïve café", "A" * 3000, long_turn,
             "I don't know.", "WE SHOULD TALK ABOUT THAT!!!"]
    ours = real_embedder.encode(texts)
    ref = reference_embedder.encode(texts)
    assert float(np.abs(ours - ref).max()) < 1e-5  # truncation at 256 tokens included
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


@pytest.mark.model
def test_order_and_batching_do_not_change_a_text_s_vector(real_embedder) -> None:
    texts = ["Short.", "A much longer sentence about the week at work and at home.",
             "Medium length one here."] * 5
    together = real_embedder.encode(texts)
    alone = np.vstack([real_embedder.encode([t]) for t in texts])
    assert float(np.abs(together - alone).max()) < 1e-5
    assert real_embedder.encode([]).shape == (0, 384)


@pytest.mark.model
def test_onnx_encoder_names_its_runtime(real_embedder, reference_embedder) -> None:
    assert real_embedder.runtime.startswith("onnxruntime ")
    assert reference_embedder.runtime.startswith("sentence-transformers ")
    assert real_embedder.name == reference_embedder.name


def test_a_json_of_the_wrong_shape_is_a_model_error(tmp_path) -> None:
    d = model_copy(tmp_path)
    (d / "modules.json").write_text('{"0": "Transformer"}', encoding="utf-8")
    with pytest.raises(ModelError, match="expected a JSON list"):
        check_pipeline(d)
    (d / "modules.json").unlink()
    (d / "config.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelError, match="expected a JSON object"):
        load_embedder(d, verify=False, encoder="onnx")


def test_weights_missing_a_tensor_are_a_model_error() -> None:
    from safetensors.numpy import save

    from alliance.coding.onnx_encoder import bert_weights

    shape = BertShape(1, 4, 2, 8, 1e-12, 16)
    blob = save({"embeddings.word_embeddings.weight": np.zeros((10, 4), np.float32)})
    with pytest.raises(ModelError, match=r"tensor 'embeddings\.position_embeddings\.weight'"):
        bert_weights(blob, shape, "w.safetensors")
