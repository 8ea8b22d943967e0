"""PCA of a trajectory of outputs (one row per checkpoint) against two shuffled baselines.

A generic piece (the Othello trajectory tools have the same idea); kept here because mazes/ may
import only common/.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PCAResult:
    coords: np.ndarray  # (K, 2) projection on the first two components
    explained: np.ndarray  # (r,) explained-variance ratios
    shuffled_explained: np.ndarray  # (r,) mean ratios with each column shuffled over checkpoints
    path_length: float  # length of the training-order path in the top-2 plane
    shuffled_path_length: float  # mean length through the same points in shuffled orders

    def to_json(self) -> dict:
        return {"explained": self.explained.round(4).tolist(),
                "shuffled_columns_explained": self.shuffled_explained.round(4).tolist(),
                "path_length": round(self.path_length, 4),
                "shuffled_order_path_length": round(self.shuffled_path_length, 4)}


def _ratios(X: np.ndarray) -> np.ndarray:
    var = np.linalg.svd(X - X.mean(0), compute_uv=False) ** 2
    return var / var.sum() if var.sum() > 0 else var


def pca_with_baselines(X: np.ndarray, shuffles: int = 200, seed: int = 0) -> PCAResult:
    """PCA of the rows of X, with a shuffled-order baseline (a smooth trajectory has a much
    shorter path than its points visited in random orders) and a shuffled-column baseline
    (each column permuted over checkpoints on its own: coordinated drift puts more variance in
    the first component than that)."""
    rng = np.random.default_rng(seed)
    u, s, _ = np.linalg.svd(X - X.mean(0), full_matrices=False)
    coords = np.pad((u * s)[:, :2], ((0, 0), (0, max(0, 2 - len(s)))))

    def length(order: np.ndarray) -> float:
        return float(np.linalg.norm(np.diff(coords[order], axis=0), axis=1).sum())

    shuffled_orders = [length(rng.permutation(len(X))) for _ in range(shuffles)]
    columns = [_ratios(np.stack([rng.permutation(col) for col in X.T], axis=1))
               for _ in range(shuffles)]
    return PCAResult(coords, _ratios(X), np.mean(columns, axis=0), length(np.arange(len(X))),
                     float(np.mean(shuffled_orders)))
