"""Training the reader (:mod:`alliance.training.reader`): a low-rank fine-tune of the
verified all-MiniLM-L6-v2 as a cross-encoder over (client line, response).

Needs torch and transformers (extra ``torch``); imported inside :func:`fit_reader` only.
The text goes through the model's own ``tokenizer.json`` exactly as at inference (pairs,
truncation at the model's ``max_seq_length``, token type 0 everywhere), and the pooled
output is the graph's: mean over the real tokens, unit length, times ``feature_scale``.

Settings (chosen on the development sets, ``benchmarks/scorer_reader_cv.py``: trained on
the 902 responses v13 was trained on, measured on fresh13-17; the reader alone after the
scorer's gates 0.698 / 0.730 / 0.773 / 0.745 at 4 / 8 / 12 / 20 epochs): rank 8,
alpha 16 (scale 2) on the query, key, value, attention-output and both feed-forward
matrices of every layer; AdamW, learning rate 5e-4 for the update and 2e-3 for the output
layer, 10% warm-up then linear decay, batch 16, 12 epochs; class-balanced cross-entropy for
the verdict plus 0.5 x binary cross-entropy for the six steps; in 10% of the examples the
client line is left out, so the reader also reads a response given without one.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from alliance.errors import TrainingError
from alliance.training.reader import TARGETS, ReaderAdapter


@dataclass(frozen=True)
class ReaderExample:
    client: str | None
    response: str
    verdict: str
    steps: frozenset[str]


@dataclass(frozen=True)
class ReaderSettings:
    rank: int = 8
    alpha: float = 16.0
    epochs: int = 12
    lr: float = 5e-4
    head_lr: float = 2e-3
    batch: int = 16
    step_weight: float = 0.5
    client_dropout: float = 0.1
    feature_scale: float = 10.0
    seed: int = 0


def _torch() -> tuple[Any, Any]:
    try:
        import torch
        from transformers import BertModel
        from transformers.utils import logging as hf_logging
    except ImportError:
        raise TrainingError("training the reader needs torch and transformers; install the "
                            "'torch' extra (pip install 'alliance[torch]')") from None
    hf_logging.set_verbosity_error()  # the load report (an unused pooler) is noise here
    hf_logging.disable_progress_bar()
    return torch, BertModel


def fit_reader(examples: Sequence[ReaderExample], classes: Sequence[str],
               steps: Sequence[str], settings: ReaderSettings = ReaderSettings(),
               manifest: dict[str, Any] | None = None,
               progress: Callable[[str], None] | None = None) -> ReaderAdapter:
    """Fine-tune the reader on ``examples``; the returned adapter is ready to save."""
    if len({e.verdict for e in examples}) < 2:
        raise TrainingError("the reader needs at least two verdicts to learn from")
    unknown = sorted({e.verdict for e in examples} - set(classes))
    if unknown:
        raise TrainingError(f"verdicts {unknown} are not among {list(classes)}")
    from alliance.coding.embedder import MODEL_NAME, MODEL_SHA256

    s = settings
    torch, model, tokenizer = _model_and_tokenizer()
    torch.manual_seed(s.seed)
    rng = random.Random(s.seed)
    for p in model.parameters():
        p.requires_grad_(False)
    scale = s.alpha / s.rank
    lora = _wrap(torch, model, s.rank, scale)
    hidden = model.config.hidden_size
    verdict_layer = torch.nn.Linear(hidden, len(classes))
    step_layer = torch.nn.Linear(hidden, len(steps))

    def pooled(batch: Sequence[tuple[str | None, str]]) -> Any:
        enc = tokenizer.encode_batch([(c, r) if c else r for c, r in batch])
        width = max(len(e.ids) for e in enc)
        ids = torch.zeros((len(enc), width), dtype=torch.long)
        mask = torch.zeros((len(enc), width), dtype=torch.long)
        for k, e in enumerate(enc):
            ids[k, :len(e.ids)] = torch.tensor(e.ids)
            mask[k, :len(e.ids)] = 1
        out = model(input_ids=ids, attention_mask=mask,
                    token_type_ids=torch.zeros_like(ids)).last_hidden_state
        m = mask.unsqueeze(-1).float()
        mean = (out * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, dim=-1) * s.feature_scale

    y = torch.tensor([list(classes).index(e.verdict) for e in examples])
    z = torch.tensor([[float(st in e.steps) for st in steps] for e in examples])
    counts = np.bincount(y.numpy(), minlength=len(classes))
    weight = torch.tensor(len(y) / (len(classes) * np.maximum(counts, 1)), dtype=torch.float)
    opt = torch.optim.AdamW([{"params": [p for m in lora for p in (m.A, m.B)], "lr": s.lr},
                             {"params": [*verdict_layer.parameters(),
                                         *step_layer.parameters()], "lr": s.head_lr}],
                            weight_decay=0.01)
    per_epoch = math.ceil(len(examples) / s.batch)
    total = s.epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: min(1.0, (k + 1) / max(1.0, 0.1 * total)) * max(0.0, (total - k) / total))
    t0 = time.perf_counter()
    model.train()
    for epoch in range(s.epochs):
        order = list(range(len(examples)))
        rng.shuffle(order)
        for k in range(0, len(order), s.batch):
            idx = order[k:k + s.batch]
            batch = [(None if rng.random() < s.client_dropout else examples[i].client,
                      examples[i].response) for i in idx]
            x = pooled(batch)
            loss = torch.nn.functional.cross_entropy(verdict_layer(x), y[idx], weight=weight)
            loss = loss + s.step_weight * torch.nn.functional.binary_cross_entropy_with_logits(
                step_layer(x), z[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if progress:
            progress(f"epoch {epoch + 1}/{s.epochs}: {time.perf_counter() - t0:.0f} s")
    model.eval()
    factors: dict[str, np.ndarray] = {}
    for m in lora:
        factors[f"{m.key}.A"] = m.A.detach().numpy().copy()
        factors[f"{m.key}.B"] = m.B.detach().numpy().copy()
    return ReaderAdapter(
        factors, verdict_layer.weight.detach().numpy().copy(),
        verdict_layer.bias.detach().numpy().copy(), step_layer.weight.detach().numpy().copy(),
        step_layer.bias.detach().numpy().copy(),
        {**(manifest or {}), "classes": list(classes), "steps": list(steps),
         "layers": model.config.num_hidden_layers, "rank": s.rank, "alpha": s.alpha,
         "scale": scale, "feature_scale": s.feature_scale, "epochs": s.epochs, "lr": s.lr,
         "head_lr": s.head_lr, "seed": s.seed, "step_weight": s.step_weight,
         "client_dropout": s.client_dropout, "n": len(examples), "model": MODEL_NAME,
         "model_sha256": MODEL_SHA256, "input": "[CLS] client [SEP] response [SEP], type 0"})


def _model_and_tokenizer() -> tuple[Any, Any, Any]:
    """torch, the verified packaged model (no pooler) and its tokenizer set up as the ONNX
    encoder's (no padding, truncation at the model's ``max_seq_length``)."""
    torch, BertModel = _torch()
    from tokenizers import Tokenizer

    from alliance.coding.embedder import resolve_model, verify_model
    from alliance.coding.onnx_encoder import check_pipeline

    source = resolve_model()
    verify_model(source.path)
    tokenizer = Tokenizer.from_file(str(source.path / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(check_pipeline(source.path))
    model = BertModel.from_pretrained(str(source.path), local_files_only=True,
                                      add_pooling_layer=False)
    return torch, model, tokenizer


def _places(layer: Any) -> dict[str, tuple[Any, str]]:
    """Where each of :data:`TARGETS` sits in a BERT layer: (parent module, attribute)."""
    return {"query": (layer.attention.self, "query"), "key": (layer.attention.self, "key"),
            "value": (layer.attention.self, "value"),
            "attn_out": (layer.attention.output, "dense"),
            "inter": (layer.intermediate, "dense"), "out": (layer.output, "dense")}


def _wrap(torch: Any, model: Any, rank: int, scale: float) -> list[Any]:
    """Put a low-rank update on each of :data:`TARGETS` in every layer; the wrappers."""

    class LowRank(torch.nn.Module):
        def __init__(self, base: Any, key: str) -> None:
            super().__init__()
            self.base = base
            self.key = key
            self.A = torch.nn.Parameter(torch.empty(rank, base.in_features))
            torch.nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
            self.B = torch.nn.Parameter(torch.zeros(base.out_features, rank))

        def forward(self, x: Any) -> Any:
            return self.base(x) + (x @ self.A.T @ self.B.T) * scale

    wrapped = []
    for i, layer in enumerate(model.encoder.layer):
        places = _places(layer)
        for target in TARGETS:
            parent, attr = places[target]
            m = LowRank(getattr(parent, attr), f"l{i}.{target}")
            setattr(parent, attr, m)
            wrapped.append(m)
    return wrapped


def reference_probabilities(adapter: ReaderAdapter, clients: Sequence[str | None],
                            responses: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The reader's probabilities computed on torch from the model with the update merged
    into its weights (``W + scale * B @ A`` on each target), the reference the ONNX path
    (:meth:`ReaderAdapter.apply`) is tested against."""
    torch, model, tokenizer = _model_and_tokenizer()
    with torch.no_grad():
        for i, layer in enumerate(model.encoder.layer):
            for target, (parent, attr) in _places(layer).items():
                getattr(parent, attr).weight += torch.from_numpy(adapter.delta(i, target))
    model.eval()
    rows = []
    with torch.no_grad():
        for c, r in zip(clients, responses, strict=True):
            ids = torch.tensor([tokenizer.encode(c, r).ids if c else tokenizer.encode(r).ids])
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids),
                        token_type_ids=torch.zeros_like(ids)).last_hidden_state
            rows.append(torch.nn.functional.normalize(out.mean(1), dim=-1)[0].numpy())
    return adapter.probabilities(np.array(rows))
