"""Training loop shared by every SAE architecture (see `sae.archs`).

Adam on shuffled minibatches from the memory-mapped activations, with the input scale fixed
before training (E||x|| = sqrt(d) on the training rows), the architecture's own initialisation
from a sample of the training rows, gradient-norm clipping, a constant learning rate decayed
linearly to 0 over the last `decay` fraction of steps, and a count of the tokens since each latent
last fired (latents silent for `dead_window` tokens are dead; TopK feeds them to its AuxK loss).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from sae.archs import SAE, get
from sae.data import Split, batches, gather, mean_norm

DEAD_WINDOW_CAP = 10_000_000  # tokens: Gao et al.'s dead window


@dataclass(frozen=True)
class TrainConfig:
    """One SAE's training run (architecture and its hyper-parameters, size, schedule, seed)."""

    arch: str = "relu"
    n_features: int = 1024
    hyper: Any = None  # the architecture's Config (or a dict of its fields; None: its defaults)
    steps: int = 500
    batch_size: int = 1024
    lr: float | None = None  # None: the architecture's default_lr
    decay: float = 0.2
    dead_tokens: int | None = None  # None: DEAD_WINDOW_CAP or a tenth of the run (dead_window)
    grad_clip: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        cls = get(self.arch)
        hyper = self.hyper
        if hyper is None:
            hyper = cls.Config()
        elif isinstance(hyper, dict):
            hyper = cls.Config(**hyper)
        elif not isinstance(hyper, cls.Config):
            raise TypeError(f"hyper for {self.arch} must be a {cls.Config.__name__} or a dict")
        object.__setattr__(self, "hyper", hyper)

    @property
    def dead_window(self) -> int:
        """Training tokens a latent must stay silent to count as dead. Default: a tenth of the
        tokens the run sees, capped at the paper's 10M (Gao et al.). The paper's runs see billions
        of tokens; ours see 1e5-1e6, where 10M (or the old 200k) is longer than the run and AuxK
        never starts. A tenth leaves AuxK 90% of the run, and a latent that fires on a fraction
        p >= 10 / window of the rows is flagged dead by chance with probability < e^-10."""
        if self.dead_tokens is not None:
            return self.dead_tokens
        return max(1, min(DEAD_WINDOW_CAP, self.steps * self.batch_size // 10))

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else get(self.arch).default_lr

    @property
    def name(self) -> str:
        cls = get(self.arch)
        extra = [f"{f.name}{getattr(self.hyper, f.name)}"
                 for f in dataclasses.fields(self.hyper)
                 if f.name not in cls.grid and getattr(self.hyper, f.name) != f.default]
        return "_".join([f"{self.arch}_f{self.n_features}", cls.tag(self.hyper), *extra]).strip("_")

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        cls = get(self.arch)
        out.update(hyper=dataclasses.asdict(self.hyper), lr=self.learning_rate, name=self.name,
                   dead_window=self.dead_window,
                   sparsity=cls.sparsity(self.hyper), label=cls.label(self.hyper))
        return out


def training_bytes(cfg: TrainConfig, d: int, test_rows: int) -> int:
    """About the memory one SAE needs: encoder and decoder with their gradients and Adam moments
    (8 d F floats), a few batch-sized feature tensors and the held-out features (float32)."""
    f = cfg.n_features
    return 4 * (8 * d * f + (3 * cfg.batch_size + test_rows + 8192) * f)


class DivergedError(ValueError):
    """Training ended with non-finite weights (too high a learning rate)."""


def make_sae(cfg: TrainConfig, acts: np.ndarray, rows: np.ndarray) -> SAE:
    """A freshly initialised SAE with its input scale set from the training rows."""
    d = acts.shape[1]
    scale = math.sqrt(d) / mean_norm(acts, rows, seed=cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    sae = get(cfg.arch)(d, cfg.n_features, scale, hp=cfg.hyper)
    sample = rows[np.random.default_rng(cfg.seed).permutation(len(rows))[:20_000]]
    sae.initialise(gen, gather(acts, sample) * scale)
    return sae


def lr_factor(step: int, steps: int, decay: float) -> float:
    """1 until the last `decay` fraction of steps, then linearly down to 0 at the end."""
    start = steps * (1 - decay)
    return 1.0 if step < start else max(0.0, (steps - step) / max(steps - start, 1e-9))


@torch.no_grad()
def update_since_fired(since_fired: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """Tokens since each latent last fired, after a batch of feature activations."""
    return torch.where((features > 0).any(dim=0), 0, since_fired + features.shape[0])


def train_sae(cfg: TrainConfig, acts: np.ndarray, split: Split, progress: bool = True,
              log: Callable[[dict], None] | None = None, log_every: int = 50,
              device: str | torch.device = "cpu") -> tuple[SAE, list[dict]]:
    """Train one SAE on `acts[split.train]` on `device`; returns the model (on the CPU, where
    evaluation and export read it) and a short loss history."""
    sae = make_sae(cfg, acts, split.train).to(device).train()
    opt = torch.optim.Adam(sae.parameters(), lr=cfg.learning_rate)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, cfg.steps, cfg.decay))
    since_fired = torch.zeros(cfg.n_features, dtype=torch.long, device=sae.scale.device)
    rng = np.random.default_rng(cfg.seed)
    stream = batches(acts, split.train, cfg.batch_size, rng)
    history: list[dict] = []
    bar = tqdm(range(cfg.steps), desc=cfg.name, disable=not progress, leave=False)
    for step in bar:
        xs = next(stream).to(sae.scale.device) * sae.scale
        out = sae.loss(xs, step / cfg.steps, since_fired >= cfg.dead_window)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        sae.before_step()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(sae.parameters(), cfg.grad_clip)
        opt.step()
        sched.step()
        sae.after_step()
        since_fired = update_since_fired(since_fired, out.features)
        if step % log_every == 0 or step == cfg.steps - 1:
            row = {"step": step, "loss": out.loss.item(), **out.parts,
                   "fvu_batch": out.parts["mse"] / float(xs.var(dim=0).sum()),
                   "l0_batch": float((out.features > 0).sum(dim=1).float().mean()),
                   "dead_fraction": float((since_fired >= cfg.dead_window).float().mean())}
            history.append(row)
            bar.set_postfix(loss=f"{row['loss']:.3g}", l0=f"{row['l0_batch']:.1f}")
            if log is not None:
                log({f"{cfg.name}/{k}": v for k, v in row.items()})
    if not all(bool(torch.isfinite(p).all()) for p in sae.parameters()):
        raise DivergedError(f"SAE {cfg.name} diverged (non-finite weights at the end of "
                            f"training, lr {cfg.learning_rate:g}); lower --lr")
    return sae.cpu().eval(), history
