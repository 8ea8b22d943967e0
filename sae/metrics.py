"""SAE quality on held-out activations: reconstruction, sparsity, and splicing into the network.

Definitions (all sums over the evaluation rows and the d dimensions):
- mse: mean over rows and dimensions of (x - x_hat)^2.
- nmse (normalised MSE): sum ||x - x_hat||^2 / sum ||x||^2 (error relative to predicting 0).
- fvu: sum ||x - x_hat||^2 / sum ||x - mean(x)||^2 (relative to predicting the mean).
- l0: mean number of non-zero features per row.
- dead_fraction: features that never fire on the evaluation rows; dense_fraction: features that
  fire on more than `dense_threshold` of them.
- Splicing: the network is run from the reconstruction in place of the stream at its block.
  policy_kl is KL(original || spliced) between the policies softmaxed over the legal moves;
  value_mse is the mean squared change of the value. "Loss recovered" against an ablation A
  (zero stream, or the mean stream of the evaluation rows) is 1 - KL_sae / KL_A (and likewise for
  the value MSE): 1 means the splice costs nothing, 0 that it is as bad as deleting the stream.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from othello.az.model import PolicyValueNet


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


def legal_log_policy(logits: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    """Log-probabilities over the legal moves (illegal entries -inf)."""
    return logits.masked_fill(~legal, float("-inf")).log_softmax(dim=-1)


def policy_kl(logits_p: torch.Tensor, logits_q: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    """KL(p || q) per row between the legal-move policies of two logit tensors."""
    logp, logq = legal_log_policy(logits_p, legal), legal_log_policy(logits_q, legal)
    return torch.where(legal, logp.exp() * (logp - logq), 0.0).sum(dim=-1)


@torch.no_grad()
def splice_metrics(net: PolicyValueNet, block: int,
                   batches: Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                   mean_stream: torch.Tensor) -> dict[str, float]:
    """Policy KL and value MSE of splicing `x_hat` (and of zero / mean ablation) for
    `(x, x_hat, legal)` batches; plus loss recovered against both ablations."""
    sums = {f"{m}_{w}": 0.0 for m in ("policy_kl", "value_mse") for w in ("sae", "zero", "mean")}
    n = 0
    for x, x_hat, legal in batches:
        logits, value = net.forward_from(x, block)
        variants = {"sae": x_hat, "zero": torch.zeros_like(x),
                    "mean": mean_stream.expand_as(x)}
        for name, stream in variants.items():
            lg, v = net.forward_from(stream, block)
            sums[f"policy_kl_{name}"] += float(policy_kl(logits, lg, legal).double().sum())
            sums[f"value_mse_{name}"] += float((v - value).double().pow(2).sum())
        n += x.shape[0]
    if not n:
        raise ValueError("no evaluation rows")
    out = {k: v / n for k, v in sums.items()}
    for m in ("policy_kl", "value_mse"):
        for ablation in ("zero", "mean"):
            out[f"{m}_recovered_vs_{ablation}"] = loss_recovered(out[f"{m}_sae"],
                                                                 out[f"{m}_{ablation}"])
    return out


def loss_recovered(loss_sae: float, loss_ablated: float, loss_clean: float = 0.0) -> float:
    """(L_ablated - L_sae) / (L_ablated - L_clean); NaN when the ablation costs nothing."""
    gap = loss_ablated - loss_clean
    return (loss_ablated - loss_sae) / gap if gap > 0 else float("nan")
