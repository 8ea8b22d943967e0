"""Figures of a policy trajectory: per-probe GIFs, a probes x checkpoints grid, curves against the
training step next to the loss, and the PCA of the stacked outputs with its shuffled baselines.

Every heat map uses the same fixed colour scale [0, 1], so frames and panels compare directly.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v2 as imageio
import matplotlib.pyplot as plt
import numpy as np

from common.trajectory import PCAResult
from othello.interp.draw import draw_board, side_to_move
from othello.interp.probes import Probe
from othello.interp.trajectory import PolicyTrajectory
from othello.rules.board import move_name


def loss_series(traj: PolicyTrajectory, metrics: list[dict]) -> dict[str, tuple[np.ndarray,
                                                                              np.ndarray]]:
    """Policy and value training loss against step: every iteration from metrics.jsonl when
    the run has one, else the values stored in the snapshots."""
    out = {}
    for key in ("policy_loss", "value_loss"):
        pts = [(m["steps"], m[key]) for m in metrics if m.get(key) is not None]
        if not pts:
            ok = np.isfinite(getattr(traj, key))
            pts = list(zip(traj.steps[ok], getattr(traj, key)[ok], strict=True))
        out[key] = (np.array([p[0] for p in pts], float), np.array([p[1] for p in pts], float))
    return out


def _step_axis(ax, steps: np.ndarray) -> None:
    """Symmetric-log step axis: snapshots are log-spaced in iterations and the first is step 0."""
    positive = steps[steps > 0]
    ax.set_xscale("symlog", linthresh=float(positive.min()) if len(positive) else 1.0)
    ax.set_xlim(0, float(steps.max()) * 1.3 if steps.max() > 0 else 1)


def _plot_losses(ax, losses: dict, steps: np.ndarray, fontsize: float = 7) -> None:
    for key, colour in (("policy_loss", "tab:blue"), ("value_loss", "tab:orange")):
        xs, ys = losses[key]
        ax.plot(xs, ys, color=colour, lw=1, label=key.replace("_", " "))
    _step_axis(ax, steps)
    ax.set_xlabel("training step", fontsize=fontsize)
    ax.set_ylabel("training loss", fontsize=fontsize)
    ax.tick_params(labelsize=fontsize - 1)
    ax.legend(fontsize=fontsize - 1, loc="upper right")


def _frame_text(probe: Probe, traj: PolicyTrajectory, i: int, k: int) -> str:
    size = probe.position.size
    top = int(traj.probs[k, i].argmax())
    text = (f"value {traj.value[k, i]:+.2f}   top {move_name(top, size)} "
            f"{traj.probs[k, i, top]:.2f}   H {traj.entropy[k, i]:.2f}")
    if np.isfinite(traj.p_best[k, i]):
        best = ",".join(move_name(m, size) for m in probe.best_moves)
        text += f"\np(solver best {best}) {traj.p_best[k, i]:.2f}"
    return text + f"   KL to final {traj.kl_to_final[k, i]:.3f}"


def render_probe_frame(probe: Probe, traj: PolicyTrajectory, i: int, k: int, losses: dict,
                       dpi: int = 80) -> np.ndarray:
    """RGB frame: probe i's policy heat map at checkpoint k beside the loss curve (k marked)."""
    fig, (ax_board, ax_loss) = plt.subplots(1, 2, figsize=(6.4, 3.3), dpi=dpi,
                                            gridspec_kw={"width_ratios": [1, 1.15]})
    mappable = draw_board(ax_board, probe.position, traj.probs[k, i],
                          highlight=probe.best_moves)
    fig.colorbar(mappable, ax=ax_board, fraction=0.046, pad=0.02).ax.tick_params(labelsize=6)
    _plot_losses(ax_loss, losses, traj.steps)
    ax_loss.axvline(traj.steps[k], color="tab:red", lw=1)
    loss = traj.policy_loss[k]
    ax_loss.set_title(f"iteration {traj.iterations[k]}, step {traj.steps[k]}"
                      + (f", policy loss {loss:.2f}" if np.isfinite(loss) else ""), fontsize=7)
    fig.suptitle(f"probe {probe.name}: {side_to_move(probe.position)}", fontsize=8, y=0.99)
    fig.text(0.01, 0.01, _frame_text(probe, traj, i, k), fontsize=6.5)
    fig.tight_layout(rect=(0, 0.08, 1, 0.97))
    fig.canvas.draw()
    frame = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return frame


def write_probe_gif(path: Path, probe: Probe, traj: PolicyTrajectory, i: int, losses: dict,
                    fps: float = 2.0, dpi: int = 80) -> int:
    """One frame per checkpoint (the last held longer); returns the number of frames."""
    frames = [render_probe_frame(probe, traj, i, k, losses, dpi) for k in range(len(traj.steps))]
    durations = [1000 / fps] * (len(frames) - 1) + [3000 / fps]
    imageio.mimsave(path, frames, duration=durations, loop=0)
    return len(frames)


