"""k-gon critical points of the population loss for the one-active-feature data.

A k-gon has k columns of W at radius r on a regular polygon with a common bias b, and n - k zero
("dead") columns. A dead column with negative bias never fires (its bias is a flat direction);
with positive bias it outputs a constant, best at the value that minimises its own error. By
symmetry (the dihedral group permutes the live columns), a critical point of the loss restricted
to (r, b, positive dead bias) is a critical point of the full loss; `find_kgon` checks that by
the full gradient norm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from toymodels.tms.inits import kgon
from toymodels.tms.population import population_loss

# Any negative value gives the same loss, but SGLD explores around the point: at -0.5 the chains
# (localization 10, so a spread of ~0.3 per flat coordinate) can make a dead column fire and
# escape the 4-gon; at -1 they stay (4-gon LLC 5.4 instead of an erratic ~3).
NEGATIVE_DEAD_BIAS = -1.0

# Theoretical learning coefficients from Chen et al. (2023) for n = 6, m = 2 (None: not listed).
THEORY_LAMBDA: dict[str, str] = {"6": "8.5", "5": "7", "5+": "8.5", "4": "4 to 5.5"}


@dataclass
class CriticalPoint:
    """A k-gon critical point: `positive_dead` of its n - k dead columns have positive bias."""

    name: str
    k: int
    positive_dead: int
    radius: float
    bias: float
    dead_bias: float  # the positive dead bias (NaN if there is none)
    loss: float
    grad_norm: float
    W: torch.Tensor
    b: torch.Tensor

    @property
    def theory(self) -> str:
        return THEORY_LAMBDA.get(self.name, "")


def _params(k: int, n: int, positive_dead: int, r: torch.Tensor, bias: torch.Tensor,
            dead: torch.Tensor, m: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    W, b = kgon(k, n, 1.0, 0.0, 0.0, m, dtype=torch.float64)
    W = W * r
    negative = torch.tensor(NEGATIVE_DEAD_BIAS, dtype=torch.float64)
    dead_biases = [dead] * positive_dead + [negative] * (n - k - positive_dead)
    b = torch.stack([bias] * k + dead_biases) if n > k else bias.expand(n)
    return W, b


def find_kgon(k: int, n: int = 6, positive_dead: int = 0, m: int = 2,
              loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = population_loss,
              ) -> CriticalPoint:
    """Minimise the loss (default: the exact one-active-feature loss; any symmetric data's loss
    `loss_fn(W, b)` works) over (radius, bias, positive dead bias) from a few starts."""
    best = None
    for r0, b0 in ((1.0, 0.0), (1.2, -0.3), (1.5, -0.8)):
        theta = torch.tensor([r0, b0, 1.0 / (2 * n)], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([theta], lr=1, max_iter=500, tolerance_grad=1e-13,
                                tolerance_change=1e-16, line_search_fn="strong_wolfe")

        def closure(theta=theta, opt=opt):
            opt.zero_grad()
            value = loss_fn(*_params(k, n, positive_dead, *theta, m=m))
            value.backward()
            return value

        for _ in range(5):
            opt.step(closure)
        value = float(closure().detach())
        if best is None or value < best[0]:
            best = (value, theta.detach().clone())
    r, bias, dead = best[1]
    W, b = _params(k, n, positive_dead, r, bias, dead, m)
    W, b = W.requires_grad_(True), b.requires_grad_(True)
    value = loss_fn(W, b)
    gW, gb = torch.autograd.grad(value, (W, b))
    grad_norm = float(torch.cat([gW.flatten(), gb.flatten()]).norm())
    dead_bias = float(dead) if positive_dead else float("nan")
    return CriticalPoint(f"{k}" + "+" * positive_dead, k, positive_dead, float(r), float(bias),
                         dead_bias, float(value.detach()), grad_norm, W.detach(), b.detach())


def kgon_critical_points(n: int = 6, m: int = 2, ks: tuple[int, ...] = (4, 5, 6),
                         loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
                         = population_loss) -> list[CriticalPoint]:
    """Every k-gon variant for k in `ks`: 0..n-k dead columns with positive bias."""
    return [find_kgon(k, n, p, m, loss_fn) for k in ks for p in range(n - k + 1)]
