"""Training curves of an AlphaZero run from its metrics: losses, and whatever strength measures
the game's evaluation hook logged (the caller names them; nothing here knows a game).

Library code: the caller (an entry point) picks the matplotlib backend (`common.process`).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt


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


def plot_strength(metrics: list[dict], path: Path, series: dict[str, str],
                  dashed: tuple[str, ...] = ()) -> None:
    """One line per `series` key (metric -> label) in [0, 1]; keys in `dashed` drawn dashed."""
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for key, label in series.items():
        xs, ys = _series(metrics, key)
        if xs:
            style = {"ls": "--", "marker": "s"} if key in dashed else {"marker": "o"}
            ax.plot(xs, ys, ms=3, label=label, **style)
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
