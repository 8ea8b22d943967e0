"""SAE quality on held-out activations: reconstruction, sparsity, and splicing into the network.

Definitions (all sums over the evaluation rows and the d dimensions):
- mse: mean over rows and dimensions of (x - x_hat)^2.
- nmse (normalised MSE): sum ||x - x_hat||^2 / sum ||x||^2 (error relative to predicting 0).
- fvu: sum ||x - x_hat||^2 / sum ||x - mean(x)||^2 (relative to predicting the mean).
- l0: mean number of non-zero features per row.
- dead_fraction: features that never fire on the evaluation rows; dense_fraction: features that
  fire on more than `dense_threshold` of them.
- Splicing: a downstream model (a `Splice` callback, e.g. othello.interp.splice) is run from the
  reconstruction in place of the activations, and reports per-row losses against its clean
  outputs. "Loss recovered" against an ablation A (zero activations, or the mean of the evaluation
  rows) is (L_A - L_sae) / (L_A - L_clean): 1 means the splice costs nothing, 0 that it is as bad
  as deleting the activations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch


def reconstruction_metrics(batches: Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                           dense_threshold: float = 0.1) -> dict[str, float]:
    """Metrics from `(x, x_hat, features)` batches, accumulated in float64."""
    n = 0
    sq_err = sq_norm = 0.0
    total = active = fires = None
    for x, x_hat, f in batches:
        x, x_hat = x.double(), x_hat.double()
        n += x.shape[0]
        sq_err += float((x - x_hat).pow(2).sum())
        sq_norm += float(x.pow(2).sum())
        total = x.sum(0) if total is None else total + x.sum(0)
        on = f > 0
        active = on.sum() if active is None else active + on.sum()
        fires = on.sum(0) if fires is None else fires + on.sum(0)
    if not n:
        raise ValueError("no evaluation rows")
    d = total.numel()
    sq_dev = sq_norm - float(total.pow(2).sum()) / n  # sum ||x - mean||^2
    freq = fires.double() / n
    return {"mse": sq_err / (n * d), "nmse": sq_err / sq_norm, "fvu": sq_err / sq_dev,
            "l0": float(active) / n, "dead_fraction": float((fires == 0).double().mean()),
            "dense_fraction": float((freq > dense_threshold).double().mean()), "rows": n}


Splice = Callable[[torch.Tensor, np.ndarray], dict[str, torch.Tensor]]
"""A downstream model run from replacement activations: `splice(stream, rows)` takes a batch
`[B, d]` standing in for the activations of dataset rows `rows` `[B]` (original units) and returns
{loss name: per-row loss `[B]`} of the model's outputs against its outputs on the clean rows."""


@torch.no_grad()
def splice_metrics(splice: Splice,
                   batches: Iterable[tuple[torch.Tensor, torch.Tensor, np.ndarray]],
                   mean_stream: torch.Tensor) -> dict[str, float]:
    """Mean downstream losses of splicing the clean rows, `x_hat`, zeros and `mean_stream`, for
    `(x, x_hat, rows)` batches; plus loss recovered against both ablations (`<loss>_sae`,
    `<loss>_zero`, `<loss>_mean`, `<loss>_clean`, `<loss>_recovered_vs_zero`, ...)."""
    sums: dict[str, float] = {}
    n = 0
    for x, x_hat, rows in batches:
        variants = {"clean": x, "sae": x_hat, "zero": torch.zeros_like(x),
                    "mean": mean_stream.expand_as(x)}
        for name, stream in variants.items():
            for loss, per_row in splice(stream, rows).items():
                key = f"{loss}_{name}"
                sums[key] = sums.get(key, 0.0) + float(per_row.double().sum())
        n += x.shape[0]
    if not n:
        raise ValueError("no evaluation rows")
    out = {k: v / n for k, v in sums.items()}
    for loss in sorted({k.rsplit("_", 1)[0] for k in sums}):
        for ablation in ("zero", "mean"):
            out[f"{loss}_recovered_vs_{ablation}"] = loss_recovered(
                out[f"{loss}_sae"], out[f"{loss}_{ablation}"], out[f"{loss}_clean"])
    return out


def loss_recovered(loss_sae: float, loss_ablated: float, loss_clean: float = 0.0) -> float:
    """(L_ablated - L_sae) / (L_ablated - L_clean); NaN when the ablation costs nothing."""
    gap = loss_ablated - loss_clean
    return (loss_ablated - loss_sae) / gap if gap > 0 else float("nan")
