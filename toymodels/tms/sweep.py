"""The sparsity sweep: many toy models per sparsity and initialisation, trained together, with
the LLC estimated at every saved checkpoint, and the summaries the sweep reports.

Each model has its own dataset of `samples` sparse-uniform vectors (the training set, and the
data of its LLC, so n_beta = samples / ln samples). The run folder holds the trained trajectory
(`train.pt`; a bad one raises `toymodels.stages.StageFileError`) and one LLC file per sparsity
(`llc_<s>.pt`, the result of one task of `common.executor`, in-process or on Ray; a bad one is
redone with a warning), so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from common.config import ConfigError, knob, nonnegative, positive
from common.executor import Executor, LocalExecutor, Task, run_tasks
from common.io import save_checkpoint, say_reused
from toymodels.data import sparse_uniform
from toymodels.stages import load_stage
from toymodels.tms.inits import kgon_init
from toymodels.tms.llc import SGLDConfig, llc_batched
from toymodels.tms.train import TiedTrainConfig, train_many

INITS = {"hexagon": 6, "4-gon": 4}


def default_sparsities() -> tuple[float, ...]:
    """The seed project's grid: 1 - exp(-linspace(0, 5, 10)) without its first value, 0."""
    return tuple(float(s) for s in 1 - np.exp(-np.linspace(0, 5, 10)[1:]))


def sparsity(v: float) -> str | None:
    """Value check: a sparsity S in [0, 1) (S = 1 would leave no data)."""
    ok = isinstance(v, (int, float)) and math.isfinite(v) and 0 <= v < 1
    return None if ok else "expected a sparsity in [0, 1)"


@dataclass(frozen=True)
class SparsitySweepConfig:
    """Every knob of the sparsity sweep (flags of scripts/sweep_sparsity.py)."""

    sparsities: tuple[float, ...] = knob(
        default_sparsities(), "sparsities S (default 1 - exp(-linspace(0, 5, 10))[1:])",
        check=sparsity)
    models: int = knob(50, "models per sparsity and initialisation", check=positive)
    inits: tuple[str, ...] = knob(("hexagon", "4-gon"), "initialisations (k-gon + noise)",
                                  choices=tuple(INITS))
    n: int = knob(6, "features", check=positive)
    m: int = knob(2, "hidden dimensions", check=positive)
    samples: int = knob(5000, "dataset size per model (training set and LLC data)",
                        check=positive)
    init_radius: float = knob(1.0, "radius of the initial k-gon", check=nonnegative)
    init_bias: float = knob(0.0, "initial bias of every column")
    init_noise: float = knob(0.05, "std of the Gaussian noise added to the initial k-gon",
                             check=nonnegative)
    train: TiedTrainConfig = TiedTrainConfig()
    sgld: SGLDConfig = SGLDConfig()
    seed: int = knob(0, "seed of the data, the initialisations and the minibatches")


DEFAULT = SparsitySweepConfig()
QUICK = replace(DEFAULT, sparsities=(0.671, 0.938, 0.988), models=12, samples=1000,
                train=replace(DEFAULT.train, steps=5000, checkpoints=8),
                sgld=replace(DEFAULT.sgld, draws=2000, chains=2))


def check_sweep(cfg: SparsitySweepConfig) -> SparsitySweepConfig:
    """Cross-field checks the per-field ones cannot make; raises ConfigError."""
    if cfg.samples < cfg.sgld.batch_size:
        raise ConfigError(f"--samples ({cfg.samples}) must be at least --llc-batch-size "
                          f"({cfg.sgld.batch_size})")
    if cfg.m < 2:
        raise ConfigError(f"--m must be at least 2 for a k-gon, got {cfg.m}")
    if max(INITS[name] for name in cfg.inits) > cfg.n:
        raise ConfigError(f"--n ({cfg.n}) is smaller than a k-gon of --inits {cfg.inits}")
    return cfg


