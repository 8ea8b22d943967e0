"""Figures of maze policies over training: quiver fields over the drawn maze (one GIF frame per
checkpoint, beside the return and loss curves with the frame's step marked), logits at chosen
squares, summary curves and the PCA of the fields.

Library code: it draws on Figure objects and never picks a matplotlib backend.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from common.trajectory import PCAResult
from mazes.env import ACTIONS
from mazes.fields import FieldTrajectory, Probe, arrows, p_best

MOVE_COLOURS = ("tab:blue", "tab:green", "tab:orange", "tab:purple")


def draw_maze(ax: Axes, probe: Probe, corner: int | None = None) -> None:
    """Walls dark, open squares white, the cheese a yellow disc; `corner` outlines the top-right
    region where a corner-trained agent met its cheese."""
    size = len(probe.walls)
    ax.imshow(np.where(probe.walls, 0.25, 1.0), cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    ax.scatter([probe.cheese[1]], [probe.cheese[0]], s=140, c="gold", edgecolors="darkorange",
               zorder=3, label="cheese")
    if corner is not None:
        ax.add_patch(Rectangle((size - corner - 0.5, -0.5), corner, corner, fill=False,
                               ec="tab:red", ls="--", lw=1.5))
    ax.set_xticks([])
    ax.set_yticks([])


def draw_field(ax: Axes, probe: Probe, probs: np.ndarray, corner: int | None = None) -> None:
    """The maze with one arrow per open square (probs (m, 4) over `probe.squares()`), coloured
    by the probability of a move towards the cheese."""
    draw_maze(ax, probe, corner)
    cells, xy = probe.squares(), arrows(probs)
    good = (probs * probe.best_moves()).sum(-1)
    # angles="uv": directions in screen space, so y = p(up) - p(down) points up on the drawing
    ax.quiver(cells[:, 1], cells[:, 0], xy[:, 0], xy[:, 1], good, cmap="RdYlGn", clim=(0, 1),
              angles="uv", scale_units="xy", scale=1.15, width=0.012, pivot="middle", zorder=4)


def read_curves(metrics: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(env steps, value) series of the run's per-update metrics (missing values dropped)."""
    out = {}
    for key in ("mean_return", "policy_loss", "value_loss", "entropy"):
        pts = [(m["env_steps"], m[key]) for m in metrics if m.get(key) is not None]
        out[key] = (np.array([p[0] for p in pts], float), np.array([p[1] for p in pts], float))
    return out


def _step_axis(ax: Axes, steps: np.ndarray) -> None:
    """Symmetric-log axis: checkpoints are log-spaced and the first is at step 0."""
    positive = steps[steps > 0]
    ax.set_xscale("symlog", linthresh=float(positive.min()) if len(positive) else 1.0)
    ax.set_xlim(0, float(steps.max()) * 1.3 if steps.max() > 0 else 1)


def _smooth(y: np.ndarray, width: int = 9) -> np.ndarray:
    if len(y) < width:
        return y
    kernel = np.ones(width) / width
    padded = np.pad(y, width // 2, mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def plot_return(ax: Axes, curves: dict, traj: FieldTrajectory, fontsize: float = 7) -> None:
    xs, ys = curves["mean_return"]
    ax.plot(xs, ys, color="0.75", lw=0.6)
    ax.plot(xs, _smooth(ys), color="tab:blue", lw=1.2, label="training episodes (mean return)")
    ax.plot(traj.env_steps, traj.held_out, "o-", color="tab:green", ms=3, lw=1,
            label="held-out success")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("return / success", fontsize=fontsize)
    _step_axis(ax, traj.env_steps)
    ax.legend(fontsize=fontsize - 1, loc="upper left")
    ax.tick_params(labelsize=fontsize - 1)


def plot_losses(ax: Axes, curves: dict, traj: FieldTrajectory, fontsize: float = 7) -> None:
    for key, colour in (("policy_loss", "tab:blue"), ("value_loss", "tab:orange"),
                        ("entropy", "tab:gray")):
        xs, ys = curves[key]
        ax.plot(xs, ys, color=colour, lw=1, label=key.replace("_", " "))
    _step_axis(ax, traj.env_steps)
    ax.set_xlabel("environment steps", fontsize=fontsize)
    ax.set_ylabel("loss / entropy (nats)", fontsize=fontsize)
    ax.legend(fontsize=fontsize - 1, loc="upper right")
    ax.tick_params(labelsize=fontsize - 1)


def render_frame(probe: Probe, traj: FieldTrajectory, p: int, k: int, curves: dict,
                 corner: int | None = None, title: str = "", dpi: int = 80) -> np.ndarray:
    """RGB frame: probe p's field at checkpoint k beside the return and loss curves."""
    fig = Figure(figsize=(7.6, 3.8), dpi=dpi)
    grid = fig.add_gridspec(2, 2, width_ratios=(1, 1.2))
    ax_maze = fig.add_subplot(grid[:, 0])
    ax_ret, ax_loss = fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, 1])
    probs = traj.probs[k, p]
    draw_field(ax_maze, probe, probs, corner)
    ax_maze.set_title(f"update {traj.updates[k]}, {traj.env_steps[k]:,} steps\n"
                      f"p(move towards cheese) {p_best(probe, probs):.2f}, held-out success "
                      f"{traj.held_out[k]:.2f}", fontsize=7)
    plot_return(ax_ret, curves, traj)
    plot_losses(ax_loss, curves, traj)
    for ax in (ax_ret, ax_loss):
        ax.axvline(traj.env_steps[k], color="tab:red", lw=1)
    fig.suptitle(title or f"probe {probe.name}", fontsize=8)
    fig.tight_layout()
    canvas = FigureCanvasAgg(fig)  # an Agg canvas for this figure only; the backend is untouched
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def write_field_gif(path: Path, probe: Probe, traj: FieldTrajectory, p: int, curves: dict,
                    corner: int | None = None, title: str = "", fps: float = 2.0) -> int:
    """One frame per checkpoint (the last held longer); returns the number of frames."""
    frames = [render_frame(probe, traj, p, k, curves, corner, title)
              for k in range(len(traj.updates))]
    durations = [1000 / fps] * (len(frames) - 1) + [3000 / fps]
    imageio.mimsave(path, frames, duration=durations, loop=0)
    return len(frames)


