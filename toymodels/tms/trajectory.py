"""Training trajectory of one toy model of a sparsity sweep: its weight polygon at every saved
checkpoint next to its loss curve, with the loss of every k-gon critical point drawn as a line.

The sweep trains on sparse-uniform data, not on the one-active-feature data of the k-gon table,
so the k-gon losses are recomputed for the chosen model's own training set: the best regular
k-gon of each kind (radius, common bias, positive dead bias) under that data's loss, which is
what the model's loss curve measures. With few active samples (high sparsity) a trained model
can sit somewhat below these lines by fitting its finite sample with an irregular polygon.
A plateau at one of these lines is the model resting near a k-gon.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from common.config import ConfigError, config_from_dict
from common.io import CheckpointError, load_checkpoint, write_json
from toymodels.tms.critical import kgon_critical_points
from toymodels.tms.model import loss
from toymodels.tms.polygons import draw_loss, draw_polygon, write_gif
from toymodels.tms.sweep import SparsitySweepConfig, classify, make_data


def load_sweep(run_dir: str | Path) -> tuple[SparsitySweepConfig, dict]:
    """The sweep's config and trained trajectory (`<run>/train.pt` of scripts/sweep_sparsity)."""
    trained = load_checkpoint(Path(run_dir) / "train.pt",
                              required=("config", "steps", "W", "b", "loss"))
    try:
        cfg = config_from_dict(SparsitySweepConfig, dict(trained["config"]))
    except (ConfigError, KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(f"{run_dir}/train.pt: not a sweep this code can read ({e})") from None
    return cfg, trained


def model_label(cfg: SparsitySweepConfig, j: int) -> tuple[float, str]:
    """(sparsity, init name) of model j in the sweep's (sparsity, init, model) order."""
    per_sparsity = len(cfg.inits) * cfg.models
    return cfg.sparsities[j // per_sparsity], cfg.inits[(j // cfg.models) % len(cfg.inits)]


def live_columns(W: torch.Tensor, b: torch.Tensor) -> list[int]:
    """k of each model's k-gon (the dead columns' bias signs, the '+', left out)."""
    return [int(name.rstrip("+")) for name in classify(W, b)]


def choose_model(W: torch.Tensor, b: torch.Tensor) -> int:
    """The last model in sweep order (so the sparsest data) whose number of live columns
    changes between the first and the last checkpoint; model 0 when none does."""
    first, last = live_columns(W[0], b[0]), live_columns(W[-1], b[-1])
    changed = [j for j, (a, z) in enumerate(zip(first, last, strict=True)) if a != z]
    return changed[-1] if changed else 0


def kgon_losses(data: torch.Tensor, n: int, m: int) -> dict[str, float]:
    """Loss of the best k-gon of each kind (4, 4+, ..., 6) on `data` (samples, n).

    In a finite sample the features are not equally frequent, and the cheapest k-gon keeps the
    k features with the most energy (sum of x_i^2) alive: the columns are ordered that way
    first, since `kgon` makes the first k columns the live ones."""
    x = data.double()
    x = x[:, torch.argsort((x * x).sum(0), descending=True)]
    points = kgon_critical_points(n, m, loss_fn=lambda W, b: loss(W, b, x))
    return {p.name: p.loss for p in points}


def merge_levels(levels: dict[str, float], rtol: float = 0.01) -> dict[str, float]:
    """Join k-gons whose losses agree within `rtol` (e.g. '4, 4+, 4++'), for legible lines."""
    groups: list[tuple[list[str], float]] = []
    for name, value in sorted(levels.items(), key=lambda kv: kv[1]):
        if groups and abs(value - groups[-1][1]) <= rtol * abs(groups[-1][1]):
            groups[-1][0].append(name)
        else:
            groups.append(([name], value))
    return {", ".join(names): value for names, value in groups}


def plot_strip(path: Path, W: torch.Tensor, b: torch.Tensor, steps: torch.Tensor,
               losses: torch.Tensor, levels: dict[str, float], title: str,
               panels: int = 5) -> list[int]:
    """Polygons at `panels` checkpoints spread over training, then the loss curve with the
    k-gon lines; returns the checkpoint indices shown."""
    picks = sorted(set(np.linspace(0, len(steps) - 1, panels).round().astype(int).tolist()))
    fig, axes = plt.subplots(1, len(picks) + 1, figsize=(2.1 * len(picks) + 4, 2.6), dpi=80,
                             gridspec_kw={"width_ratios": [1] * len(picks) + [2.2]})
    for ax, k in zip(axes, picks, strict=False):
        draw_polygon(ax, W[k])
        ax.set_title(f"step {int(steps[k])}, loss {float(losses[k]):.4f}", fontsize=7)
    draw_loss(axes[-1], steps, losses, len(steps) - 1, levels)
    axes[-1].set_yscale("log")
    axes[-1].set_title("loss; dashed: k-gon critical losses", fontsize=7)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return picks


def write_toy_report(run_dir: Path, out: Path, model: int | None, meta: dict) -> dict:
    """GIF and strip of one sweep model with its k-gon losses, plus summary and meta JSON."""
    cfg, trained = load_sweep(run_dir)
    W, b, steps = trained["W"], trained["b"], trained["steps"]
    j = choose_model(W, b) if model is None else model
    if not 0 <= j < W.shape[1]:
        raise ValueError(f"--model must be in 0..{W.shape[1] - 1} for this sweep, got {j}")
    sparsity, init = model_label(cfg, j)
    kgon = kgon_losses(make_data(cfg)[j], cfg.n, cfg.m)
    levels = merge_levels(kgon)
    losses = trained["loss"][:, j]
    title = f"sweep model {j}: S = {sparsity:.3f}, {init} init"
    out.mkdir(parents=True, exist_ok=True)
    frames = write_gif(out / "polygons.gif", W[:, j], b[:, j], steps, losses, title,
                       fps=2.0, levels=levels, dpi=60)
    picks = plot_strip(out / "strip.png", W[:, j], b[:, j], steps, losses, levels,
                       title)
    classes = [classify(W[k, j:j + 1], b[k, j:j + 1])[0] for k in range(len(steps))]
    summary = {"model": j, "sparsity": sparsity, "init": init, "frames": frames,
               "steps": steps.tolist(), "loss": losses.tolist(), "kgon": classes,
               "kgon_losses": kgon, "strip_checkpoints": picks}
    write_json(out / "summary.json", summary)
    write_json(out / "meta.json", {**meta, "run": str(run_dir), "model": j,
                                            "sweep_config": asdict(cfg)})
    return summary
