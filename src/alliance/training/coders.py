"""Which transcript coder the practice scorer uses.

``rules`` (the default) needs no model and answers in milliseconds; ``hybrid`` loads the
embedding model and the classifier heads (extra ``model``). ``auto`` uses the hybrid coder
when the model can be loaded and falls back to the rules coder otherwise.
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


def practice_coder(kind: str = "rules") -> Coder:
    """The coder for ``kind`` (one of :data:`CODER_CHOICES`)."""
    if kind == "rules":
        return default_coder()
    if kind == "hybrid":
        return load_coder()
    if kind == "auto":
        try:
            return load_coder()
        except (CodingError, ImportError):  # no model, no heads or no extra installed
            return default_coder()
    raise TrainingError(f"unknown coder {kind!r}; choose one of {', '.join(CODER_CHOICES)}",
                        value=kind)
