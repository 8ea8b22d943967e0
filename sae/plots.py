"""Scaling plots of an SAE grid from its summary rows (see sae.grid.flat).

Drawn with matplotlib's object API (`Figure`, no pyplot), so no backend is chosen or needed here.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure

_MAPS = ("Blues", "Oranges", "Greens", "Purples", "Reds")
_MARKERS = ("o", "s", "^", "D", "v")
_LINES = ("-", "--", ":", "-.")


def _archs(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(r["arch"] for r in rows))


def _series(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows grouped by architecture and sparsity setting ('ReLU l1=3', 'TopK k=32')."""
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["label"], []).append(r)
    return {k: sorted(v, key=lambda r: r["width"]) for k, v in sorted(out.items())}


def _finish(fig: Figure, ax, xlabel: str, ylabel: str, logy: bool, path: Path) -> None:
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=6, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _vs_width(rows: list[dict], key: str, ylabel: str, path: Path, logy: bool) -> None:
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    archs = _archs(rows)
    counts: dict[str, int] = {}
    for label, series in _series(rows).items():
        a = archs.index(series[0]["arch"])
        i = counts[series[0]["arch"]] = counts.get(series[0]["arch"], -1) + 1
        colour = colormaps[_MAPS[a % len(_MAPS)]](0.35 + 0.13 * (i % 5))
        ax.plot([r["width"] for r in series], [r[key] for r in series], label=label,
                color=colour, marker=_MARKERS[a % len(_MARKERS)])
    ax.set_xscale("log", base=2)
    _finish(fig, ax, "SAE width (features)", ylabel, logy, path)


def _vs_l0(rows: list[dict], key: str, ylabel: str, path: Path,
           baselines: dict[str, float] | None = None, logy: bool = False) -> None:
    """One marker per SAE (colour: width), one line per width and architecture."""
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    widths = sorted({r["width"] for r in rows})
    cmap = colormaps["viridis"]
    for a, arch in enumerate(_archs(rows)):
        for j, w in enumerate(widths):
            mine = [r for r in rows if r["arch"] == arch and r["width"] == w]
            pts = sorted((r["l0"], r[key]) for r in mine if r.get(key) is not None)
            if pts:
                title = mine[0]["label"].split()[0]
                ax.plot(*zip(*pts, strict=True), marker=_MARKERS[a % len(_MARKERS)],
                        color=cmap(j / max(len(widths) - 1, 1)), ls=_LINES[a % len(_LINES)],
                        label=f"{title} w={w}")
    for name, value in (baselines or {}).items():
        ax.axhline(value, color="grey", ls=":", lw=1)
        ax.annotate(name, (0.01, value), xycoords=("axes fraction", "data"), fontsize=7,
                    color="grey", va="bottom")
    ax.set_xscale("log")
    _finish(fig, ax, "L0 (active features per position, held-out)", ylabel, logy, path)


def plot_all(rows: list[dict], out: Path,
             extra: tuple[tuple[str, str, str, dict[str, float]], ...] = ()) -> list[Path]:
    """Write the grid's scaling plots into `out`; returns their paths. Beyond L0, nMSE and FVU:
    one plot per `<loss>_recovered_vs_mean` column (splicing; the first is
    loss_recovered_vs_l0.png), and per `extra` entry
    (column, y label, file name, {baseline name: value}) whose column the rows have."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / n for n in ("l0_vs_width.png", "nmse_vs_width.png", "fvu_vs_l0.png")]
    _vs_width(rows, "l0", "L0 (held-out)", paths[0], logy=True)
    _vs_width(rows, "nmse", "normalised MSE (held-out)", paths[1], logy=True)
    _vs_l0(rows, "fvu", "fraction of variance unexplained", paths[2], logy=True)
    recovered = [k for k in (rows[0] if rows else {}) if k.endswith("_recovered_vs_mean")]
    for i, key in enumerate(recovered):  # the first one (policy KL for Othello) keeps the old name
        loss = key.removesuffix("_recovered_vs_mean")
        name = "loss_recovered_vs_l0.png" if i == 0 else f"{loss}_recovered_vs_l0.png"
        paths.append(out / name)
        _vs_l0(rows, key, f"{loss.replace('_', ' ')} recovered vs mean ablation", paths[-1])
    for key, ylabel, name, baselines in extra:
        if rows and key in rows[0]:
            paths.append(out / name)
            _vs_l0(rows, key, ylabel, paths[-1], baselines=baselines)
    return paths
