"""ReLU SAE, Anthropic's April 2024 update: ReLU features, L1 weighted by decoder-row norms.

loss = ||x - x_hat||^2 + lambda(t) * sum_i f_i ||W_dec,i||, with lambda warmed up linearly over the
first `warmup` fraction of training; no decoder-norm constraint; decoder rows start at norm 0.1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from common.config import knob, nonnegative, probability
from sae.archs.base import SAE, LossParts, register, sq_error


@dataclass(frozen=True)
class ReluConfig:
    l1: float = knob(5.0, "ReLU: sparsity coefficient lambda", check=nonnegative)
    warmup: float = knob(0.05, "ReLU: fraction of the steps over which lambda warms up",
                         check=probability)


@register
class ReluSAE(SAE):
    arch = "relu"
    title = "ReLU"
    Config = ReluConfig
    default_lr = 1e-3  # chosen for the few hundred steps we can afford
    grid = {"l1": (1.0, 2.0, 3.0, 4.0, 5.0)}
    quick_grid = {"l1": (2.0, 5.0)}
    saelens_arch = "standard"  # SAELens's ReLU SAE

    @classmethod
    def tag(cls, hp: ReluConfig) -> str:
        return f"l1_{hp.l1:g}"

    def initialise(self, generator: torch.Generator, sample: torch.Tensor) -> None:
        self.init_weights(generator, dec_norm=0.1)

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        return torch.relu(pre)

    def loss(self, xs: torch.Tensor, progress: float, dead: torch.Tensor) -> LossParts:
        f = self.encode_scaled(xs)
        mse = sq_error(xs, self.decode_scaled(f))
        warmup, l1 = self.hp.warmup, self.hp.l1
        lam = l1 * min(1.0, progress / warmup) if warmup > 0 else l1
        sparsity = (f.sum(dim=0) * self.dec_weight.norm(dim=1)).sum() / xs.shape[0]
        return LossParts(mse + lam * sparsity, f,
                         {"mse": mse.item(), "l1": sparsity.item(), "lambda": lam})
