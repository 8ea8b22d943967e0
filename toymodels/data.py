"""Sparse-uniform data, shared by both toy-model families.

Each feature is independently active with probability `p_active` (= 1 - S, S the sparsity);
an active feature takes a value uniform on [0, 1] (or exactly 1 with `binary=True`).
"""

from __future__ import annotations

import torch


def sparse_uniform(batch: int, n: int, p_active: float | torch.Tensor,
                   generator: torch.Generator | None = None, binary: bool = False,
                   leading: tuple[int, ...] = ()) -> torch.Tensor:
    """Sample a tensor of shape `leading + (batch, n)`.

    `p_active` may be a tensor broadcastable to `leading + (1, 1)` so that many models with
    different sparsities draw their batches in one call.
    """
    shape = (*leading, batch, n)
    mask = torch.rand(shape, generator=generator) < p_active
    if binary:
        return mask.float()
    return mask * torch.rand(shape, generator=generator)
