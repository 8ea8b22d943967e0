"""Vectorised training of many toy models at once, with log-spaced checkpoints.

All models share one optimiser step; since each model's loss depends only on its own parameters,
and Adam/SGD act elementwise, this is exactly per-model training (the tests check it). Gradients
are the exact tied gradients from `model.loss_and_grad` (checked against autograd in the
tests). Minibatch indices are drawn once per step and shared by all models (each model has its
own dataset), so a single model trained with the same seed sees the same batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from common.config import knob, positive
from toymodels.tms.model import loss, loss_and_grad


@dataclass(frozen=True)
class TiedTrainConfig:
    """Optimiser settings of the tied models; `checkpoints` log-spaced steps are kept."""

    steps: int = knob(10000, "training steps", check=positive)
    lr: float = knob(5e-3, "learning rate of the optimiser", check=positive)
    batch_size: int = knob(256, "training minibatch size", check=positive)
    optimizer: str = knob("adam", "optimiser", choices=("adam", "sgd"))
    checkpoints: int = knob(12, "log-spaced checkpoints kept (step 0 included)", check=positive)


@dataclass
class Trajectory:
    """Parameters and full-dataset losses at the checkpoint steps: W (K, M, m, n), b (K, M, n)."""

    steps: torch.Tensor  # (K,)
    W: torch.Tensor
    b: torch.Tensor
    loss: torch.Tensor  # (K, M)


def checkpoint_steps(steps: int, count: int) -> list[int]:
    """Step 0 and `count - 1` (or fewer, when they coincide) log-spaced steps up to `steps`."""
    logs = np.logspace(0, np.log10(max(steps, 1)), max(count - 1, 1))
    return sorted({0, *(int(round(s)) for s in logs)} & set(range(steps + 1)))


def train_many(W: torch.Tensor, b: torch.Tensor, data: torch.Tensor, cfg: TiedTrainConfig,
               seed: int = 0, progress: bool = False,
               importance: torch.Tensor | None = None) -> Trajectory:
    """Train models W (M, m, n), b (M, n) on their datasets `data` (M, N, n); `importance`
    (n,) weights the outputs' squared errors."""
    gen = torch.Generator().manual_seed(seed)
    W, b = W.detach().clone(), b.detach().clone()  # gradients come from `loss_and_grad`
    opt_cls = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[cfg.optimizer]
    opt = opt_cls([W, b], lr=cfg.lr)
    keep = set(checkpoint_steps(cfg.steps, cfg.checkpoints))
    saved_W, saved_b, saved_loss, saved_steps = [], [], [], []
    for step in tqdm(range(cfg.steps + 1), desc="train", disable=not progress, leave=False):
        if step in keep:
            with torch.no_grad():
                saved_W.append(W.detach().clone())
                saved_b.append(b.detach().clone())
                saved_loss.append(loss(W, b, data, importance))
                saved_steps.append(step)
        if step == cfg.steps:
            break
        idx = torch.randint(data.shape[-2], (cfg.batch_size,), generator=gen)
        _, gW, gb = loss_and_grad(W[None], b[None], data.index_select(1, idx), importance)
        W.grad, b.grad = gW[0], gb[0]
        opt.step()
    return Trajectory(torch.tensor(saved_steps), torch.stack(saved_W), torch.stack(saved_b),
                      torch.stack(saved_loss))
