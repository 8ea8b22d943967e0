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
