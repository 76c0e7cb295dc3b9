"""The encoder picks CUDA when ONNX Runtime offers it; on a CPU-only machine nothing changes.

On this project's machines there is no GPU: the tests prove that the chosen providers are
exactly the CPU the encoder always used and that its results equal a session built with the
CPU provider by hand. The same comparison holds a GPU run to fp16-size tolerance on the
confidences and identical codes at the decision thresholds, wherever a GPU is present.
"""

from __future__ import annotations

import numpy as np
import pytest

from alliance.coding.onnx_encoder import execution_providers

#: fp16-size tolerance on confidences (what a GPU run may differ by).
CONFIDENCE_TOLERANCE = 1e-3


def test_cuda_is_first_when_the_runtime_offers_it() -> None:
    assert execution_providers(["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "CUDAExecutionProvider", "CPUExecutionProvider"]


def test_without_cuda_the_cpu_alone_is_used() -> None:
    assert execution_providers(["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    assert execution_providers(["TensorrtExecutionProvider", "CPUExecutionProvider"]) == [
        "CPUExecutionProvider"]


def test_the_installed_runtime_gets_its_own_best_providers() -> None:
    ort = pytest.importorskip("onnxruntime")
    chosen = execution_providers(ort.get_available_providers())
    assert chosen[-1] == "CPUExecutionProvider"
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        assert chosen == ["CPUExecutionProvider"]


def _cpu_embedder():  # type: ignore[no-untyped-def]
    """The packaged model built by hand on the CPU provider alone (the reference)."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from alliance.coding import onnx_encoder as enc
    from alliance.coding.embedder import MODEL_NAME, read_verified_weights, resolve_model

    source = resolve_model()
    shape = enc.BertShape.from_config(enc._read_json(source.path / "config.json"), "model")
    weights = enc.bert_weights(read_verified_weights(source.path, True), shape, "model")
    tokenizer = Tokenizer.from_file(str(source.path / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(min(enc.check_pipeline(source.path), shape.max_positions))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = min(__import__("os").cpu_count() or 1, 4)
    session = ort.InferenceSession(enc.build_graph(weights, shape).SerializeToString(),
                                   options, providers=["CPUExecutionProvider"])
    return enc.OnnxEmbedder(session, tokenizer, MODEL_NAME, shape.hidden, "cpu reference")


@pytest.mark.model
def test_the_chosen_provider_codes_the_test_split_like_the_cpu() -> None:
    from alliance.coding.coder import Coder, load_coder
    from alliance.coding.corpus import load_corpus
    from alliance.coding.heads import load_heads, load_rule_precision
    from alliance.coding.rules import RuleSet

    chosen = load_coder()
    reference = Coder(RuleSet(precision=load_rule_precision()), _cpu_embedder(), load_heads())
    sessions = [s for s in load_corpus().sessions if s.split == "test"][:6]
    convs = [([t.speaker for t in s.turns], [t.role for t in s.turns],
              [t.text for t in s.turns]) for s in sessions]
    got, want = chosen.analyse(convs), reference.analyse(convs)
    n = 0
    for conv_got, conv_want in zip(got, want, strict=True):
        for a, b in zip(conv_got, conv_want, strict=True):
            assert [c.code for c in a.assigned] == [c.code for c in b.assigned]
            for code, score in b.scores.items():
                assert abs(a.scores[code] - score) <= CONFIDENCE_TOLERANCE
            n += 1
    assert n > 100
    if chosen.embedder is not None and "CUDA" not in str(
            chosen.embedder._session.get_providers()):
        texts = [t for _, _, texts in convs for t in texts]
        np.testing.assert_array_equal(chosen.embedder.encode(texts),
                                      reference.embedder.encode(texts))
