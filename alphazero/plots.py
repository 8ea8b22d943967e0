"""Training curves of an AlphaZero run from its metrics: losses, match scores, endgame play."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _series(metrics: list[dict], key: str) -> tuple[list[int], list[float]]:
    pts = [(m["iteration"], m[key]) for m in metrics if m.get(key) is not None]
    return [p[0] for p in pts], [p[1] for p in pts]


def plot_losses(metrics: list[dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for key, label in (("policy_loss", "policy cross-entropy"), ("value_loss", "value MSE")):
        ax.plot(*_series(metrics, key), marker="o", ms=3, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("training loss (mean over the iteration)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_strength(metrics: list[dict], path: Path) -> None:
    """Scores against each opponent, and perfect-move shares on the endgame set."""
    keys = sorted({k for m in metrics for k in m if k.startswith("score_vs_")})
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for key in keys:
        ax.plot(*_series(metrics, key), marker="o", ms=3, label=key.removeprefix("score_vs_"))
    for key, label in (("endgame_perfect", "endgame perfect moves (MCTS)"),
                       ("endgame_policy_perfect", "endgame perfect moves (raw policy)")):
        xs, ys = _series(metrics, key)
        if xs:
            ax.plot(xs, ys, ls="--", marker="s", ms=3, label=label)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("iteration")
    ax.set_ylabel("score (win 1, draw 1/2) / share")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7, loc="lower right")
    else:
        ax.text(0.5, 0.5, "no evaluations in this run", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