def plot_grid(path: Path, probes: list[Probe], traj: PolicyTrajectory, dpi: int = 70) -> None:
    """Probes (rows) x checkpoints (columns) of policy heat maps on one colour scale (blue
    outlines: the solver's best moves, where the probe is solved)."""
    rows, cols = len(probes), len(traj.steps)
    fig, axes = plt.subplots(rows, cols, figsize=(1.35 * cols + 0.6, 1.55 * rows + 0.4),
                             dpi=dpi, squeeze=False)
    mappable = None
    for i, probe in enumerate(probes):
        for k in range(cols):
            ax = axes[i, k]
            mappable = draw_board(ax, probe.position, traj.probs[k, i], fontsize=4,
                                  highlight=probe.best_moves)
            if i == 0:
                ax.set_title(f"it {traj.iterations[k]}\nstep {traj.steps[k]}", fontsize=6)
            if k == 0:
                ax.set_ylabel(f"{probe.name}\n{side_to_move(probe.position)}", fontsize=7)
    fig.colorbar(mappable, ax=axes.ravel().tolist(), fraction=0.015, pad=0.01,
                 label="move probability")
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def plot_curves(path: Path, probes: list[Probe], traj: PolicyTrajectory, losses: dict) -> None:
    """Value (with the exact result of solved probes), p(solver's best move) and KL to the final
    checkpoint per probe, and the training loss, all against the training step on one axis."""
    fig, axes = plt.subplots(4, 1, figsize=(6.5, 8.2), dpi=80, sharex=True)
    colours = plt.cm.tab10(np.arange(len(probes)) % 10)
    for i, probe in enumerate(probes):
        style = {"color": colours[i], "marker": "o", "ms": 3, "lw": 1, "label": probe.name}
        axes[0].plot(traj.steps, traj.value[:, i], **style)
        if probe.margins:
            axes[1].plot(traj.steps, traj.p_best[:, i], **style)
            exact = np.sign(max(probe.margins.values()))  # the perfect-play result
            axes[0].axhline(exact, color=colours[i], ls=":", lw=1.5)
        axes[2].plot(traj.steps, traj.kl_to_final[:, i], **style)
    axes[0].set_ylabel("value (side to move)\ndotted: exact result", fontsize=9)
    axes[0].set_ylim(-1.05, 1.05)
    axes[1].set_ylabel("p(solver's best move)")
    axes[1].set_ylim(-0.02, 1.02)
    if not axes[1].lines:
        axes[1].text(0.5, 0.5, "no solved probes", ha="center", transform=axes[1].transAxes)
    axes[2].set_ylabel("KL(final || checkpoint)")
    _plot_losses(axes[3], losses, traj.steps, fontsize=9)
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, ncol=min(len(probes), 5), loc="lower center",
                   bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_pca(path: Path, traj: PolicyTrajectory, pca: PCAResult) -> None:
    """The outputs' path in the top-2 PCA plane in training order, the same points in a
    shuffled order, and explained variance against the column-shuffled baseline."""
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), dpi=80)
    colour = np.log1p(traj.steps)
    for ax, order, title in ((axes[0], np.arange(len(traj.steps)),
                              f"training order: path length {pca.path_length:.2f}"),
                             (axes[1], pca.shuffled_order,
                              f"shuffled order: mean path {pca.shuffled_path_length:.2f}")):
        xy = pca.coords[order]
        ax.plot(xy[:, 0], xy[:, 1], color="0.6", lw=1, zorder=1)
        points = ax.scatter(pca.coords[:, 0], pca.coords[:, 1], c=colour, cmap="viridis",
                            s=25, zorder=2)
        for k in (0, len(traj.steps) - 1):
            ax.annotate(f"it {traj.iterations[k]}", pca.coords[k], fontsize=7,
                        textcoords="offset points", xytext=(4, 4))
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(f"PC1 ({pca.explained[0]:.0%})")
        ax.set_ylabel(f"PC2 ({pca.explained[1] if len(pca.explained) > 1 else 0:.0%})")
    fig.colorbar(points, ax=axes[1], label="log(1 + step)")
    r = min(len(pca.explained), 6)
    idx = np.arange(1, r + 1)
    axes[2].bar(idx - 0.2, pca.explained[:r], 0.4, label="checkpoints")
    axes[2].bar(idx + 0.2, pca.shuffled_explained[:r], 0.4, label="columns shuffled")
    axes[2].set_xlabel("component")
    axes[2].set_ylabel("explained variance ratio")
    axes[2].set_xticks(idx)
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(run_dir: Path, out: Path, probes: list[Probe], meta: dict,
                 gif_probes: int | None = None, progress: bool = True) -> dict:
    """Evaluate every snapshot of `run_dir` on `probes` and write all artefacts to `out`:
    probes.json, one GIF per probe (the first `gif_probes` when given), grid.png, curves.png,
    pca.png, summary.json and meta.json."""
    from common.io import write_json
    from othello.interp.trajectory import (
        evaluate_run,
        read_metrics,
        snapshot_paths,
        stacked_outputs,
    )

    paths = snapshot_paths(run_dir)
    traj = evaluate_run(paths, probes, progress)
    losses = loss_series(traj, read_metrics(run_dir))
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "probes.json", [p.to_json() for p in probes])
    gifs = []
    for i, probe in enumerate(probes[:gif_probes]):
        name = f"probe_{probe.name}.gif"
        write_probe_gif(out / name, probe, traj, i, losses)
        gifs.append(name)
    plot_grid(out / "grid.png", probes, traj)
    plot_curves(out / "curves.png", probes, traj, losses)
    from common.trajectory import pca_with_baselines

    pca = pca_with_baselines(stacked_outputs(traj))
    plot_pca(out / "pca.png", traj, pca)
    summary = {**traj.summary(probes), "gifs": gifs,
               "pca": {"explained": pca.explained.round(4).tolist(),
                       "shuffled_columns_explained": pca.shuffled_explained.round(4).tolist(),
                       "path_length": round(pca.path_length, 4),
                       "shuffled_order_path_length": round(pca.shuffled_path_length, 4)}}
    write_json(out / "summary.json", summary)
    write_json(out / "meta.json", {**meta, "run": str(run_dir),
                                   "checkpoints": [p.name for p in paths]})
    return summary
