"""Which transcript coder the practice scorer uses.

``rules`` needs no model and answers in milliseconds; ``hybrid`` loads the embedding model
and the classifier heads (extra ``model``), and with it the scorer takes its verdict from
the verdict head (:mod:`alliance.training.head`). ``auto`` (the CLI default) uses the hybrid
coder when the model can be loaded and falls back to the rules coder otherwise. Loaded
coders are cached: they hold no per-user state.
"""

from __future__ import annotations

from functools import lru_cache

from alliance.coding.coder import Coder, load_coder
from alliance.errors import CodingError, TrainingError

CODER_CHOICES = ("rules", "hybrid", "auto")


@lru_cache(maxsize=1)
def default_coder() -> Coder:
    """The rules-only coder (cached: it holds no per-user state)."""
    return load_coder(rules_only=True)


@lru_cache(maxsize=1)
def _hybrid_coder() -> Coder:
    return load_coder()


def practice_coder(kind: str = "rules") -> Coder:
    """The coder for ``kind`` (one of :data:`CODER_CHOICES`)."""
    if kind == "rules":
        return default_coder()
    if kind == "hybrid":
        return _hybrid_coder()
    if kind == "auto":
        try:
            return _hybrid_coder()
        except (CodingError, ImportError):  # no model, no heads or no extra installed
            return default_coder()
    raise TrainingError(f"unknown coder {kind!r}; choose one of {', '.join(CODER_CHOICES)}",
                        value=kind)