@dataclass
class SweepResult:
    """Everything per model (T = sparsities x inits x models, in that nesting order)."""

    steps: torch.Tensor  # (K,)
    W: torch.Tensor  # (K, T, m, n)
    b: torch.Tensor  # (K, T, n)
    loss: torch.Tensor  # (K, T)
    llc: torch.Tensor  # (K, T) mean over chains
    llc_std: torch.Tensor  # (K, T) spread over chains
    sparsity_index: torch.Tensor  # (T,)
    init_index: torch.Tensor  # (T,)
    seconds: dict[str, float]  # compute time of each stage (as stored, also when resumed)


def _labels(cfg: SparsitySweepConfig) -> tuple[torch.Tensor, torch.Tensor]:
    inits, models = len(cfg.inits), cfg.models
    grid = torch.arange(len(cfg.sparsities) * inits * models)
    return grid // (inits * models), (grid // models) % inits


def make_data(cfg: SparsitySweepConfig) -> torch.Tensor:
    """Each model's dataset, (T, samples, n); regenerated identically from the seed on resume."""
    sparsity_index, _ = _labels(cfg)
    p_active = 1 - torch.tensor(cfg.sparsities)[sparsity_index]
    gen = torch.Generator().manual_seed(cfg.seed)
    return sparse_uniform(cfg.samples, cfg.n, p_active.view(-1, 1, 1), gen,
                          leading=(len(p_active),))


