"""The reader (scorer v15): the embedding model fine-tuned to read a response against the
client line it answers.

The heads of :mod:`alliance.training.head` sit on frozen sentence embeddings: the response
and its sentences are embedded alone, so what a response does *to the client line* (answers
the complaint or disputes it, reflects what was said or what was not) reaches them only
through the coder's reading. Fourteen rounds of such heads plateaued at about 0.69 verdict
accuracy on text from writers they had not seen (``docs/training.md``). The reader is
all-MiniLM-L6-v2 itself, adapted as a cross-encoder: ``[CLS] client line [SEP] response
[SEP]`` goes through the encoder together, so attention runs across the two, and a linear
layer on the mean-pooled, unit-length output gives the verdict (softmax over
:data:`~alliance.training.verdicts.VERDICTS`) and the six steps (one sigmoid each).

What is shipped is small: not a second copy of the model but a **low-rank update** of its
weights (LoRA: for each of the six weight matrices of each layer, ``W + scale * B @ A`` with
``A`` rank x in and ``B`` out x rank, stored in float16) and the output layer, in
``reader-adapter.npz`` with its manifest. At load time the update is added to the verified
model weights and the ONNX graph of :mod:`alliance.coding.onnx_encoder` is built from the
result, so the reader runs on ONNX Runtime like the coder's encoder (no torch). Every token
keeps token type 0, as in that graph, and the reader was trained that way.

The scorer blends the reader's probabilities with the heads' (``blend`` in the manifest:
``blend x reader + (1 - blend) x heads``) for the verdict and the steps, then applies the
same gates as before (:func:`alliance.training.feedback.backed_verdict`,
:func:`~alliance.training.feedback.harm_gated_verdict`). Training needs torch and
transformers (extra ``torch``): :mod:`alliance.training.reader_fit`, ``alliance practice
train-reader``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from alliance.errors import ModelError, TrainingError

ADAPTER_FILE = "reader-adapter.npz"
SCORER = "v15"
#: the reader's weight against the heads in the shipped scorer (the manifest's ``blend``);
#: chosen on the development sets (``benchmarks/scorer_reader_cv.py``, trained on v13's 902
#: responses, measured on fresh13-17 after the gates): 0.5 gave 0.760 / 0.765 / 0.755 with
#: readers of 8 / 12 / 20 epochs, the reader alone 0.730 / 0.773 / 0.745, the heads 0.688;
#: the blend is the steadier of the two
READER_BLEND = 0.5
#: the weight matrices the update touches, per layer, with their (out, in) shapes' names
TARGETS = ("query", "key", "value", "attn_out", "inter", "out")


@dataclass(frozen=True)
class ReaderAdapter:
    """The low-rank update and the output layer of a fine-tuned reader."""

    factors: Mapping[str, np.ndarray]  # "l{i}.{target}.A" (rank, in), ".B" (out, rank)
    verdict_w: np.ndarray  # (verdicts, hidden)
    verdict_b: np.ndarray
    step_w: np.ndarray  # (steps, hidden)
    step_b: np.ndarray
    manifest: Mapping[str, Any]

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.manifest["classes"])

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(self.manifest["steps"])

    @property
    def scale(self) -> float:
        return float(self.manifest["scale"])

    @property
    def feature_scale(self) -> float:
        return float(self.manifest.get("feature_scale", 1.0))

    @property
    def blend(self) -> float:
        return float(self.manifest.get("blend", 0.0))

    @property
    def model(self) -> str:
        return str(self.manifest.get("model", ""))

    def delta(self, layer: int, target: str) -> np.ndarray:
        """The update of one weight matrix, torch layout (out, in), float32."""
        a = self.factors[f"l{layer}.{target}.A"].astype(np.float32)
        b = self.factors[f"l{layer}.{target}.B"].astype(np.float32)
        out: np.ndarray = self.scale * (b @ a)
        return out

    def apply(self, weights: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The graph weights (:func:`~alliance.coding.onnx_encoder.bert_weights` layout:
        linear weights transposed, query/key/value concatenated) with the update added."""
        w = dict(weights)
        layers = int(self.manifest["layers"])
        for i in range(layers):
            if f"l{i}.qkv_w" not in w:
                raise ModelError(f"the reader adapter has {layers} layers; the model has fewer")
            qkv = w[f"l{i}.qkv_w"].copy()
            hidden = qkv.shape[0]
            for k, target in enumerate(("query", "key", "value")):
                qkv[:, k * hidden:(k + 1) * hidden] += self.delta(i, target).T
            w[f"l{i}.qkv_w"] = np.ascontiguousarray(qkv)
            for target, name in (("attn_out", "attn_out_w"), ("inter", "inter_w"),
                                 ("out", "out_w")):
                d = self.delta(i, target).T
                if d.shape != w[f"l{i}.{name}"].shape:
                    raise ModelError(f"the reader adapter's {target} update of layer {i} has "
                                     f"shape {d.shape}, the model's weight "
                                     f"{w[f'l{i}.{name}'].shape}")
                w[f"l{i}.{name}"] = np.ascontiguousarray(w[f"l{i}.{name}"] + d)
        return w

    def probabilities(self, pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Verdict probabilities (rows sum to 1) and step probabilities, from the encoder's
        unit-length pooled outputs."""
        x = np.atleast_2d(np.asarray(pooled, dtype=np.float64)) * self.feature_scale
        if x.shape[1] != self.verdict_w.shape[1]:
            raise TrainingError(f"the reader expects {self.verdict_w.shape[1]}-dimensional "
                                f"vectors, got {x.shape[1]}")
        from alliance.training.head import _softmax

        verdict = _softmax(x @ self.verdict_w.T.astype(np.float64) + self.verdict_b)
        steps = 1.0 / (1.0 + np.exp(-(x @ self.step_w.T.astype(np.float64) + self.step_b)))
        return verdict, steps

    def save(self, path: str | Path) -> None:
        arrays: dict[str, Any] = {k: v.astype(np.float16) for k, v in self.factors.items()}
        arrays.update(verdict_w=self.verdict_w.astype(np.float32),
                      verdict_b=self.verdict_b.astype(np.float32),
                      step_w=self.step_w.astype(np.float32),
                      step_b=self.step_b.astype(np.float32),
                      manifest=np.array(json.dumps(dict(self.manifest), sort_keys=True)))
        with open(path, "wb") as fh:  # the name as given (numpy would add .npz)
            np.savez_compressed(fh, **arrays)


def read_adapter(path: str | Path) -> ReaderAdapter:
    """A saved adapter, or a :class:`TrainingError` naming what is wrong with the file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            manifest = json.loads(str(z["manifest"]))
            factors = {k: z[k] for k in z.files if k.startswith("l") and k[-2:] in (".A", ".B")}
            adapter = ReaderAdapter(factors, z["verdict_w"], z["verdict_b"], z["step_w"],
                                    z["step_b"], manifest)
    except (OSError, KeyError, ValueError) as exc:
        raise TrainingError(f"{path}: not a reader adapter ({exc.__class__.__name__})") from None
    missing = [f"l{i}.{t}.{m}" for i in range(int(manifest.get("layers", 0)))
               for t in TARGETS for m in "AB" if f"l{i}.{t}.{m}" not in factors]
    if missing or not manifest.get("layers"):
        raise TrainingError(f"{path}: not a reader adapter (missing {missing[:3] or 'layers'})")
    if adapter.verdict_w.shape[0] != len(adapter.classes) or \
            adapter.step_w.shape[0] != len(adapter.steps):
        raise TrainingError(f"{path}: the output layer does not match the manifest's classes")
    return adapter


def packaged_adapter_path() -> Path:
    return Path(str(resources.files("alliance.training").joinpath(ADAPTER_FILE)))


class Reader:
    """The fine-tuned encoder (on ONNX Runtime) and its output layer."""

    def __init__(self, encoder: Any, adapter: ReaderAdapter) -> None:
        self.encoder = encoder
        self.adapter = adapter

    @property
    def blend(self) -> float:
        return self.adapter.blend

    def read(self, clients: Sequence[str | None], responses: Sequence[str]
             ) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
        """Per response, the verdict probabilities and the step probabilities by name."""
        pooled = self.encoder.encode_pairs(list(clients), list(responses))
        verdict, steps = self.adapter.probabilities(pooled)
        return ([dict(zip(self.adapter.classes, map(float, row), strict=True))
                 for row in verdict],
                [dict(zip(self.adapter.steps, map(float, row), strict=True)) for row in steps])


def load_reader(adapter: ReaderAdapter, threads: int | None = None) -> Reader:
    """The reader for ``adapter`` on the verified packaged model (extra ``model``)."""
    from alliance.coding.embedder import MODEL_NAME, read_verified_weights, resolve_model
    from alliance.coding.onnx_encoder import load_onnx_embedder

    source = resolve_model()
    if not source.packaged or (adapter.model and adapter.model != MODEL_NAME):
        raise ModelError(f"the reader was trained on {adapter.model or 'the packaged model'}; "
                         "it runs only on that model")
    blob = read_verified_weights(source.path, True)
    # spin=False: the reader runs right after the coder's encoder, in turn, for every
    # response; with both sessions' threads busy-waiting after their runs, the reader added
    # 45 ms per scored response on two cores, without it 8 ms (its own run takes 8 ms)
    encoder = load_onnx_embedder(source.path, blob, MODEL_NAME + " + reader", threads,
                                 adapt=adapter.apply, spin=False)
    return Reader(encoder, adapter)


@lru_cache(maxsize=1)
def packaged_reader() -> Reader | None:
    """The packaged reader, or ``None`` when there is none or the model cannot be loaded
    (the scorer then uses the heads alone)."""
    path = packaged_adapter_path()
    if not path.exists():
        return None
    try:
        return load_reader(read_adapter(path))
    except (ModelError, ImportError):
        return None
