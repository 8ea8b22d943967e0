"""Everything we measure about one SAE on the held-out rows of an `[N, d]` array.

Reconstruction metrics always; with `Downstream` hooks from whoever knows where the activations
came from (e.g. othello.interp.sae_metrics), also splicing (a `Splice` callback) and scores of the
features (callbacks of the features and their rows, e.g. board concepts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from sae.archs import SAE
from sae.data import chunks, gather
from sae.metrics import Splice, reconstruction_metrics, splice_metrics

FeatureMetric = Callable[[torch.Tensor, np.ndarray], dict]
"""`metric(features [R, F], rows [R])` -> scores (JSON-ready) of the features on those rows."""


@dataclass
class Downstream:
    """Optional evaluations beyond reconstruction, and how many held-out rows each uses."""

    splice: Splice | None = None
    feature_metrics: dict[str, FeatureMetric] = field(default_factory=dict)
    max_splice: int = 20_000
    max_features: int = 10_000


def subset(rows: np.ndarray, count: int, seed: int) -> np.ndarray:
    """A sorted random subset of at most `count` rows (the same for every SAE)."""
    if len(rows) <= count:
        return np.sort(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, count, replace=False))


def mean_row(acts: np.ndarray, rows: np.ndarray) -> torch.Tensor:
    """float32 mean of the given rows (accumulated in float64)."""
    total = torch.zeros(acts.shape[1], dtype=torch.float64)
    for x in chunks(acts, rows):
        total += x.double().sum(0)
    return (total / len(rows)).float()


@torch.no_grad()
def evaluate(sae: SAE, acts: np.ndarray, test: np.ndarray, downstream: Downstream | None = None,
             seed: int = 0) -> dict:
    """Reconstruction metrics on all held-out rows; splicing and feature metrics on random
    subsets of `max_splice` / `max_features` of them."""
    def triples(rows: np.ndarray):
        for x in chunks(acts, rows):
            f = sae.encode(x)
            yield x, sae.decode(f), f

    out = {"reconstruction": reconstruction_metrics(triples(test))}
    if downstream is None:
        return out
    if downstream.splice is not None:
        rows = subset(test, downstream.max_splice, seed)
        mean_stream = mean_row(acts, test)

        def spliced(size: int = 8192):
            for start in range(0, len(rows), size):
                part = rows[start:start + size]
                x = gather(acts, part)
                yield x, sae(x), part

        out["splice"] = splice_metrics(downstream.splice, spliced(), mean_stream)
    if downstream.feature_metrics:
        rows = subset(test, downstream.max_features, seed)
        feats = torch.cat([sae.encode(x) for x in chunks(acts, rows)])
        for name, metric in downstream.feature_metrics.items():
            out[name] = metric(feats, rows)
    return out
