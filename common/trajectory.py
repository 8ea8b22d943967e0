"""Trajectory math shared by every policy-over-training tool (Othello probes, maze vector
fields): KL and entropy of probability vectors, and a PCA of outputs-per-checkpoint against
shuffled baselines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def kl_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(p || q) over the last axis; 0 log 0 = 0 (q > 0 wherever p > 0 for masked softmaxes)."""
    ratio = np.where(p > 0, p / np.maximum(q, 1e-300), 1.0)
    return (p * np.log(ratio)).sum(-1)


def entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy in nats over the last axis."""
    return -(p * np.log(np.where(p > 0, p, 1.0))).sum(-1)


@dataclass
class PCAResult:
    coords: np.ndarray  # (K, 2) projection on the first two components
    explained: np.ndarray  # (r,) explained-variance ratios
    shuffled_explained: np.ndarray  # (r,) mean ratios with each column shuffled over checkpoints
    path_length: float  # length of the training-order path through the top-2 plane
    shuffled_path_length: float  # mean path length through the same points in shuffled orders
    shuffled_order: np.ndarray  # (K,) one shuffled order, for drawing

    def to_json(self) -> dict:
        return {"explained": self.explained.round(4).tolist(),
                "shuffled_columns_explained": self.shuffled_explained.round(4).tolist(),
                "path_length": round(self.path_length, 4),
                "shuffled_order_path_length": round(self.shuffled_path_length, 4)}


def pca_with_baselines(X: np.ndarray, shuffles: int = 200, seed: int = 0) -> PCAResult:
    """PCA of the rows of X (checkpoints) and two shuffled-order baselines.

    Order baseline: the same points visited in random orders; a smooth trajectory has a much
    shorter path than that. Column baseline: each output's series shuffled over checkpoints on
    its own, which keeps every marginal but breaks their joint drift; coordinated change puts
    more variance in the first component than that baseline does."""
    rng = np.random.default_rng(seed)

    def ratios(M: np.ndarray) -> np.ndarray:
        s = np.linalg.svd(M - M.mean(0), compute_uv=False)
        var = s**2
        return var / var.sum() if var.sum() > 0 else var

    centred = X - X.mean(0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    coords = (u * s)[:, :2]
    if coords.shape[1] < 2:
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))

    def length(order: np.ndarray) -> float:
        return float(np.linalg.norm(np.diff(coords[order], axis=0), axis=1).sum())

    orders = [rng.permutation(len(X)) for _ in range(shuffles)]
    columns = [ratios(np.stack([rng.permutation(col) for col in X.T], axis=1))
               for _ in range(shuffles)]
    return PCAResult(coords, ratios(X), np.mean(columns, axis=0),
                     length(np.arange(len(X))), float(np.mean([length(o) for o in orders])),
                     orders[0])
