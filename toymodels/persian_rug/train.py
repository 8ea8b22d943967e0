"""Many untied toy models y = ReLU(W_out W_in x + b) trained at once on sparse-uniform data.

K models with the same (n, m) share every tensor op through a leading model dimension; each has
its own density p_k, so one call trains a whole sparsity sweep at one (n, r). The loss is the
per-feature MSE (mean over batch and features), summed over models so that their gradients stay
independent. Recipe after Cowsik et al. (2024): Adam, lr 3e-3 / sqrt(n), batch 1024, fresh
samples every step; we add a linear decay of the lr to zero over the last `decay_frac` of steps
so that the final weights are not dominated by the sampling noise of the last steps.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from common.io import save_checkpoint
from toymodels.data import sparse_uniform
from toymodels.stages import load_stage


class UntiedModels(nn.Module):
    """K untied models: w_in [K, m, n], w_out [K, n, m], b [K, n]."""

    def __init__(self, k: int, n: int, m: int, generator: torch.Generator | None = None):
        super().__init__()
        self.n, self.m = n, m
        self.w_in = nn.Parameter(torch.randn(k, m, n, generator=generator) / math.sqrt(n))
        self.w_out = nn.Parameter(torch.randn(k, n, m, generator=generator) / math.sqrt(m))
        self.b = nn.Parameter(torch.zeros(k, n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [K, B, n] -> ReLU(x W_in^T W_out^T + b), [K, B, n]."""
        h = torch.bmm(x, self.w_in.transpose(1, 2))
        return torch.relu(torch.baddbmm(self.b.unsqueeze(1), h, self.w_out.transpose(1, 2)))

    @torch.no_grad()
    def effective_w(self) -> torch.Tensor:
        """W = W_out W_in, [K, n, n]."""
        return torch.bmm(self.w_out, self.w_in)


def per_model_loss(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-feature MSE of each model, [K] (zero prediction costs p/3)."""
    return ((y - x) ** 2).mean(dim=(1, 2))


@dataclass(frozen=True)
class UntiedTrainConfig:
    """Training settings for one batch of untied models (built per job by `experiment`; the
    CLI knobs live in `experiment.PersianRugConfig`)."""

    n: int
    m: int
    ps: tuple[float, ...]
    steps: int
    batch: int = 1024
    lr_scale: float = 3e-3  # lr = lr_scale / sqrt(n)
    decay_frac: float = 0.2
    seed: int = 0
    init: str = "random"  # a label for `init_params` when the caller passes them


def _lr_at(cfg: UntiedTrainConfig, step: int) -> float:
    base = cfg.lr_scale / math.sqrt(cfg.n)
    start = int(cfg.steps * (1 - cfg.decay_frac))
    if step < start:
        return base
    return base * max(cfg.steps - step, 0) / max(cfg.steps - start, 1)


@torch.no_grad()
def evaluate(models: UntiedModels, ps: torch.Tensor, samples: int, seed: int,
             chunk: int = 4096) -> torch.Tensor:
    """Per-model loss on `samples` fresh samples, [K] (float64 accumulation)."""
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros(ps.numel(), dtype=torch.float64)
    done = 0
    while done < samples:
        b = min(chunk, samples - done)
        x = sparse_uniform(b, models.n, ps.view(-1, 1, 1), generator=gen, leading=(ps.numel(),))
        total += per_model_loss(models(x), x).double() * b
        done += b
    return total / samples


def _config_key(cfg: UntiedTrainConfig) -> dict:
    key = asdict(cfg) | {"ps": list(cfg.ps)}
    if cfg.init == "random":  # checkpoints written before `init` existed stay valid
        del key["init"]
    return key


def train_untied(cfg: UntiedTrainConfig, checkpoint: str | Path | None = None,
                 checkpoint_every: int = 500, progress: bool = True, log=None,
                 init_params: tuple[torch.Tensor, ...] | None = None,
                 ) -> tuple[UntiedModels, list[list[float]]]:
    """Train len(cfg.ps) models at once; resume from `checkpoint` when it holds this config.

    `init_params` = (w_in [K, m, n], w_out [K, n, m], b [K, n]) replaces the random init (e.g. to
    start from the Hadamard model); name it in `cfg.init`. A checkpoint that cannot be read raises
    `toymodels.stages.StageFileError`. Returns the models and the loss
    history (one row of per-model batch losses every 50 steps).
    """
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    models = UntiedModels(len(cfg.ps), cfg.n, cfg.m, generator=gen)
    if init_params is not None:
        with torch.no_grad():
            for param, value in zip(models.parameters(), init_params, strict=True):
                param.copy_(value)
    opt = torch.optim.Adam(models.parameters(), lr=_lr_at(cfg, 0))
    ps = torch.tensor(cfg.ps, dtype=torch.float32)
    start, history = 0, []
    state = None if checkpoint is None else load_stage(
        checkpoint, required=("config", "model", "optim", "step", "rng"))
    if state is not None:  # a bad file raises StageFileError (see toymodels.stages)
        if state["config"] == _config_key(cfg):
            models.load_state_dict(state["model"])
            opt.load_state_dict(state["optim"])
            gen.set_state(state["rng"])
            start, history = state["step"], state["history"]
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not progress,
               desc=f"n={cfg.n} m={cfg.m} x{len(cfg.ps)}", leave=False)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = _lr_at(cfg, step)
        x = sparse_uniform(cfg.batch, cfg.n, ps.view(-1, 1, 1), generator=gen,
                           leading=(len(cfg.ps),))
        losses = per_model_loss(models(x), x)
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        opt.step()
        if step % 50 == 0 or step == cfg.steps - 1:
            history.append([step, *losses.detach().tolist()])
            if log is not None:
                log({f"loss/p={p:g}": v for p, v in zip(cfg.ps, history[-1][1:], strict=True)})
        if checkpoint is not None and ((step + 1) % checkpoint_every == 0
                                       or step + 1 == cfg.steps):
            save_checkpoint(checkpoint, {
                "config": _config_key(cfg), "model": models.state_dict(),
                "optim": opt.state_dict(), "step": step + 1, "rng": gen.get_state(),
                "history": history})
    return models, history
