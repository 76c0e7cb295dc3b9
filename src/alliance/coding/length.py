"""Taking turn length out of the embeddings the heads read.

Sentence embeddings carry turn length: on the project's corpus a ridge regression predicts
log(words) from the 384-d embedding with a held-out R² of about 0.78. A head trained on a
corpus where long turns usually carry a code then learns "long, therefore a code". Leaving
the explicit length features out of the heads is not enough; the length is in the vector.

So the heads read the embedding with its length subspace projected out, found by iterated
nullspace projection (after Ravfogel et al. 2020, "Null It Out", ACL): fit a ridge
regression of log(1 + words) on the embeddings, remove the direction of its weights, and
repeat until a regression fitted on 80% of the texts predicts length on the other 20% with
R² below :data:`TARGET_R2`. Because a head is linear in its input, its logit can then
correlate with log length only as much as a linear function of the projected embedding can
(|r| <= sqrt(R²), about 0.22 on the corpus). The directions are learned on the project's own
train + dev texts and shipped with the heads (``heads.npz``: ``length_directions``).

>>> rng = np.random.default_rng(0)
>>> words = rng.integers(1, 80, 400)
>>> emb = rng.normal(size=(400, 16)); emb[:, 0] += np.log1p(words)
>>> dirs, r2 = length_directions(emb, words, seed=0)
>>> len(dirs) >= 1 and r2[-1] < TARGET_R2
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Stop when length is predicted from the projected embedding with held-out R² below this.
TARGET_R2 = 0.05
MAX_DIRECTIONS = 32
RIDGE = 1.0


def _holdout_r2(x: np.ndarray, y: np.ndarray, train: np.ndarray,
                test: np.ndarray) -> tuple[float, np.ndarray]:
    a = x[train]
    w = np.linalg.solve(a.T @ a + RIDGE * np.eye(x.shape[1]), a.T @ y[train])
    resid = y[test] - x[test] @ w
    return float(1.0 - np.var(resid) / np.var(y[test])), w


def length_directions(embeddings: np.ndarray, words: Sequence[int] | np.ndarray, *,
                      seed: int = 0, target_r2: float = TARGET_R2,
                      max_directions: int = MAX_DIRECTIONS) -> tuple[np.ndarray, list[float]]:
    """Orthonormal directions (k, d) carrying length, and the held-out R² before each step
    and after the last (so ``r2[-1]`` is what is left)."""
    x = np.asarray(embeddings, dtype=float)
    y = np.log1p(np.asarray(words, dtype=float))
    d = x.shape[1]
    if len(y) < 10 or np.var(y) == 0:
        return np.zeros((0, d)), [0.0]
    order = np.random.default_rng(seed).permutation(len(y))
    cut = len(y) * 4 // 5
    train, test = order[:cut], order[cut:]
    x = x - x[train].mean(axis=0)
    y = y - y[train].mean()
    dirs: list[np.ndarray] = []
    r2s: list[float] = []
    for _ in range(max_directions + 1):
        r2, w = _holdout_r2(x, y, train, test)
        r2s.append(round(r2, 4))
        if r2 < target_r2 or len(dirs) == max_directions:
            break
        u = w.copy()
        for v in dirs:
            u -= (u @ v) * v
        u /= np.linalg.norm(u)
        dirs.append(u)
        x = x - np.outer(x @ u, u)
    return (np.array(dirs) if dirs else np.zeros((0, d))), r2s


def remove_length(embeddings: np.ndarray, directions: np.ndarray | None) -> np.ndarray:
    """``embeddings`` with the length directions projected out (unchanged if none)."""
    if directions is None or not len(directions):
        return embeddings
    return np.asarray(embeddings - (embeddings @ directions.T) @ directions,
                      dtype=embeddings.dtype)
