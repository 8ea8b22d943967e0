"""SAE architectures behind one interface, with the input scaling stored inside the model.

Every SAE is trained on inputs multiplied by a fixed `scale` (chosen so that E||x|| = sqrt(d), the
April 2024 recipe). The scale is a buffer of the model, so whoever loads it (metrics, vis,
splicing) passes activations in their original units: `encode(x)` scales them itself, `decode(f)`
returns original units, and `W_dec` / `b_dec` are exposed in original units. Feature activations
are in the training units (independent of the activation scale of the source model).

An architecture is a subclass that sets `arch`, `activation` and `loss`; `ARCHS` maps names to
classes, so a third one (BatchTopK, JumpReLU) is a class and a registry entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from common.io import CheckpointError, load_checkpoint, save_checkpoint


@dataclass
class LossParts:
    """What one training step reports: the total loss and its named parts (floats)."""

    loss: torch.Tensor
    features: torch.Tensor
    parts: dict[str, float]


class SAE(nn.Module):
    """Common base: parameters in training (scaled) units, original-unit views on top."""

    arch: ClassVar[str] = ""
    subtract_dec_bias: ClassVar[bool] = False  # TopK encodes x - b_dec (Gao et al.)

    def __init__(self, d: int, n_features: int, scale: float = 1.0):
        super().__init__()
        if d < 1 or n_features < 1 or not scale > 0:
            raise ValueError(f"bad SAE shape d={d}, n_features={n_features}, scale={scale}")
        self.d, self.n_features = d, n_features
        self.register_buffer("scale", torch.tensor(float(scale)))
        self.enc_weight = nn.Parameter(torch.empty(d, n_features))
        self.enc_bias = nn.Parameter(torch.zeros(n_features))
        self.dec_weight = nn.Parameter(torch.empty(n_features, d))
        self.dec_bias = nn.Parameter(torch.zeros(d))

    # ----- what an architecture defines
    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, xs: torch.Tensor, progress: float, dead: torch.Tensor) -> LossParts:
        """Training loss on scaled inputs `xs`; `progress` in [0, 1]; `dead` marks dead latents."""
        raise NotImplementedError

    def hyper(self) -> dict:
        """Architecture hyper-parameters saved with the model (and passed back to __init__)."""
        return {}

    def before_step(self) -> None:
        """Hook between backward and the optimiser step."""

    def after_step(self) -> None:
        """Hook after the optimiser step."""

    # ----- shared machinery
    def init_weights(self, generator: torch.Generator, dec_norm: float,
                     dec_bias: torch.Tensor | None = None) -> None:
        """Decoder rows: random directions of norm `dec_norm`; encoder = decoder transposed."""
        with torch.no_grad():
            w = torch.randn(self.n_features, self.d, generator=generator)
            w *= dec_norm / w.norm(dim=1, keepdim=True)
            self.dec_weight.copy_(w)
            self.enc_weight.copy_(w.T)
            self.enc_bias.zero_()
            self.dec_bias.copy_(dec_bias if dec_bias is not None else torch.zeros(self.d))

    def pre_scaled(self, xs: torch.Tensor) -> torch.Tensor:
        if self.subtract_dec_bias:
            xs = xs - self.dec_bias
        return xs @ self.enc_weight + self.enc_bias

    def decode_scaled(self, f: torch.Tensor) -> torch.Tensor:
        return f @ self.dec_weight + self.dec_bias

    def encode_scaled(self, xs: torch.Tensor) -> torch.Tensor:
        return self.activation(self.pre_scaled(xs))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Feature activations `[B, n_features]` of original-unit activations `x` `[B, d]`."""
        return self.encode_scaled(x * self.scale)

    def decode(self, f: torch.Tensor) -> torch.Tensor:
        """Reconstruction in original units."""
        return self.decode_scaled(f) / self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    @property
    def W_dec(self) -> torch.Tensor:  # noqa: N802 (the name used in the literature)
        """Decoder `[n_features, d]` in original activation units."""
        return self.dec_weight / self.scale

    @property
    def b_dec(self) -> torch.Tensor:
        """Decoder bias `[d]` in original units."""
        return self.dec_bias / self.scale

    def config(self) -> dict:
        return {"arch": self.arch, "d": self.d, "n_features": self.n_features,
                "scale": float(self.scale), **self.hyper()}

    def save(self, path: str | Path, **extra) -> None:
        """Atomic checkpoint with the config needed to rebuild the model (see `load`)."""
        save_checkpoint(path, {"kind": "sae", "config": self.config(),
                               "model": self.state_dict(), **extra})


