"""Figures of the Persian rug experiment, drawn from the summary of
`toymodels.persian_rug.experiment`.

Losses are shown relative to the zero predictor p/3, so that every density fits on one axis.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

_MARKERS = "osD^v<>p"


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


def _trained(summary: dict, init: str = "random") -> list[dict]:
    return [q for q in summary["trained"] if q.get("init", "random") == init]


def _loss_panels(summary: dict, fixed: str, values: list[float], x: str, curves: str,
                 path: Path, xlabel: str) -> None:
    """One panel per value of `fixed` (p or r): loss / (p/3) against `x` (r or p) for the
    symmetric optimum, the linear baseline, trained models (by n and init) and Hadamard."""
    fig, axes = plt.subplots(1, len(values), figsize=(4.2 * len(values), 3.6), squeeze=False)
    log_x = x == "p"
    for ax, value in zip(axes[0], values, strict=True):
        plot = ax.semilogx if log_x else ax.plot

        def rel(points: list[dict]) -> list[float]:
            return [q["loss"] / (q["p"] / 3) for q in points]

        curve = [c for c in summary[curves] if _close(c[fixed], value)]
        plot([c[x] for c in curve], rel(curve), "k-", label="symmetric optimum")
        plot([c[x] for c in curve], [c["linear"] / (c["p"] / 3) for c in curve], "k--",
             label="linear baseline")
        for init, style in (("random", None), ("hadamard", "x")):
            for i, n in enumerate(sorted({q["n"] for q in _trained(summary, init)})):
                pts = [q for q in _trained(summary, init)
                       if q["n"] == n and _close(q[fixed], value)]
                if not pts:
                    continue
                if style is None:
                    plot([q[x] for q in pts], rel(pts), _MARKERS[i % len(_MARKERS)], alpha=0.8,
                         color=f"C{i}", label=f"trained n={n}")
                else:
                    plot([q[x] for q in pts], rel(pts), "x", ms=8, color=f"C{5 + i}",
                         label=f"trained from Hadamard, n={n}")
        had = [q for q in summary["hadamard"] if _close(q[fixed], value)]
        if had:
            n_max = max(q["n"] for q in had)
            had = [q for q in had if q["n"] == n_max]
            plot([q[x] for q in had], rel(had), "r*", ms=10, label=f"Hadamard n={n_max}")
        anti = [q for q in summary.get("antipodal", []) if _close(q[fixed], value)]
        if anti:
            plot([q[x] for q in anti], rel(anti), "gP", ms=8, label="antipodal pairs (r=1/2)")
        ax.set(title=f"{fixed} = {value:g}", xlabel=xlabel, ylabel="loss / (p/3)",
               ylim=(0, 1.05))
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_loss_vs_r(summary: dict, ps: list[float], path: Path) -> None:
    """Loss / (p/3) against r at several p: theory, linear baseline, trained, Hadamard."""
    _loss_panels(summary, "p", ps, "r", "analytic_vs_r", path, "r = m / n")


def plot_loss_vs_p(summary: dict, rs: list[float], path: Path) -> None:
    """Loss / (p/3) against p (log axis) at several r."""
    _loss_panels(summary, "r", rs, "p", "analytic_vs_p", path, "p (density)")


def plot_rug(hadamard_w: torch.Tensor, trained_w: torch.Tensor, path: Path, block: int = 128,
             titles: tuple[str, str] = ("Hadamard W", "trained W")) -> None:
    """Top-left `block` x `block` of the Hadamard W (the fractal rug) next to a trained W.

    Each W is divided by its median diagonal entry and the diagonal is blanked, so the colours
    show the off-diagonal interference on a common scale (clipped at the 99.5% quantile).
    """
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.4))
    for ax, w, title in zip(axes, (hadamard_w, trained_w), titles, strict=True):
        w = (w / w.diagonal().median())[:block, :block].float()
        w.fill_diagonal_(0.0)
        lim = float(w.abs().quantile(0.995))
        ax.imshow(w.numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


_DIAGNOSTICS = (
    ("ratio_to_analytic", "trained loss / symmetric optimum", 1.0),
    ("diag_cv", "spread of W_ii (std / mean)", 0.0),
    ("offdiag_norm2_median", "off-diag. row norm^2 (median)", None),
    ("interference_skew", "skewness of interference", 0.0),
    ("interference_kurtosis", "excess kurtosis of interference", 0.0),
)


def plot_diagnostics_vs_n(summary: dict, r: float, path: Path) -> None:
    """Symmetry diagnostics of the trained models at ratio r against n, one line per p."""
    pts = [q for q in _trained(summary) if _close(q["r"], r)]
    ps = sorted({q["p"] for q in pts})
    fig, axes = plt.subplots(1, len(_DIAGNOSTICS), figsize=(19, 3.6))
    for ax, (key, label, ref) in zip(axes, _DIAGNOSTICS, strict=True):
        for i, p in enumerate(ps):
            sel = sorted((q for q in pts if _close(q["p"], p)), key=lambda q: q["n"])
            vals = [q[key] if key in q else q["diagnostics"][key] for q in sel]
            ax.semilogx([q["n"] for q in sel], vals, "-" + _MARKERS[i % len(_MARKERS)],
                        base=2, label=f"p={p:g}")
        if key == "offdiag_norm2_median":
            ax.axhline(1 / r - 1, color="k", ls="--", lw=1, label="bound n/m - 1")
            ax.set_yscale("log")
        elif ref is not None:
            ax.axhline(ref, color="k", ls="--", lw=1)
        if key == "ratio_to_analytic":
            had = sorted((q for q in summary["hadamard"] if _close(q["r"], r)
                          and _close(q["p"], 0.045)), key=lambda q: q["n"])
            if had:
                ax.semilogx([q["n"] for q in had], [q["ratio_to_analytic"] for q in had], "r*-",
                            base=2, label="Hadamard p=0.045")
        ax.set(title=label, xlabel="n")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"models trained from random init at r = {r:g}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_interference(nus: dict[str, torch.Tensor], p: float, path: Path) -> None:
    """Histograms (log scale) of the standardised interference nu_i, pooled over features,
    against the standard normal that the symmetric theory assumes."""
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    bins = np.linspace(-6, 8, 141)
    for i, (label, nu) in enumerate(nus.items()):
        z = ((nu - nu.mean(0)) / nu.std(0)).flatten().numpy()
        ax.hist(z, bins=bins, density=True, histtype="step", color=f"C{i}", label=label)
    g = np.linspace(-6, 8, 400)
    ax.plot(g, np.exp(-g**2 / 2) / np.sqrt(2 * np.pi), "k--", lw=1, label="N(0, 1)")
    ax.set(yscale="log", ylim=(1e-6, 1), xlabel="standardised interference",
           ylabel="density", title=f"interference at p = {p:g}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_training_curves(summary: dict, r: float, ps: list[float], path: Path) -> None:
    """Batch loss / (p/3) against step for each n and init, with the symmetric optimum."""
    fig, axes = plt.subplots(1, len(ps), figsize=(4.2 * len(ps), 3.6), squeeze=False)
    for ax, p in zip(axes[0], ps, strict=True):
        for init, ls in (("random", "-"), ("hadamard", ":")):
            pts = sorted((q for q in _trained(summary, init)
                          if _close(q["r"], r) and _close(q["p"], p)), key=lambda q: q["n"])
            for i, q in enumerate(pts):
                h = np.array(q["history"])
                ax.plot(h[:, 0], h[:, 1] / (p / 3), ls, color=f"C{i}", lw=1,
                        label=f"n={q['n']} ({init} init)")
        ref = [q["analytic"] for q in summary["trained"]
               if _close(q["p"], p) and _close(q["r"], r)]
        if ref:
            ax.axhline(ref[0] / (p / 3), color="k", ls="--", lw=1, label="symmetric optimum")
        ax.set(title=f"r = {r:g}, p = {p:g}", xlabel="step", ylabel="batch loss / (p/3)",
               ylim=(0, 1.0))
        ax.grid(alpha=0.3)
    for ax in axes[0]:
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
