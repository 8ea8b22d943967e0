"""TopK SAE (Gao et al. 2024): the k largest pre-activations (ReLU'd), unit-norm decoder rows,
and the AuxK loss for dead latents.

AuxK: the `k_aux` largest pre-activations among dead latents reconstruct the residual
x - x_hat (detached), weighted by `aux_coef` (1/32 in the paper).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from common.config import at_least, knob, nonnegative
from sae.archs.base import SAE, LossParts, register, sq_error


def topk_relu(pre: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest entries of each row (ReLU'd), zero the rest."""
    values, idx = pre.topk(k, dim=1, sorted=False)
    return torch.zeros_like(pre).scatter_(1, idx, torch.relu(values))


@dataclass(frozen=True)
class TopKConfig:
    k: int = knob(32, "TopK: active latents per input", check=at_least(1))
    k_aux: int | None = knob(None, "TopK: dead latents in the AuxK loss (None: d / 2)",
                             check=at_least(1))
    aux_coef: float = knob(1 / 32, "TopK: weight of the AuxK loss", check=nonnegative)


@register
class TopKSAE(SAE):
    arch = "topk"
    title = "TopK"
    Config = TopKConfig
    default_lr = 1e-3
    grid = {"k": (8, 16, 32, 64)}
    quick_grid = {"k": (8, 32)}
    subtract_dec_bias = True

    def check(self) -> None:
        if not 1 <= self.hp.k <= self.n_features:
            raise ValueError(f"k must be in 1..{self.n_features}, got {self.hp.k}")

    @property
    def k(self) -> int:
        return self.hp.k

    @property
    def k_aux(self) -> int:
        return self.hp.k_aux if self.hp.k_aux is not None else max(1, self.d // 2)

    @classmethod
    def fits(cls, hp: TopKConfig, n_features: int) -> bool:
        return hp.k < n_features

    def initialise(self, generator: torch.Generator, sample: torch.Tensor) -> None:
        self.init_weights(generator, dec_norm=1.0, dec_bias=sample.mean(0))

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        return topk_relu(pre, self.hp.k)

    def loss(self, xs: torch.Tensor, progress: float, dead: torch.Tensor) -> LossParts:
        pre = self.pre_scaled(xs)
        f = topk_relu(pre, self.hp.k)
        xs_hat = self.decode_scaled(f)
        mse = sq_error(xs, xs_hat)
        total, parts = mse, {"mse": mse.item()}
        n_dead = int(dead.sum())
        if n_dead and self.hp.aux_coef > 0:
            masked = pre.masked_fill(~dead, float("-inf"))
            f_aux = topk_relu(masked, min(self.k_aux, n_dead))
            aux = sq_error((xs - xs_hat).detach(), f_aux @ self.dec_weight)
            total = total + self.hp.aux_coef * aux
            parts["aux"] = aux.item()
        return LossParts(total, f, parts)

    @torch.no_grad()
    def before_step(self) -> None:
        """Remove the gradient component that would change decoder-row norms."""
        w, g = self.dec_weight, self.dec_weight.grad
        if g is not None:
            g -= (g * w).sum(dim=1, keepdim=True) * w / w.pow(2).sum(dim=1, keepdim=True)

    @torch.no_grad()
    def after_step(self) -> None:
        self.dec_weight /= self.dec_weight.norm(dim=1, keepdim=True)
