"""Initialisations for many models at once: random, k-gon (any k, radius, biases), k-gon + noise."""

from __future__ import annotations

import math

import torch


def kgon(k: int, n: int, radius: float, bias: float, dead_bias: float | list[float] = 0.0,
         m: int = 2, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """A regular k-gon in the first two hidden dimensions: W (m, n), b (n).

    Columns 0..k-1 are radius * (cos 2 pi i / k, sin 2 pi i / k) with bias `bias`; the other
    n - k columns are zero ("dead") with bias `dead_bias` (one value or one per dead column).
    """
    if not 1 <= k <= n or m < 2:
        raise ValueError(f"need 1 <= k <= n and m >= 2, got k={k}, n={n}, m={m}")
    W = torch.zeros(m, n, dtype=torch.float64)
    angles = torch.arange(k, dtype=torch.float64) * 2 * math.pi / k
    W[0, :k], W[1, :k] = radius * torch.cos(angles), radius * torch.sin(angles)
    b = torch.full((n,), float(bias), dtype=torch.float64)
    b[k:] = torch.as_tensor(dead_bias, dtype=torch.float64)
    return W.to(dtype), b.to(dtype)


def random_init(models: int, n: int, m: int, generator: torch.Generator | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Xavier-normal W (models, m, n) and zero biases, the usual TMS initialisation."""
    std = math.sqrt(2.0 / (m + n))
    return torch.randn(models, m, n, generator=generator) * std, torch.zeros(models, n)


def kgon_init(models: int, k: int, n: int, m: int = 2, radius: float = 1.0, bias: float = 0.0,
              dead_bias: float = 0.0, noise: float = 0.0,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """`models` copies of a k-gon, each with independent N(0, noise^2) added to W and b."""
    W, b = kgon(k, n, radius, bias, dead_bias, m)
    W = W.expand(models, m, n).clone()
    b = b.expand(models, n).clone()
    if noise > 0:
        W += noise * torch.randn(W.shape, generator=generator)
        b += noise * torch.randn(b.shape, generator=generator)
    return W, b
