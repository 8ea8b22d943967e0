"""Figures of the sparsity sweep: loss against LLC at several checkpoints, the within-group
loss-LLC correlation over training, and polygon GIFs of representative models."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch

from common.io import atomic_write_bytes, write_json
from toymodels.tms.polygons import write_gif
from toymodels.tms.sweep import (
    SparsitySweepConfig,
    SweepResult,
    correlations,
    kgon_table,
    pearson,
    spearman,
    summarise,
)

MARKERS = ["o", "^", "s", "D"]


def scatter_checkpoints(n_checkpoints: int, count: int = 4) -> list[int]:
    """`count` checkpoint indices spread over the second half of training (log steps)."""
    picks = np.linspace(n_checkpoints // 2, n_checkpoints - 1, count).round().astype(int)
    return sorted(set(picks.tolist()))


def _robust_limits(values: torch.Tensor) -> tuple[float, float]:
    """x-limits holding all but the most extreme 1% on each side (SGLD at saddles can give
    LLCs of -40 that would squash the rest); off-scale points are counted in the titles."""
    lo, hi = np.percentile(values.numpy(), [1, 99])
    pad = 0.08 * (hi - lo + 1e-9)
    return float(lo - pad), float(hi + pad)


def plot_loss_vs_llc(result: SweepResult, cfg: SparsitySweepConfig, path: Path) -> None:
    """Loss (log scale) against LLC, one panel per checkpoint, coloured by sparsity."""
    picks = scatter_checkpoints(len(result.steps))
    lo, hi = _robust_limits(result.llc[picks])
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
        ax.set_xlim(lo, hi)
        off = int(((result.llc[k] < lo) | (result.llc[k] > hi)).sum())
        ax.set_title(f"step {int(result.steps[k])}" + (f" ({off} off scale)" if off else ""),
                     fontsize=9)
        ax.set_xlabel("LLC")
    axes[0, 0].set_ylabel("training loss")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    norm = matplotlib.colors.Normalize(min(cfg.sparsities), max(cfg.sparsities))
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[0].tolist(),
                 label="sparsity S", fraction=0.02)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def plot_final_by_sparsity(result: SweepResult, cfg: SparsitySweepConfig, path: Path) -> None:
    """Final loss against final LLC, one panel per sparsity (the within-sparsity picture)."""
    cols = min(3, len(cfg.sparsities))
    rows = -(-len(cfg.sparsities) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.6 * rows), dpi=80,
                             squeeze=False)
    for s, sparsity in enumerate(cfg.sparsities):
        ax = axes.flat[s]
        for i, init in enumerate(cfg.inits):
            sel = (result.sparsity_index == s) & (result.init_index == i)
            ax.scatter(result.llc[-1, sel], result.loss[-1, sel], s=10, alpha=0.7,
                       marker=MARKERS[i % len(MARKERS)], label=init, edgecolors="none")
        sel = result.sparsity_index == s
        ax.set_xlim(*_robust_limits(result.llc[-1, sel]))
        ax.set_title(f"S = {sparsity:.3f}", fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in axes.flat[len(cfg.sparsities):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=6)
    fig.supxlabel(f"LLC at step {int(result.steps[-1])}", fontsize=8)
    fig.supylabel("training loss", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_correlations(corrs: dict[str, np.ndarray], result: SweepResult, cfg: SparsitySweepConfig,
                      path: Path) -> None:
    """Correlation of loss and LLC within each sparsity over training: a row per method
    (Pearson, Spearman), a column per init."""
    fig, axes = plt.subplots(len(corrs), len(cfg.inits), figsize=(4.2 * len(cfg.inits),
                             2.8 * len(corrs)), dpi=80, sharey=True, sharex=True, squeeze=False)
    colors = plt.cm.viridis(np.linspace(0, 1, len(cfg.sparsities)))
    steps = np.maximum(result.steps.numpy(), 1)
    for row, (method, corr) in enumerate(corrs.items()):
        for i, init in enumerate(cfg.inits):
            ax = axes[row, i]
            for s, sparsity in enumerate(cfg.sparsities):
                ax.plot(steps, corr[s, i], color=colors[s], lw=1, marker=".",
                        label=f"{sparsity:.3f}")
            ax.axhline(0, color="k", lw=0.5)
            ax.set_xscale("log")
            ax.set_title(f"{init} init: {method}", fontsize=9)
        axes[row, 0].set_ylabel("corr(loss, LLC)", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("step")
    axes[0, -1].legend(fontsize=6, title="S", title_fontsize=7, loc="lower right", ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def representative(result: SweepResult, s: int, i: int) -> int:
    """The model of a (sparsity, init) group whose final LLC is the group's median."""
    sel = ((result.sparsity_index == s) & (result.init_index == i)).nonzero().squeeze(1)
    final = result.llc[-1, sel]
    return int(sel[torch.argsort(final)[len(sel) // 2]])


def write_gifs(result: SweepResult, cfg: SparsitySweepConfig, folder: Path) -> list[str]:
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


def write_report(result: SweepResult, cfg: SparsitySweepConfig, out: Path, meta: dict) -> dict:
    """All sweep artefacts in `out`: figures, GIFs, summary JSON, k-gon table, meta.json."""
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(result, cfg)
    plot_loss_vs_llc(result, cfg, out / "loss_vs_llc.png")
    plot_final_by_sparsity(result, cfg, out / "loss_vs_llc_final.png")
    corrs = {name: correlations(result, len(cfg.sparsities), len(cfg.inits), method)
             for name, method in (("Pearson", pearson), ("Spearman", spearman))}
    plot_correlations(corrs, result, cfg, out / "correlation.png")
    summary["gifs"] = write_gifs(result, cfg, out / "gifs")
    write_json(out / "summary.json", summary)
    atomic_write_bytes(out / "kgon_table.md", kgon_table(summary).encode())
    write_json(out / "meta.json", {**meta, "config": asdict(cfg), "seconds": result.seconds})
    return summary
