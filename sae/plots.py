"""Scaling plots of an SAE grid from its summary rows (see sae.sweep.flat)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _series(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows grouped by architecture and sparsity knob ('ReLU l1=3', 'TopK k=32')."""
    out: dict[str, list[dict]] = {}
    for r in rows:
        label = f"ReLU l1={r['l1']:g}" if r["arch"] == "relu" else f"{r['arch']} k={r['k']}"
        out.setdefault(label, []).append(r)
    return {k: sorted(v, key=lambda r: r["width"]) for k, v in sorted(out.items())}


def _style(label: str, i: int) -> dict:
    relu = label.startswith("ReLU")
    cmap = plt.get_cmap("Blues" if relu else "Oranges")
    return {"color": cmap(0.35 + 0.13 * (i % 5)), "marker": "o" if relu else "s"}


def _finish(fig, ax, xlabel: str, ylabel: str, logy: bool, path: Path) -> None:
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=6, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _vs_width(rows: list[dict], key: str, ylabel: str, path: Path, logy: bool) -> None:
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for i, (label, series) in enumerate(_series(rows).items()):
        ax.plot([r["width"] for r in series], [r[key] for r in series], label=label,
                **_style(label, i))
    ax.set_xscale("log", base=2)
    _finish(fig, ax, "SAE width (features)", ylabel, logy, path)


def _vs_l0(rows: list[dict], key: str, ylabel: str, path: Path,
           baselines: dict[str, float] | None = None, logy: bool = False) -> None:
    """One marker per SAE (colour: width), one line per width and architecture."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    widths = sorted({r["width"] for r in rows})
    cmap = plt.get_cmap("viridis")
    for arch, marker in (("relu", "o"), ("topk", "s")):
        for j, w in enumerate(widths):
            pts = sorted((r["l0"], r[key]) for r in rows
                         if r["arch"] == arch and r["width"] == w and r.get(key) is not None)
            if pts:
                colour = cmap(j / max(len(widths) - 1, 1))
                ax.plot(*zip(*pts, strict=True), marker=marker, color=colour,
                        ls="-" if arch == "relu" else "--",
                        label=f"{'ReLU' if arch == 'relu' else 'TopK'} w={w}")
    for name, value in (baselines or {}).items():
        ax.axhline(value, color="grey", ls=":", lw=1)
        ax.annotate(name, (0.01, value), xycoords=("axes fraction", "data"), fontsize=7,
                    color="grey", va="bottom")
    ax.set_xscale("log")
    _finish(fig, ax, "L0 (active features per position, held-out)", ylabel, logy, path)


def plot_all(rows: list[dict], baseline: dict | None, out: Path) -> list[Path]:
    """Write the grid's scaling plots into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / n for n in ("l0_vs_width.png", "nmse_vs_width.png", "fvu_vs_l0.png")]
    _vs_width(rows, "l0", "L0 (held-out)", paths[0], logy=True)
    _vs_width(rows, "nmse", "normalised MSE (held-out)", paths[1], logy=True)
    _vs_l0(rows, "fvu", "fraction of variance unexplained", paths[2], logy=True)
    if rows and "policy_kl_recovered_vs_mean" in rows[0]:
        paths.append(out / "loss_recovered_vs_l0.png")
        _vs_l0(rows, "policy_kl_recovered_vs_mean",
               "policy loss recovered vs mean ablation", paths[-1])
    if rows and "coverage_board" in rows[0] and baseline:
        paths.append(out / "coverage_vs_l0.png")
        _vs_l0(rows, "coverage_board", "board coverage (mine/theirs)", paths[-1],
               baselines={"raw neurons": baseline["board"]["coverage"]})
        paths.append(out / "board_reconstruction_vs_l0.png")
        _vs_l0(rows, "reconstruction_board", "board reconstruction F1 (mine/theirs)",
               paths[-1], baselines={"raw neurons": baseline["board"]["reconstruction"]})
    return paths
