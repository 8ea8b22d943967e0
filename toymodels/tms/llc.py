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

Default hyperparameters: lr 1e-4, localization 10, n_beta = n / ln n, 4 chains x 4000 draws, no
burn-in, batch 100, on n = 5000 one-active-feature samples. They were chosen at the hexagon and
pentagon critical points; `toymodels.tms.llc_checks` checks them at held-out points (the
positive-bias pentagon, n = 10000, localization 5) and records where they fail (n = 2000,
localization 20: 16-19% low).
"""

from __future__ import annotations

import math
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from common.config import knob, nonnegative, positive
from toymodels.tms.model import TiedTMS, loss, loss_and_grad, loss_per_sample


@dataclass(frozen=True)
class SGLDConfig:
    """SGLD settings shared by both estimators; `nbeta=None` means n / ln n.

    Flags are prefixed `--llc-` (bar `--localization`) so that they sit beside a training
    config's `--lr`, `--batch-size` and `--seed`.
    """

    lr: float = knob(1e-4, "SGLD step size", check=positive, flag="--llc-lr")
    localization: float = knob(10.0, "SGLD localization (pull towards the start point)",
                               check=nonnegative)
    chains: int = knob(4, "SGLD chains per model", check=positive, flag="--llc-chains")
    draws: int = knob(4000, "SGLD draws per chain", check=positive, flag="--llc-draws")
    burnin: int = knob(0, "SGLD burn-in steps (not averaged)", check=nonnegative,
                       flag="--llc-burnin")
    batch_size: int = knob(100, "SGLD minibatch size", check=positive, flag="--llc-batch-size")
    nbeta: float | None = knob(None, "n * beta of the tempered posterior (None: n / ln n)",
                               check=positive, flag="--llc-nbeta")
    seed: int = knob(0, "seed of the SGLD noise and minibatch order", flag="--llc-seed")

    def nbeta_for(self, n: int) -> float:
        return self.nbeta if self.nbeta is not None else n / math.log(n)


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
                     init_seed=cfg.seed, device=str(W.device), output_path=Path(tmp) / "s.zarr")
        trace = torch.as_tensor(result["loss_trace"].values)[:, cfg.burnin:]
        init_loss = float(result["init_loss"].values)
    per_chain = cfg.nbeta_for(n) * (trace.double().mean(1) - init_loss)
    return LLCResult(per_chain.mean().reshape(1), per_chain.std(unbiased=False).reshape(1),
                     per_chain.unsqueeze(1))


def sgld_step(p: torch.Tensor, grad: torch.Tensor, start: torch.Tensor, noise: torch.Tensor,
              lr: float, nbeta: float, localization: float) -> None:
    """devinterp's SGLD step in place: p -= lr/2 (nbeta grad + loc (p - start)) - sqrt(lr) noise."""
    p.add_(nbeta * grad + localization * (p - start), alpha=-0.5 * lr)
    p.add_(noise, alpha=math.sqrt(lr))


@torch.no_grad()
def llc_batched(W: torch.Tensor, b: torch.Tensor, data: torch.Tensor, cfg: SGLDConfig,
                progress: bool = False) -> LLCResult:
    """LLC of many models at once, all chains and models stepping together.

    W (..., M, m, n), b (..., M, n) with either one dataset per model, data (M, N, n), or one
    shared dataset, data (N, n) (then W may be (..., m, n)). Results have shape W.shape[:-2].
    Minibatches follow devinterp: every chain sees the same batches, in a shuffled order that
    repeats each epoch. Runs on the device of W; the random numbers are drawn on the CPU, so a
    GPU run follows the same chains (up to rounding).
    """
    gen = torch.Generator().manual_seed(cfg.seed)
    device = W.device
    data = data.float()
    W0, b0 = W.detach().float(), b.detach().float()
    if data.dim() == 2:
        data, W0, b0 = data.unsqueeze(0), W0.unsqueeze(-3), b0.unsqueeze(-2)
    *lead, M, m, n_features = W0.shape
    if data.shape[0] != M:
        raise ValueError(f"data has {data.shape[0]} datasets for {M} models")
    n = data.shape[-2]
    nbeta = cfg.nbeta_for(n)
    init_loss = loss(W0, b0, data).double()  # (..., M), on the whole dataset
    Wr, br = W0.reshape(-1, M, m, n_features), b0.reshape(-1, M, n_features)
    start_W, start_b = Wr.repeat(cfg.chains, 1, 1, 1), br.repeat(cfg.chains, 1, 1)
    Wc, bc = start_W.clone(), start_b.clone()
    total = torch.zeros(Wc.shape[:2], dtype=torch.float64, device=device)
    batches = n // cfg.batch_size
    order = torch.randperm(n, generator=gen)[: batches * cfg.batch_size].view(batches, -1)
    order = order.to(device)
    for step in tqdm(range(cfg.burnin + cfg.draws), desc="SGLD", disable=not progress,
                     leave=False):
        x = data.index_select(1, order[step % batches])
        batch_loss, gW, gb = loss_and_grad(Wc, bc, x)
        if step >= cfg.burnin:
            total += batch_loss
        for p, g, p0 in ((Wc, gW, start_W), (bc, gb, start_b)):
            sgld_step(p, g, p0, torch.randn(p.shape, generator=gen).to(device), cfg.lr, nbeta,
                      cfg.localization)
    mean_loss = (total / cfg.draws).view(cfg.chains, *lead, M)
    per_chain = (nbeta * (mean_loss - init_loss)).cpu()
    if W.dim() == W0.dim() - 1:  # shared dataset: drop the added model axis
        per_chain = per_chain.squeeze(-1)
    return LLCResult(per_chain.mean(0), per_chain.std(0, unbiased=False), per_chain)
