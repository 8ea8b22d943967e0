"""Local learning coefficient (LLC) estimates: through devinterp 2.x, and a batched SGLD twin.

Both run the same SGLD update as devinterp's default sampler (`SGMCMC.sgld`, identity
preconditioner), per step and chain:

    w <- w - (lr / 2) * (n_beta * grad L_batch(w) + localization * (w - w_0)) + sqrt(lr) * N(0, 1)

with L_batch the package loss (sum over outputs, mean over the minibatch) and the LLC

    llc = n_beta * (mean of L_batch over the post-burn-in steps - L_n(w_0)),

where L_n(w_0) is the loss on the whole dataset. devinterp pitfalls handled here: its init loss
averages only `num_init_loss_batches` batches (we pass the whole dataset), its `llc_mean`
includes burn-in steps (we recompute from `loss_trace`), a reused `output_path` returns a cached
result (we give each call a fresh temporary folder and delete it), and `observables={}`.

Default hyperparameters (checked at the hexagon and pentagon critical points, see tests):
lr 1e-4, localization 10, n_beta = n / ln n, 4 chains x 4000 draws, no burn-in, batch 100, on
n = 5000 one-active-feature samples.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from toymodels.model import TiedTMS, loss, loss_per_sample


@dataclass(frozen=True)
class SGLDConfig:
    """SGLD settings shared by both estimators; `nbeta=None` means n / ln n."""

    lr: float = 1e-4
    localization: float = 10.0
    chains: int = 4
    draws: int = 4000
    burnin: int = 0
    batch_size: int = 100
    nbeta: float | None = None
    seed: int = 0

    def nbeta_for(self, n: int) -> float:
        return self.nbeta if self.nbeta is not None else n / math.log(n)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class LLCResult:
    """LLC mean and spread over chains; tensors have one entry per model."""

    mean: torch.Tensor
    std: torch.Tensor
    per_chain: torch.Tensor  # (chains, models)


class _PrefixedRows(torch.utils.data.Dataset):
    """Rows as devinterp items: {"input_ids": [0, x_1..x_n]} (it drops the first 'token')."""

    def __init__(self, data: torch.Tensor):
        self.rows = torch.cat([torch.zeros(len(data), 1), data.float()], dim=1)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.rows[i]}


def _per_token_loss(model: TiedTMS, input_ids: torch.Tensor) -> torch.Tensor:
    """devinterp wants (batch, seq - 1) = (batch, n); each 'token' carries the sample's loss,
    so devinterp's mean over tokens is exactly our per-sample loss."""
    x = input_ids[:, 1:]
    return loss_per_sample(model.W, model.b, x).unsqueeze(-1).expand(-1, x.shape[-1])


def llc_devinterp(W: torch.Tensor, b: torch.Tensor, data: torch.Tensor,
                  cfg: SGLDConfig) -> LLCResult:
    """LLC of one model (W (m, n), b (n)) on `data` (N, n) with devinterp's `llc()`."""
    from devinterp.slt.llc import llc

    n = len(data)
    if n % cfg.batch_size:
        raise ValueError(f"dataset size {n} must be a multiple of batch_size {cfg.batch_size}")
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = llc(TiedTMS(W, b), _PrefixedRows(data), observables={}, lr=cfg.lr,
                     n_beta=cfg.nbeta_for(n), loss_fn=_per_token_loss,
                     localization=cfg.localization, num_chains=cfg.chains,
                     num_draws=cfg.draws, num_burnin_steps=cfg.burnin,
                     batch_size=cfg.batch_size, num_init_loss_batches=n // cfg.batch_size,
                     init_seed=cfg.seed, device="cpu", output_path=Path(tmp) / "s.zarr")
        trace = torch.as_tensor(result["loss_trace"].values)[:, cfg.burnin:]
        init_loss = float(result["init_loss"].values)
    per_chain = cfg.nbeta_for(n) * (trace.double().mean(1) - init_loss)
    return LLCResult(per_chain.mean().reshape(1), per_chain.std(unbiased=False).reshape(1),
                     per_chain.unsqueeze(1))


def llc_batched(W: torch.Tensor, b: torch.Tensor, data: torch.Tensor, cfg: SGLDConfig,
                progress: bool = False) -> LLCResult:
    """LLC of many models at once: W (M, m, n), b (M, n), data (M, N, n) or shared (N, n).

    All models and chains take their SGLD steps together as one batched tensor computation.
    Minibatches follow devinterp: every chain sees the same batches, in a shuffled order.
    """
    gen = torch.Generator().manual_seed(cfg.seed)
    n = data.shape[-2]
    nbeta = cfg.nbeta_for(n)
    W0, b0 = W.detach().float(), b.detach().float()
    with torch.no_grad():
        init_loss = loss(W0, b0, data.float())  # (M,)
    Wc = W0.expand(cfg.chains, *W0.shape).clone().requires_grad_(True)
    bc = b0.expand(cfg.chains, *b0.shape).clone().requires_grad_(True)
    total = torch.zeros(cfg.chains, W0.shape[0], dtype=torch.float64)
    batches = n // cfg.batch_size
    order = torch.randperm(n, generator=gen)[: batches * cfg.batch_size].view(batches, -1)
    half, noise_scale = 0.5 * cfg.lr, math.sqrt(cfg.lr)
    steps = cfg.burnin + cfg.draws
    for step in tqdm(range(steps), desc="SGLD", disable=not progress, leave=False):
        x = data[..., order[step % batches], :]
        batch_loss = loss(Wc, bc, x)  # (chains, M)
        gW, gb = torch.autograd.grad(batch_loss.sum(), (Wc, bc))
        with torch.no_grad():
            if step >= cfg.burnin:
                total += batch_loss.detach()
            for p, g, p0 in ((Wc, gW, W0), (bc, gb, b0)):
                drift = nbeta * g + cfg.localization * (p - p0)
                p.add_(drift, alpha=-half)
                p.add_(torch.randn(p.shape, generator=gen), alpha=noise_scale)
    per_chain = nbeta * (total / cfg.draws - init_loss.double())
    return LLCResult(per_chain.mean(0), per_chain.std(0, unbiased=False), per_chain)
