"""The one-active-feature data of Chen et al. (2023) and the tied model's exact loss on it.

With x = u e_i (i uniform over the n features, u ~ U[0, 1]) output j is ReLU(u G_ji + b_j),
G = W^T W, so the loss is a sum of one-dimensional integrals of piecewise quadratics in u:

    L = (1/n) sum_i [ E_u (ReLU(u G_ii + b_i) - u)^2 + sum_{j != i} E_u ReLU(u G_ji + b_j)^2 ].

Each integral is computed in closed form over the interval where the ReLU is active, written
as polynomials in the interval ends (no division by the slope), so it is exact, differentiable
and stable at zero slope. Loss convention: summed over outputs (see the package docstring).
"""

from __future__ import annotations

import torch


def one_active(batch: int, n: int, generator: torch.Generator | None = None,
               leading: tuple[int, ...] = ()) -> torch.Tensor:
    """Chen et al. (2023) data: exactly one feature, chosen uniformly, active with value U[0, 1].

    Returns a tensor of shape `leading + (batch, n)`.
    """
    shape = (*leading, batch)
    index = torch.randint(n, shape, generator=generator)
    values = torch.rand(shape, generator=generator)
    x = torch.zeros((*shape, n))
    return x.scatter_(-1, index.unsqueeze(-1), values.unsqueeze(-1))


def _active_interval(a: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Ends [lo, hi] of {u in [0, 1]: a u + c > 0} (lo = hi when empty)."""
    safe_a = torch.where(a == 0, torch.ones_like(a), a)
    root = (-c / safe_a).clamp(0.0, 1.0)
    zero, one = torch.zeros_like(a), torch.ones_like(a)
    flat = torch.where(c > 0, one, zero)  # a == 0: all of [0, 1] or nothing
    lo = torch.where(a > 0, root, torch.where(a < 0, zero, zero))
    hi = torch.where(a > 0, one, torch.where(a < 0, root, flat))
    return lo, hi


def relu_moments(a: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """E_u ReLU(a u + c)^2 and E_u u ReLU(a u + c) for u ~ U[0, 1], elementwise."""
    lo, hi = _active_interval(a, c)
    d1, d2, d3 = hi - lo, (hi**2 - lo**2) / 2, (hi**3 - lo**3) / 3
    square = a * a * d3 + 2 * a * c * d2 + c * c * d1
    cross = a * d3 + c * d2
    return square, cross


def population_loss(W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Exact one-active-feature loss for W (..., m, n), b (..., n) -> (...)."""
    n = W.shape[-1]
    G = W.transpose(-1, -2) @ W  # G[j, i] = W_j . W_i
    c = b.unsqueeze(-1).expand_as(G)  # row j carries b_j
    square, cross = relu_moments(G, c)
    eye = torch.eye(n, dtype=torch.bool, device=W.device)
    per_pair = torch.where(eye, square - 2 * cross + 1.0 / 3.0, square)
    return per_pair.sum((-1, -2)) / n
