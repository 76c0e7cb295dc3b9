"""The sentence encoder run by ONNX Runtime, built from the verified weights (no torch).

The model's ``model.safetensors`` is read once, its sha256 checked on those very bytes,
and a BERT encoder graph is assembled from the tensors in memory: embeddings and their
layer norm, then per layer a fused self-attention (``com.microsoft.Attention``: one
query/key/value matrix product, softmax over the unpadded tokens), ``BiasGelu`` for the
feed-forward block and ``SkipLayerNormalization`` for each residual. Mean pooling over the
real tokens and unit-normalisation close the graph, as the model's sentence-transformers
configuration (``modules.json``: Transformer, mean Pooling, Normalize) prescribes. Texts are
tokenised with the model's own ``tokenizer.json`` (truncated at ``max_seq_length``), sorted
by length and run in small batches, so hardly any work goes into padding.

The result equals sentence-transformers' embeddings of the same model to float rounding
(tested on the whole labelled corpus: cosine >= 0.99999), while loading in well under a
second instead of the ten it takes to import torch, transformers and sentence-transformers,
and encoding 1.3-1.5 times as fast on two CPU cores (``benchmarks/bench_coding.py``).

Only the architecture all-MiniLM-L6-v2 has is supported: BERT with absolute positions and
GELU, mean pooling. Anything else raises :class:`~alliance.errors.ModelError`, which names
the sentence-transformers encoder as the way to use such a model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alliance.errors import ModelError

#: Tokens per batch (padding included) after sorting texts by length. Measured on 2 cores
#: with a 500-utterance session: 128-512 are equally fast (1.46-1.48 s); 1,024 and more pad
#: and attend over longer rows (1.68-1.79 s); fixed batches of 8-32 texts took 1.61-1.71 s.
TOKENS_PER_BATCH = 256
_OPSET = 17
_MS_DOMAIN = "com.microsoft"


@dataclass(frozen=True)
class BertShape:
    """What the graph needs to know of a BERT checkpoint (from its ``config.json``)."""

    layers: int
    hidden: int
    heads: int
    intermediate: int
    layer_norm_eps: float
    max_positions: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any], origin: str) -> BertShape:
        problems = []
        if config.get("model_type") != "bert":
            problems.append(f"model_type {config.get('model_type')!r} (needs 'bert')")
        if config.get("hidden_act", "gelu") != "gelu":
            problems.append(f"hidden_act {config.get('hidden_act')!r} (needs 'gelu')")
        if config.get("position_embedding_type", "absolute") != "absolute":
            problems.append("position_embedding_type "
                            f"{config.get('position_embedding_type')!r} (needs 'absolute')")
        if problems:
            raise ModelError(f"{origin}: the ONNX encoder does not support "
                             f"{'; '.join(problems)}; set ALLIANCE_ENCODER=sentence-transformers "
                             "to run this model with sentence-transformers")
        try:
            shape = cls(int(config["num_hidden_layers"]), int(config["hidden_size"]),
                        int(config["num_attention_heads"]), int(config["intermediate_size"]),
                        float(config.get("layer_norm_eps", 1e-12)),
                        int(config["max_position_embeddings"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{origin}: incomplete BERT configuration ({exc})") from None
        if shape.hidden % shape.heads:
            raise ModelError(f"{origin}: hidden_size {shape.hidden} is not a multiple of "
                             f"num_attention_heads {shape.heads}")
        return shape


def _read_json(path: Path, expect: type = dict) -> Any:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: missing; not a sentence-transformers model folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: unreadable ({exc})") from None
    if not isinstance(data, expect):
        raise ModelError(f"{path}: expected a JSON {'list' if expect is list else 'object'}")
    return data


def check_pipeline(directory: Path) -> int:
    """The sentence-transformers modules must be Transformer → mean Pooling (→ Normalize).

    Returns the maximum sequence length in tokens.
    """
    modules_file = directory / "modules.json"
    if modules_file.is_file():
        kinds = [str(m.get("type", "")).rsplit(".", 1)[-1]
                 for m in _read_json(modules_file, list) if isinstance(m, dict)]
        if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
            raise ModelError(f"{modules_file}: modules {kinds} are not Transformer, Pooling "
                             "[, Normalize]; set ALLIANCE_ENCODER=sentence-transformers to run "
                             "this model with sentence-transformers")
    pooling_file = directory / "1_Pooling" / "config.json"
    if pooling_file.is_file():
        pooling = _read_json(pooling_file)
        modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v)
        if modes != ["pooling_mode_mean_tokens"]:
            raise ModelError(f"{pooling_file}: pooling {modes} is not mean pooling; set "
                             "ALLIANCE_ENCODER=sentence-transformers to run this model")
    bert_config = directory / "sentence_bert_config.json"
    if bert_config.is_file():
        value = _read_json(bert_config).get("max_seq_length")
        if isinstance(value, int) and value > 0:
            return value
    return 512


def bert_weights(blob: bytes, shape: BertShape, origin: str) -> dict[str, np.ndarray]:
    """The tensors of a BERT checkpoint, laid out for the graph (linear weights transposed)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        raw = load(blob)
    except (SafetensorError, ValueError) as exc:
        raise ModelError(f"{origin}: not a readable safetensors file ({exc})") from None
    prefix = "bert." if any(k.startswith("bert.") for k in raw) else ""

    def get(name: str) -> np.ndarray:
        try:
            return np.ascontiguousarray(raw[prefix + name], dtype=np.float32)
        except KeyError:
            raise ModelError(f"{origin}: tensor {prefix + name!r} missing") from None

    w = {
        "word": get("embeddings.word_embeddings.weight"),
        "position": get("embeddings.position_embeddings.weight"),
        "token_type0": get("embeddings.token_type_embeddings.weight")[0],
        "emb_ln_w": get("embeddings.LayerNorm.weight"),
        "emb_ln_b": get("embeddings.LayerNorm.bias"),
    }
    for i in range(shape.layers):
        p = f"encoder.layer.{i}."
        a = p + "attention."
        w[f"l{i}.qkv_w"] = np.ascontiguousarray(np.concatenate(
            [get(a + f"self.{n}.weight") for n in ("query", "key", "value")]).T)
        w[f"l{i}.qkv_b"] = np.concatenate([get(a + f"self.{n}.bias")
                                          for n in ("query", "key", "value")])
        w[f"l{i}.attn_out_w"] = np.ascontiguousarray(get(a + "output.dense.weight").T)
        w[f"l{i}.attn_out_b"] = get(a + "output.dense.bias")
        w[f"l{i}.attn_ln_w"] = get(a + "output.LayerNorm.weight")
        w[f"l{i}.attn_ln_b"] = get(a + "output.LayerNorm.bias")
        w[f"l{i}.inter_w"] = np.ascontiguousarray(get(p + "intermediate.dense.weight").T)
        w[f"l{i}.inter_b"] = get(p + "intermediate.dense.bias")
        w[f"l{i}.out_w"] = np.ascontiguousarray(get(p + "output.dense.weight").T)
        w[f"l{i}.out_b"] = get(p + "output.dense.bias")
        w[f"l{i}.out_ln_w"] = get(p + "output.LayerNorm.weight")
        w[f"l{i}.out_ln_b"] = get(p + "output.LayerNorm.bias")
    expected = {"word": (None, shape.hidden), "position": (shape.max_positions, shape.hidden),
                "l0.qkv_w": (shape.hidden, 3 * shape.hidden),
                "l0.inter_w": (shape.hidden, shape.intermediate)}
    for name, dims in expected.items():
        got = w[name].shape
        if len(got) != 2 or any(d is not None and d != g for d, g in zip(dims, got, strict=True)):
            raise ModelError(f"{origin}: tensor {name} has shape {got}, the configuration "
                             f"implies {dims}")
    return w


