"""ReLU SAE, Anthropic's April 2024 update: ReLU features, L1 weighted by decoder-row norms.

loss = ||x - x_hat||^2 + lambda(t) * sum_i f_i ||W_dec,i||, with lambda warmed up linearly over the
first `warmup` fraction of training; no decoder-norm constraint; decoder rows start at norm 0.1.
"""

from __future__ import annotations

import torch

from sae.archs.base import SAE, LossParts, register, sq_error
from sae.specs import RELU, ReluConfig


@register
class ReluSAE(SAE):
    spec = RELU  # name, hyper-parameters (ReluConfig), lr and grid values, torch-free
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
