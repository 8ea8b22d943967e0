"""Figures of the sparsity sweep: loss against LLC at several checkpoints, the within-group
loss-LLC correlation over training, and polygon GIFs of representative models."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from toymodels.polygons import write_gif  # noqa: E402
from toymodels.sweep import SweepConfig, SweepResult  # noqa: E402

MARKERS = ["o", "^", "s", "D"]


def scatter_checkpoints(n_checkpoints: int, count: int = 4) -> list[int]:
    """`count` checkpoint indices spread over the second half of training (log steps)."""
    picks = np.linspace(n_checkpoints // 2, n_checkpoints - 1, count).round().astype(int)
    return sorted(set(picks.tolist()))


def plot_loss_vs_llc(result: SweepResult, cfg: SweepConfig, path: Path) -> None:
    """Loss (log scale) against LLC, one panel per checkpoint, coloured by sparsity."""
    picks = scatter_checkpoints(len(result.steps))
    fig, axes = plt.subplots(1, len(picks), figsize=(3.6 * len(picks), 3.4), dpi=90,
                             sharey=True, squeeze=False)
    cmap = plt.cm.viridis
    colors = cmap(np.linspace(0, 1, len(cfg.sparsities)))
    for ax, k in zip(axes[0], picks, strict=True):
        for i, init in enumerate(cfg.inits):
            sel = result.init_index == i
            ax.scatter(result.llc[k, sel], result.loss[k, sel],
                       c=colors[result.sparsity_index[sel]], marker=MARKERS[i % len(MARKERS)],
                       s=12, alpha=0.7, edgecolors="none", label=init)
        ax.set_yscale("log")
        ax.set_title(f"step {int(result.steps[k])}", fontsize=9)
        ax.set_xlabel("LLC")
    axes[0, 0].set_ylabel("training loss")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    norm = matplotlib.colors.Normalize(min(cfg.sparsities), max(cfg.sparsities))
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[0].tolist(),
                 label="sparsity S", fraction=0.02)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def plot_correlations(corr: np.ndarray, result: SweepResult, cfg: SweepConfig,
                      path: Path) -> None:
    """Pearson r(loss, LLC) within each sparsity over training, one panel per init."""
    fig, axes = plt.subplots(1, len(cfg.inits), figsize=(4.2 * len(cfg.inits), 3.2), dpi=90,
                             sharey=True, squeeze=False)
    colors = plt.cm.viridis(np.linspace(0, 1, len(cfg.sparsities)))
    steps = np.maximum(result.steps.numpy(), 1)
    for i, (ax, init) in enumerate(zip(axes[0], cfg.inits, strict=True)):
        for s, sparsity in enumerate(cfg.sparsities):
            ax.plot(steps, corr[s, i], color=colors[s], lw=1, marker=".", label=f"{sparsity:.3f}")
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xscale("log")
        ax.set_title(f"{init} init", fontsize=9)
        ax.set_xlabel("step")
    axes[0, 0].set_ylabel("corr(loss, LLC) within sparsity")
    axes[0, -1].legend(fontsize=6, title="S", title_fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def representative(result: SweepResult, s: int, i: int) -> int:
    """The model of a (sparsity, init) group whose final LLC is the group's median."""
    sel = ((result.sparsity_index == s) & (result.init_index == i)).nonzero().squeeze(1)
    final = result.llc[-1, sel]
    return int(sel[torch.argsort(final)[len(sel) // 2]])


def write_gifs(result: SweepResult, cfg: SweepConfig, folder: Path) -> list[str]:
    """One polygon GIF per (sparsity, init): its representative model over all checkpoints."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for s, sparsity in enumerate(cfg.sparsities):
        for i, init in enumerate(cfg.inits):
            j = representative(result, s, i)
            name = f"S{sparsity:.3f}_{init}.gif"
            title = f"S = {sparsity:.3f}, {init} init, model {j}, final LLC {result.llc[-1, j]:.1f}"
            write_gif(folder / name, result.W[:, j], result.b[:, j], result.steps,
                      result.loss[:, j], title)
            written.append(name)
    return written


def write_report(result: SweepResult, cfg: SweepConfig, out: Path, meta: dict) -> dict:
    """All sweep artefacts in `out`: figures, GIFs, summary JSON, k-gon table, meta.json."""
    from common.io import atomic_write_bytes, write_json
    from toymodels.sweep import correlations, kgon_table, summarise

    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(result, cfg)
    plot_loss_vs_llc(result, cfg, out / "loss_vs_llc.png")
    corr = correlations(result, len(cfg.sparsities), len(cfg.inits))
    plot_correlations(corr, result, cfg, out / "correlation.png")
    summary["gifs"] = write_gifs(result, cfg, out / "gifs")
    write_json(out / "summary.json", summary)
    atomic_write_bytes(out / "kgon_table.md", kgon_table(summary).encode())
    write_json(out / "meta.json", {**meta, "config": cfg.as_dict(), "seconds": result.seconds})
    return summary
