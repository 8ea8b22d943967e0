"""TopK SAE (Gao et al. 2024, "Scaling and evaluating sparse autoencoders"): the k largest
pre-activations (ReLU'd), unit-norm decoder rows, a pre-encoder bias (the decoder bias, subtracted
before encoding) initialised at the geometric median of the data, and the AuxK loss.

Loss, normalised as in the paper and its reference code (openai/sparse_autoencoder, train.py):

    L = ||x - x_hat||^2 / E||x - mean(x)||^2 + aux_coef * ||e - e_hat||^2 / ||e - mean_B(e)||^2

- the main term is the squared error divided by a constant, the data's variance E||x - mean||^2
  measured on the initialisation sample (the reference scales its MSE by 1 / that variance): an
  FVU, so it is comparable with the auxiliary term whatever the activation scale;
- e = x - x_hat (detached) is the residual; e_hat = sum of W_dec,i f_aux,i over the `k_aux`
  largest (ReLU'd) pre-activations among the *dead* latents (silent for the trainer's dead window;
  the decoder bias cancels); its squared error is divided by the residual's variance over the
  batch (the reference's `normalized_mse`), and weighted by aux_coef = 1/32;
- k_aux defaults to d / 2 (the paper: a power of two close to d_model / 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from common.config import at_least, knob, nonnegative
from sae.archs.base import SAE, LossParts, register


def topk_relu(pre: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest entries of each row (ReLU'd), zero the rest."""
    values, idx = pre.topk(k, dim=1, sorted=False)
    return torch.zeros_like(pre).scatter_(1, idx, torch.relu(values))


def geometric_median(x: torch.Tensor, iters: int = 200, tol: float = 1e-7) -> torch.Tensor:
    """The point minimising the summed Euclidean distance to the rows of `x` (Weiszfeld's
    iteration from the mean, in float64)."""
    x = x.double()
    y = x.mean(0)
    for _ in range(iters):
        w = 1.0 / (x - y).norm(dim=1).clamp_min(1e-12)
        nxt = (w[:, None] * x).sum(0) / w.sum()
        done = float((nxt - y).norm()) <= tol * (1.0 + float(y.norm()))
        y = nxt
        if done:
            break
    return y.float()


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
    # With the normalised loss the trainer's gradient clipping (norm 1) never binds; at 1e-3 the
    # quick grid's FVU rose from 0.19 to 0.22 (topk_f256_k32), at 3e-3 it is 0.15.
    default_lr = 3e-3
    grid = {"k": (8, 16, 32, 64)}
    quick_grid = {"k": (8, 32)}
    subtract_dec_bias = True
    saelens_arch = "topk"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # E||x - mean||^2 of the (scaled) training data, set by `initialise`; training only
        self.register_buffer("data_var", torch.tensor(1.0), persistent=False)

    def check(self) -> None:
        if not 1 <= self.hp.k <= self.n_features:
            raise ValueError(f"k must be in 1..{self.n_features}, got {self.hp.k}")

    def saelens_config(self) -> dict:
        return {"k": self.hp.k, "rescale_acts_by_decoder_norm": False}

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
        self.init_weights(generator, dec_norm=1.0, dec_bias=geometric_median(sample))
        with torch.no_grad():
            self.data_var.fill_(float((sample - sample.mean(0)).pow(2).sum(1).mean()))

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        return topk_relu(pre, self.hp.k)

    def aux_loss(self, pre: torch.Tensor, residual: torch.Tensor,
                 dead: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(normalised AuxK loss, its raw squared error per row): the k_aux largest dead
        pre-activations reconstruct the (detached) residual."""
        masked = pre.masked_fill(~dead, float("-inf"))
        f_aux = topk_relu(masked, min(self.k_aux, int(dead.sum())))
        sq = (residual - f_aux @ self.dec_weight).pow(2).sum(1).mean()
        var = (residual - residual.mean(0)).pow(2).sum(1).mean()
        return torch.where(var > 0, sq / var.clamp_min(1e-30), 0.0), sq

    def loss(self, xs: torch.Tensor, progress: float, dead: torch.Tensor) -> LossParts:
        pre = self.pre_scaled(xs)
        f = topk_relu(pre, self.hp.k)
        xs_hat = self.decode_scaled(f)
        sq = (xs - xs_hat).pow(2).sum(dim=1).mean()
        nmse = sq / self.data_var
        total, parts = nmse, {"mse": sq.item(), "nmse": nmse.item()}
        if bool(dead.any()) and self.hp.aux_coef > 0:
            aux, aux_sq = self.aux_loss(pre, (xs - xs_hat).detach(), dead)
            total = total + self.hp.aux_coef * aux
            parts.update(aux=aux.item(), aux_mse=aux_sq.item())
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
