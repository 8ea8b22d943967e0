"""The tied toy model of superposition, batched over a leading model dimension."""

from __future__ import annotations

import torch
from torch import nn


def forward(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """ReLU(W^T W x + b) for W (..., m, n), b (..., n), x (..., batch, n) -> (..., batch, n).

    W appears twice, so autograd gives the full tied gradient (no copied decoder).
    """
    hidden = x @ W.transpose(-1, -2)  # (..., batch, m)
    return torch.relu(hidden @ W + b.unsqueeze(-2))


def loss_per_sample(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor,
                    importance: torch.Tensor | None = None) -> torch.Tensor:
    """Squared error summed over outputs (optionally importance-weighted): (..., batch)."""
    err = (forward(W, b, x) - x) ** 2
    if importance is not None:
        err = err * importance
    return err.sum(-1)


def loss(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor,
         importance: torch.Tensor | None = None) -> torch.Tensor:
    """The package's loss: summed over outputs, mean over the batch -> (...,) one per model."""
    return loss_per_sample(W, b, x, importance).mean(-1)


class TiedTMS(nn.Module):
    """One model as an nn.Module (for devinterp), sharing `forward` with the batched code."""

    def __init__(self, W: torch.Tensor, b: torch.Tensor):
        super().__init__()
        self.W = nn.Parameter(W.detach().clone().float())
        self.b = nn.Parameter(b.detach().clone().float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return forward(self.W, self.b, x)



def loss_and_grad(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor,
                  importance: torch.Tensor | None = None,
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`loss` and its exact gradients for R replicas of M models on shared batches, fast.

    W (R, M, m, n), b (R, M, n), x (M, B, n) -> loss (R, M), dL/dW, dL/db. All replicas of
    model j see x[j], so the products become M matrix products of width R * n (instead of
    R * M tiny ones). With A = W^T W and D = x^T dL/dz the tied gradient is W (D + D^T).
    """
    R, M, _, n = W.shape
    B = x.shape[-2]
    A = (W.transpose(-1, -2) @ W).permute(1, 2, 0, 3).reshape(M, n, R * n)
    bias = b.permute(1, 0, 2).reshape(M, 1, R * n)
    z = torch.baddbmm(bias, x, A).view(M, B, R, n)
    relu = torch.relu_(z)
    active = torch.sign(relu)  # 1 where z > 0: cheaper than a boolean mask here
    err = relu.sub_(x.unsqueeze(2))
    weighted = err if importance is None else err * importance
    value = (err * weighted).sum(1).sum(-1).T / B  # summing over the batch first is faster
    dz = weighted.mul_(active)  # dL/dz without its factor 2 / B, applied to the small results
    D = (x.transpose(-1, -2) @ dz.view(M, B, R * n)).view(M, n, R, n).permute(2, 0, 1, 3)
    scale = 2.0 / B
    return value, W @ (D + D.transpose(-1, -2)) * scale, dz.sum(1).permute(1, 0, 2) * scale