def plot_logits(path: Path, probe: Probe, traj: FieldTrajectory, p: int,
                squares: np.ndarray) -> None:
    """The four move logits (centred: minus their mean, which softmax ignores) at the chosen
    squares (indices into `probe.squares()`, labelled on the maze) against training steps."""
    cells, best = probe.squares(), probe.best_moves()
    fig = Figure(figsize=(3.0 + 2.6 * len(squares), 2.9), dpi=80)
    axes = fig.subplots(1, len(squares) + 1, squeeze=False)[0]
    draw_maze(axes[0], probe)
    for j, i in enumerate(squares):
        label = chr(ord("A") + j)
        axes[0].text(cells[i, 1], cells[i, 0], label, ha="center", va="center", fontsize=9,
                     color="tab:red", weight="bold")
        logits = traj.logits[:, p, i]
        centred = logits - logits.mean(-1, keepdims=True)
        ax = axes[j + 1]
        for a, name in enumerate(ACTIONS):
            ax.plot(traj.env_steps, centred[:, a], "o-", ms=2.5, lw=1, color=MOVE_COLOURS[a],
                    label=name + (" (towards cheese)" if best[i, a] else ""))
        _step_axis(ax, traj.env_steps)
        ax.set_title(f"square {label} (row {cells[i, 0]}, col {cells[i, 1]})", fontsize=8)
        ax.set_xlabel("environment steps", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=6)
    axes[1].set_ylabel("centred logit", fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


def plot_curves(path: Path, probes: list[Probe], traj: FieldTrajectory, curves: dict,
                kl: np.ndarray, seeking: np.ndarray) -> None:
    """Return and held-out success, p(move towards the cheese) and corner-seeking per probe,
    KL(final || checkpoint) per probe, and the losses, against training steps."""
    fig = Figure(figsize=(6.5, 9.0), dpi=80)
    axes = fig.subplots(5, 1, sharex=True)
    plot_return(axes[0], curves, traj, fontsize=8)
    probs = traj.probs
    for p, probe in enumerate(probes):
        style = {"color": f"C{p}", "marker": "o", "ms": 3, "lw": 1, "label": probe.name}
        axes[1].plot(traj.env_steps, p_best(probe, probs[:, p]), **style)
        axes[2].plot(traj.env_steps, seeking[:, p], **style)
        axes[3].plot(traj.env_steps, kl[:, p], **style)
    axes[1].set_ylabel("p(towards cheese)", fontsize=8)
    axes[2].set_ylabel("p(towards corner)", fontsize=8)
    axes[3].set_ylabel("KL(final || ckpt)", fontsize=8)
    axes[1].legend(fontsize=7)
    for ax in axes[1:3]:
        ax.set_ylim(-0.02, 1.02)
    plot_losses(axes[4], curves, traj, fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


def plot_pca(path: Path, traj: FieldTrajectory, pca: PCAResult) -> None:
    """The fields' path through the top-2 PCA plane in training order, and explained variance
    against the column-shuffled baseline."""
    fig = Figure(figsize=(8.0, 3.4), dpi=80)
    ax, bars = fig.subplots(1, 2)
    ax.plot(pca.coords[:, 0], pca.coords[:, 1], color="0.6", lw=1, zorder=1)
    points = ax.scatter(pca.coords[:, 0], pca.coords[:, 1], c=np.log1p(traj.env_steps),
                        cmap="viridis", s=25, zorder=2)
    for k in (0, len(traj.updates) - 1):
        ax.annotate(f"update {traj.updates[k]}", pca.coords[k], fontsize=7,
                    textcoords="offset points", xytext=(4, 4))
    ax.set_title(f"path {pca.path_length:.2f} (shuffled order {pca.shuffled_path_length:.2f})",
                 fontsize=9)
    ax.set_xlabel(f"PC1 ({pca.explained[0]:.0%})")
    ax.set_ylabel(f"PC2 ({pca.explained[1] if len(pca.explained) > 1 else 0:.0%})")
    fig.colorbar(points, ax=ax, label="log(1 + env steps)")
    r = min(len(pca.explained), 6)
    idx = np.arange(1, r + 1)
    bars.bar(idx - 0.2, pca.explained[:r], 0.4, label="checkpoints")
    bars.bar(idx + 0.2, pca.shuffled_explained[:r], 0.4, label="columns shuffled")
    bars.set_xlabel("component")
    bars.set_ylabel("explained variance ratio")
    bars.set_xticks(idx)
    bars.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def plot_fields(path: Path, panels: list[tuple[str, Probe, np.ndarray]],
                corner: int | None = None, columns: int | None = None) -> None:
    """Final fields side by side, `columns` to a row (default all; a divisor of the panels):
    (title, probe, probs (m, 4)) per panel."""
    columns = columns or len(panels)
    rows = len(panels) // columns
    fig = Figure(figsize=(3.3 * columns, 3.6 * rows), dpi=90)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, (title, probe, probs) in zip(axes, panels, strict=True):
        draw_field(ax, probe, probs, corner)
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