def build_graph(w: Mapping[str, np.ndarray], shape: BertShape) -> Any:
    """An ONNX model: (input_ids int64 [B,S], attention_mask int64 [B,S]) -> unit vectors."""
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits = [numpy_helper.from_array(v, name) for name, v in w.items()]

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain,
                                      **attrs))
        return output

    eps = shape.layer_norm_eps
    i64 = np.int64
    # embeddings: word + position + token type 0, then layer norm
    seq = node("Gather", [node("Shape", ["input_ids"], "ids_shape"),
                          const("one_i64", np.array(1, i64))], "seq_len")
    positions = node("Range", [const("zero_i64", np.array(0, i64)), seq,
                               const("step_i64", np.array(1, i64))], "positions")
    x = node("Add", [node("Gather", ["word", "input_ids"], "emb_word"),
                     node("Gather", ["position", positions], "emb_pos")], "emb_sum")
    x = node("Add", [x, "token_type0"], "emb_all")
    x = node("LayerNormalization", [x, "emb_ln_w", "emb_ln_b"], "emb_out", axis=-1,
             epsilon=eps)
    mask32 = node("Cast", ["attention_mask"], "mask_i32", to=TensorProto.INT32)
    for i in range(shape.layers):
        p = f"l{i}."
        attn = node("Attention", [x, p + "qkv_w", p + "qkv_b", mask32], p + "attn",
                    domain=_MS_DOMAIN, num_heads=shape.heads)
        proj = node("MatMul", [attn, p + "attn_out_w"], p + "attn_proj")
        x = node("SkipLayerNormalization", [proj, x, p + "attn_ln_w", p + "attn_ln_b",
                                            p + "attn_out_b"], p + "attn_out",
                 domain=_MS_DOMAIN, epsilon=eps)
        inter = node("BiasGelu", [node("MatMul", [x, p + "inter_w"], p + "inter_mm"),
                                  p + "inter_b"], p + "inter", domain=_MS_DOMAIN)
        out = node("MatMul", [inter, p + "out_w"], p + "out_mm")
        x = node("SkipLayerNormalization", [out, x, p + "out_ln_w", p + "out_ln_b",
                                            p + "out_b"], p + "out", domain=_MS_DOMAIN,
                 epsilon=eps)
    # mean over the real tokens, then unit length
    weights = node("Unsqueeze", [node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT),
                                 const("last_axis", np.array([-1], i64))], "mask_w")
    axis1 = const("axis1", np.array([1], i64))
    total = node("ReduceSum", [node("Mul", [x, weights], "masked"), axis1], "token_sum",
                 keepdims=0)
    count = node("Max", [node("ReduceSum", [weights, axis1], "token_count", keepdims=0),
                         const("min_count", np.array(1e-9, np.float32))], "token_count_safe")
    mean = node("Div", [total, count], "mean")
    norm = node("Max", [node("ReduceL2", [mean], "l2", axes=[-1], keepdims=1),
                        const("min_norm", np.array(1e-12, np.float32))], "l2_safe")
    node("Div", [mean, norm], "embedding")

    graph = helper.make_graph(
        nodes, "sentence_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT,
                                       ["batch", shape.hidden])],
        inits)
    return helper.make_model(graph, producer_name="alliance", opset_imports=[
        helper.make_opsetid("", _OPSET), helper.make_opsetid(_MS_DOMAIN, 1)])