def make_init(cfg: SparsitySweepConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """k-gon plus noise for every model, in the (sparsity, init, model) order."""
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    Ws, bs = [], []
    for _ in cfg.sparsities:
        for name in cfg.inits:
            W, b = kgon_init(cfg.models, INITS[name], cfg.n, cfg.m, cfg.init_radius,
                             cfg.init_bias, cfg.init_bias, cfg.init_noise, gen)
            Ws.append(W)
            bs.append(b)
    return torch.cat(Ws), torch.cat(bs)


def _cached(path: Path, config: dict) -> dict | None:
    """A finished stage's file, if it exists and was made with the same configuration."""
    obj = load_stage(path)
    return obj if obj is not None and obj.get("config") == config else None


def llc_of(W: torch.Tensor, b: torch.Tensor, data: torch.Tensor, sgld: SGLDConfig) -> dict:
    """One sparsity's LLC estimates (a task of the sweep: `common.executor`)."""
    start = time.perf_counter()
    est = llc_batched(W, b, data, sgld)
    return {"mean": est.mean.float(), "std": est.std.float(),
            "seconds": time.perf_counter() - start}


def run_sweep(cfg: SparsitySweepConfig, run_dir: Path, progress: bool = True,
              executor: Executor | None = None) -> SweepResult:
    """Train all models in one batch, then estimate LLCs per sparsity: one task each, on
    `executor` (in this process by default); every stage resumes."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config = asdict(cfg)
    data = make_data(cfg)
    trained = _cached(run_dir / "train.pt", config)
    if trained is not None:
        say_reused("trained models (same config)", run_dir / "train.pt")
    else:
        start = time.perf_counter()
        W0, b0 = make_init(cfg)
        traj = train_many(W0, b0, data, cfg.train, seed=cfg.seed, progress=progress)
        trained = {"config": config, "steps": traj.steps, "W": traj.W, "b": traj.b,
                   "loss": traj.loss, "seconds": time.perf_counter() - start}
        save_checkpoint(run_dir / "train.pt", trained)
    sparsity_index, init_index = _labels(cfg)
    llc = torch.zeros(trained["loss"].shape)
    llc_std = torch.zeros_like(llc)
    seconds = {"train": trained["seconds"], "llc": 0.0}
    selections = [(sparsity_index == s).nonzero().squeeze(1) for s in range(len(cfg.sparsities))]
    tasks = [Task(f"llc_{s}", llc_of, (trained["W"][:, sel].clone(), trained["b"][:, sel].clone(),
                                        data[sel].clone(), cfg.sgld),
                  key={"config": config, "sparsity_index": s})
             for s, sel in enumerate(selections)]
    done = run_tasks(executor or LocalExecutor(), tasks, run_dir, progress=progress,
                     desc="LLC per sparsity")
    for sel, est in zip(selections, done, strict=True):
        llc[:, sel], llc_std[:, sel] = est["mean"], est["std"]
        seconds["llc"] += est["seconds"]
    return SweepResult(trained["steps"], trained["W"], trained["b"], trained["loss"], llc,
                       llc_std, sparsity_index, init_index, seconds)


def classify(W: torch.Tensor, b: torch.Tensor, live: float = 0.5) -> list[str]:
    """k-gon name per model: k columns with norm > `live`, one '+' per dead column with b > 0."""
    norms = W.norm(dim=-2)  # (T, n)
    k = (norms > live).sum(-1)
    plus = ((norms <= live) & (b > 0)).sum(-1)
    return [f"{int(a)}" + "+" * int(p) for a, p in zip(k, plus, strict=True)]


def pearson(x: torch.Tensor, y: torch.Tensor) -> float:
    """Pearson correlation; NaN when either side is constant (or there are < 3 points)."""
    x, y = x.double() - x.double().mean(), y.double() - y.double().mean()
    denominator = math.sqrt(float((x * x).sum() * (y * y).sum()))
    return float((x * y).sum()) / denominator if denominator > 0 and len(x) > 2 else math.nan


def spearman(x: torch.Tensor, y: torch.Tensor) -> float:
    """Rank correlation (Pearson on ranks; ties are rare for continuous values)."""
    return pearson(x.argsort().argsort(), y.argsort().argsort())


def correlations(result: SweepResult, n_sparsities: int, n_inits: int,
                 method=pearson) -> np.ndarray:
    """Loss-LLC correlation within each (sparsity, init) at each checkpoint: (S, I, K)."""
    out = np.full((n_sparsities, n_inits, len(result.steps)), np.nan)
    for s in range(n_sparsities):
        for i in range(n_inits):
            sel = (result.sparsity_index == s) & (result.init_index == i)
            for k in range(len(result.steps)):
                out[s, i, k] = method(result.loss[k, sel], result.llc[k, sel])
    return out


def _rounded(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else round(float(v), 4) for v in values]


def summarise(result: SweepResult, cfg: SparsitySweepConfig) -> dict:
    """The summary JSON: per sparsity and init, final loss/LLC, k-gon counts, correlations."""
    corr = correlations(result, len(cfg.sparsities), len(cfg.inits))
    rank = correlations(result, len(cfg.sparsities), len(cfg.inits), spearman)
    names = classify(result.W[-1], result.b[-1])
    groups = []
    for s, sparsity in enumerate(cfg.sparsities):
        for i, init in enumerate(cfg.inits):
            sel = ((result.sparsity_index == s) & (result.init_index == i)).nonzero().squeeze(1)
            counts: dict[str, int] = {}
            for j in sel.tolist():
                counts[names[j]] = counts.get(names[j], 0) + 1
            groups.append({
                "sparsity": sparsity, "init": init,
                "final_loss_mean": float(result.loss[-1, sel].mean()),
                "final_loss_std": float(result.loss[-1, sel].std()),
                "final_llc_mean": float(result.llc[-1, sel].mean()),
                "final_llc_std": float(result.llc[-1, sel].std()),
                "final_kgons": dict(sorted(counts.items(), key=lambda kv: -kv[1])),
                "final_llc_negative": int((result.llc[-1, sel] < 0).sum()),
                "loss_llc_pearson": _rounded(corr[s, i]),
                "loss_llc_spearman": _rounded(rank[s, i]),
            })
    return {"steps": result.steps.tolist(), "groups": groups, "seconds": result.seconds}


def kgon_table(summary: dict) -> str:
    """Markdown table: which k-gons the final models reached, per sparsity and init."""
    inits = list(dict.fromkeys(g["init"] for g in summary["groups"]))
    rows = ["| sparsity | " + " | ".join(inits) + " |", "|---" * (len(inits) + 1) + "|"]
    by_sparsity: dict[float, dict[str, str]] = {}
    for g in summary["groups"]:
        text = ", ".join(f"{name}: {count}" for name, count in g["final_kgons"].items())
        by_sparsity.setdefault(g["sparsity"], {})[g["init"]] = text
    for sparsity, cells in by_sparsity.items():
        rows.append(f"| {sparsity:.3f} | " + " | ".join(cells[i] for i in inits) + " |")
    return "\n".join(rows) + "\n"