def sq_error(xs: torch.Tensor, xs_hat: torch.Tensor) -> torch.Tensor:
    """Per-sample squared error summed over dimensions, averaged over the batch."""
    return (xs - xs_hat).pow(2).sum(dim=1).mean()


class ReluSAE(SAE):
    """Anthropic's April 2024 update: ReLU features, L1 weighted by decoder-row norms.

    loss = ||x - x_hat||^2 + lambda(t) * sum_i f_i ||W_dec,i||, with lambda warmed up linearly
    over the first `warmup` fraction of training; no decoder-norm constraint.
    """

    arch = "relu"

    def __init__(self, d: int, n_features: int, scale: float = 1.0, l1: float = 5.0,
                 warmup: float = 0.05):
        super().__init__(d, n_features, scale)
        self.l1, self.warmup = l1, warmup

    def hyper(self) -> dict:
        return {"l1": self.l1, "warmup": self.warmup}

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        return torch.relu(pre)

    def loss(self, xs: torch.Tensor, progress: float, dead: torch.Tensor) -> LossParts:
        f = self.encode_scaled(xs)
        mse = sq_error(xs, self.decode_scaled(f))
        lam = self.l1 * min(1.0, progress / self.warmup) if self.warmup > 0 else self.l1
        sparsity = (f.sum(dim=0) * self.dec_weight.norm(dim=1)).sum() / xs.shape[0]
        return LossParts(mse + lam * sparsity, f,
                         {"mse": mse.item(), "l1": sparsity.item(), "lambda": lam})


def topk_relu(pre: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest entries of each row (ReLU'd), zero the rest."""
    values, idx = pre.topk(k, dim=1, sorted=False)
    return torch.zeros_like(pre).scatter_(1, idx, torch.relu(values))


class TopKSAE(SAE):
    """Gao et al. 2024: k largest pre-activations, unit-norm decoder rows, AuxK loss.

    AuxK: the `k_aux` largest pre-activations among dead latents reconstruct the residual
    x - x_hat (detached), weighted by `aux_coef` (1/32 in the paper).
    """

    arch = "topk"
    subtract_dec_bias = True

    def __init__(self, d: int, n_features: int, scale: float = 1.0, k: int = 32,
                 k_aux: int | None = None, aux_coef: float = 1 / 32):
        super().__init__(d, n_features, scale)
        if not 1 <= k <= n_features:
            raise ValueError(f"k must be in 1..{n_features}, got {k}")
        self.k, self.aux_coef = k, aux_coef
        self.k_aux = k_aux if k_aux is not None else max(1, d // 2)

    def hyper(self) -> dict:
        return {"k": self.k, "k_aux": self.k_aux, "aux_coef": self.aux_coef}

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        return topk_relu(pre, self.k)

    def loss(self, xs: torch.Tensor, progress: float, dead: torch.Tensor) -> LossParts:
        pre = self.pre_scaled(xs)
        f = topk_relu(pre, self.k)
        xs_hat = self.decode_scaled(f)
        mse = sq_error(xs, xs_hat)
        total, parts = mse, {"mse": mse.item()}
        n_dead = int(dead.sum())
        if n_dead and self.aux_coef > 0:
            masked = pre.masked_fill(~dead, float("-inf"))
            f_aux = topk_relu(masked, min(self.k_aux, n_dead))
            aux = sq_error((xs - xs_hat).detach(), f_aux @ self.dec_weight)
            total = total + self.aux_coef * aux
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


ARCHS: dict[str, type[SAE]] = {"relu": ReluSAE, "topk": TopKSAE}


def build(arch: str, d: int, n_features: int, scale: float = 1.0, **hyper) -> SAE:
    """An SAE of a registered architecture; ValueError names the known ones."""
    if arch not in ARCHS:
        raise ValueError(f"unknown SAE architecture {arch!r} (known: {', '.join(ARCHS)})")
    return ARCHS[arch](d, n_features, scale, **hyper)


def load(path: str | Path) -> SAE:
    """An SAE saved with `SAE.save`, in eval mode; CheckpointError with a one-line reason."""
    ckpt = load_checkpoint(path, required=("config", "model"))
    try:
        cfg = dict(ckpt["config"])
        sae = build(cfg.pop("arch"), cfg.pop("d"), cfg.pop("n_features"), cfg.pop("scale"), **cfg)
        sae.load_state_dict(ckpt["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not an SAE checkpoint ({first})") from None
    return sae.eval()
