"""Pictures of toy-model weights: columns of W as vectors with their convex hull, bias and norm
bars, and the loss curve with the current step marked; GIFs over checkpoints (imageio).

Kept independent of the sweep so that other stages (training trajectories) can reuse them.
The matplotlib backend is the entry point's choice (`common.process.setup_process`).
"""

from __future__ import annotations

import os

import imageio.v2 as imageio
import matplotlib.pyplot as plt
import numpy as np
import torch


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Vertices of the 2-D convex hull, counter-clockwise (Andrew's monotone chain)."""
    pts = sorted(map(tuple, np.asarray(points, dtype=float)))
    if len(pts) <= 2:
        return np.array(pts)

    def half(seq):
        out: list[tuple[float, float]] = []
        for p in seq:
            while len(out) >= 2 and _cross(out[-2], out[-1], p) <= 1e-12:
                out.pop()
            out.append(p)
        return out[:-1]

    return np.array(half(pts) + half(reversed(pts)))


def _cross(o, a, b) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def draw_polygon(ax, W: torch.Tensor | np.ndarray, limit: float = 1.6) -> None:
    """Columns of W (first two hidden dimensions) as arrows from the origin, with their hull."""
    cols = np.asarray(W, dtype=float)[:2].T
    colors = plt.cm.tab10(np.arange(len(cols)) % 10)
    hull = convex_hull(cols)
    if len(hull) >= 3:
        ax.fill(hull[:, 0], hull[:, 1], color="0.9", zorder=0)
        ax.plot(*np.vstack([hull, hull[:1]]).T, color="0.6", lw=1, zorder=1)
    for i, (c, color) in enumerate(zip(cols, colors, strict=True)):
        ax.annotate("", xy=c, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": color})
        ax.plot(*c, "o", color=color, ms=4)
        ax.text(c[0] * 1.08, c[1] * 1.08, str(i), fontsize=7, color=color)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_bars(ax, W: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> None:
    """Per-feature column norm |W_i| and bias b_i side by side."""
    W, b = np.asarray(W, dtype=float), np.asarray(b, dtype=float)
    idx = np.arange(W.shape[1])
    ax.bar(idx - 0.2, np.linalg.norm(W, axis=0), 0.4, label="|W_i|", color="tab:blue")
    ax.bar(idx + 0.2, b, 0.4, label="b_i", color="tab:orange")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylim(-1.2, 1.6)
    ax.set_xticks(idx)
    ax.legend(fontsize=6, loc="upper right")


def draw_loss(ax, steps, losses, current: int, levels: dict[str, float] | None = None) -> None:
    """Loss curve over checkpoints (log step axis, step 0 drawn at 1) with one step marked;
    `levels` (name -> loss, e.g. k-gon critical losses) are drawn as labelled horizontal lines."""
    x = np.maximum(np.asarray(steps, dtype=float), 1)
    y = np.asarray(losses, dtype=float)
    for i, (name, level) in enumerate((levels or {}).items()):
        ax.axhline(level, color=plt.cm.tab10(i % 10), lw=0.8, ls="--", zorder=0, label=name)
    ax.plot(x, y, color="0.3", lw=1)
    ax.plot(x[current], y[current], "o", color="tab:red")
    if levels:
        ax.legend(fontsize=5, loc="upper right", title="k-gon", title_fontsize=5)
    ax.set_xscale("log")
    ax.set_xlabel("step", fontsize=7)
    ax.set_ylabel("loss", fontsize=7)
    ax.tick_params(labelsize=6)


def render_frame(W, b, steps, losses, current: int, title: str = "", dpi: int = 72,
                 levels: dict[str, float] | None = None) -> np.ndarray:
    """One frame (RGB array) for checkpoint `current` of a trajectory W (K, m, n), b (K, n)."""
    fig, axes = plt.subplots(1, 3, figsize=(8, 2.8), dpi=dpi,
                             gridspec_kw={"width_ratios": [1, 1, 1.3]})
    draw_polygon(axes[0], W[current])
    draw_bars(axes[1], W[current], b[current])
    draw_loss(axes[2], steps, losses, current, levels)
    fig.suptitle(f"{title}  step {int(steps[current])}", fontsize=8)
    fig.tight_layout()
    fig.canvas.draw()
    frame = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return frame


def write_gif(path: str | os.PathLike, W, b, steps, losses, title: str = "",
              fps: float = 3.0, levels: dict[str, float] | None = None, dpi: int = 72) -> int:
    """GIF with one frame per checkpoint; returns the number of frames written."""
    frames = [render_frame(W, b, steps, losses, i, title, dpi, levels) for i in range(len(steps))]
    imageio.mimsave(path, frames, duration=1000 / fps, loop=0)
    return len(frames)