class OnnxEmbedder:
    """Unit-length sentence embeddings from the graph above, run by ONNX Runtime on the CPU."""

    def __init__(self, session: Any, tokenizer: Any, name: str, dimension: int,
                 runtime: str, tokens_per_batch: int = TOKENS_PER_BATCH) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self.name = name
        self.dimension = dimension
        self.runtime = runtime
        self.tokens_per_batch = tokens_per_batch

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._run([e.ids for e in self._tokenizer.encode_batch([str(t) for t in texts])])

    def encode_pairs(self, firsts: Sequence[str | None], seconds: Sequence[str]) -> np.ndarray:
        """One vector per pair, read as ``[CLS] first [SEP] second [SEP]`` (a cross-encoder's
        input; every token keeps token type 0, as in :func:`build_graph`); a pair whose first
        text is ``None`` or empty is the second text alone. When the two are too long
        together, the longer is truncated first."""
        if len(firsts) != len(seconds):
            raise ModelError("encode_pairs needs one first text (or None) per second text")
        if not seconds:
            return np.zeros((0, self.dimension), dtype=np.float32)
        inputs: list[Any] = [(str(a), str(b)) if a else str(b)
                             for a, b in zip(firsts, seconds, strict=True)]
        return self._run([e.ids for e in self._tokenizer.encode_batch(inputs)])

    def _run(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        for rows in batches(lengths, self.tokens_per_batch):
            width = int(lengths[rows[-1]])
            batch = np.zeros((len(rows), width), dtype=np.int64)
            for r, j in enumerate(rows):
                batch[r, :lengths[j]] = ids[j]
            mask = (np.arange(width) < lengths[rows][:, None]).astype(np.int64)
            out[rows] = self._session.run(["embedding"], {"input_ids": batch,
                                                          "attention_mask": mask})[0]
        return out


def batches(lengths: np.ndarray, tokens_per_batch: int) -> list[np.ndarray]:
    """Indices grouped by ascending length, each group padded to at most the token budget.

    A text longer than the budget goes alone; every index appears exactly once.
    """
    order = np.argsort(lengths, kind="stable")
    groups: list[np.ndarray] = []
    start = 0
    for k in range(1, len(order) + 1):
        if k == len(order) or (k - start + 1) * lengths[order[k]] > tokens_per_batch:
            groups.append(order[start:k])
            start = k
    return groups


def execution_providers(available: Sequence[str]) -> list[str]:
    """The ONNX Runtime providers to run the encoder on: CUDA first when the installed
    runtime offers it (the ``onnxruntime-gpu`` package on a machine with a GPU), else the CPU.

    The CPU stays listed after CUDA, so any node CUDA lacks runs there. With no accelerator
    the result is exactly ``["CPUExecutionProvider"]``, what the encoder always used; the GPU
    path's speed is unmeasured here (no GPU was available when it was written).

    >>> execution_providers(["AzureExecutionProvider", "CPUExecutionProvider"])
    ['CPUExecutionProvider']
    >>> execution_providers(["CUDAExecutionProvider", "CPUExecutionProvider"])
    ['CUDAExecutionProvider', 'CPUExecutionProvider']
    """
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def load_onnx_embedder(directory: Path, blob: bytes, name: str,
                       threads: int | None = None,
                       adapt: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]
                       | None = None, spin: bool = True) -> OnnxEmbedder:
    """Build the encoder from a model folder whose weights ``blob`` were already verified.

    ``adapt`` receives the weights laid out for the graph (see :func:`bert_weights`) and
    returns the ones to build it from: a fine-tuned reader's low-rank update, for instance
    (:mod:`alliance.training.reader`). ``spin=False`` stops ONNX Runtime's worker threads
    from busy-waiting after each run: a second session used in turn with the first (the
    reader after the coder's encoder) would otherwise compete with the first's spinning
    threads on a small machine."""
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ModelError(f"the ONNX encoder needs onnxruntime, onnx, tokenizers and "
                         f"safetensors ({exc}); install alliance[model] or use "
                         "--rules-only") from None
    origin = str(directory)
    shape = BertShape.from_config(_read_json(directory / "config.json"), origin)
    max_tokens = min(check_pipeline(directory), shape.max_positions)
    weights = bert_weights(blob, shape, str(directory / "model.safetensors"))
    if adapt is not None:
        weights = adapt(weights)
    tokenizer_file = directory / "tokenizer.json"
    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
    except Exception as exc:  # the tokenizers library raises plain Exception subclasses
        raise ModelError(f"{tokenizer_file}: cannot load the tokenizer ({exc})") from None
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_tokens)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(build_graph(weights, shape).SerializeToString(),
                                       options, providers=execution_providers(
                                           ort.get_available_providers()))
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"{origin}: ONNX Runtime cannot build the encoder ({exc})") from None
    return OnnxEmbedder(session, tokenizer, name, shape.hidden,
                        f"onnxruntime {ort.__version__}")
