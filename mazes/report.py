"""The trajectory report of one maze run: field GIFs per probe, logits at decision squares,
summary curves and a PCA of the fields, with summary.json and meta.json.

`is_maze_run` and `write_maze_report` are what scripts/policy_trajectory.py calls for a maze run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from common.io import write_json
from common.trajectory import pca_with_baselines
from mazes.fields import (
    Probe,
    corner_seeking,
    decision_squares,
    field_trajectory,
    p_best,
    probe_mazes,
    snapshot_paths,
)
from mazes.net import build_net
from mazes.plots import plot_curves, plot_logits, plot_pca, read_curves, write_field_gif
from mazes.ppo import read_config


def is_maze_run(run_dir: str | Path) -> bool:
    """A maze run folder: config.json written by mazes.ppo.train, beside checkpoints/."""
    path = Path(run_dir) / "config.json"
    if not path.is_file() or not (Path(run_dir) / "checkpoints").is_dir():
        return False
    try:
        return {"maze", "net", "ppo"} <= set(json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError):
        return False


def kl_to_final(probs: np.ndarray) -> np.ndarray:
    """(K, P) KL(final || checkpoint) of (K, P, m, 4) move probabilities, averaged over squares
    (softmax outputs: no zeros)."""
    final = probs[-1:]
    return (final * (np.log(final) - np.log(probs))).sum(-1).mean(-1)


def write_maze_report(run_dir: str | Path, out: str | Path, probes: list[Probe] | None = None,
                      meta: dict | None = None, progress: bool = True,
                      logit_squares: int = 4) -> dict:
    """Evaluate every snapshot of a maze run on `probes` (default: `probe_mazes` of its config
    and seed) and write field_<probe>.gif, logits.png (first probe), curves.png, pca.png,
    probes.json, summary.json and meta.json into `out`; returns the summary."""
    run_dir, out = Path(run_dir), Path(out)
    cfg = read_config(run_dir)
    probes = probes or probe_mazes(cfg.maze, cfg.seed)
    paths = snapshot_paths(run_dir)
    traj = field_trajectory(paths, build_net(cfg.maze.size, cfg.net, cfg.seed), probes)
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()
               if line.strip()]
    curves = read_curves(metrics)
    corner = cfg.maze.corner if cfg.maze.cheese != "anywhere" else None
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "probes.json", [p.to_json() for p in probes])
    gifs = []
    label = f"cheese {cfg.maze.cheese} in training"
    for p, probe in enumerate(tqdm(probes, desc="field GIFs", disable=not progress)):
        name = f"field_{probe.name}.gif"
        write_field_gif(out / name, probe, traj, p, curves, corner,
                        title=f"{run_dir.name} ({label}): probe {probe.name}")
        gifs.append(name)
    squares = decision_squares(probes[0], logit_squares)
    plot_logits(out / "logits.png", probes[0], traj, 0, squares)
    probs = traj.probs
    kl = kl_to_final(probs)
    seeking = np.stack([corner_seeking(probe, probs[:, p], cfg.maze.corner)
                        for p, probe in enumerate(probes)], axis=1)
    plot_curves(out / "curves.png", probes, traj, curves, kl, seeking)
    pca = pca_with_baselines(probs.reshape(len(paths), -1), seed=cfg.seed)
    plot_pca(out / "pca.png", traj, pca)
    summary = {
        "updates": traj.updates.tolist(), "env_steps": traj.env_steps.tolist(),
        "held_out_success": traj.held_out.round(4).tolist(), "gifs": gifs,
        "frames": len(paths),
        "probes": {probe.name: {"p_towards_cheese": p_best(probe, probs[:, p]).round(4).tolist(),
                                "p_towards_corner": seeking[:, p].round(4).tolist(),
                                "kl_to_final": kl[:, p].round(4).tolist()}
                   for p, probe in enumerate(probes)},
        "logit_squares": probes[0].squares()[squares].tolist(),
        "pca": pca.to_json()}
    write_json(out / "summary.json", summary)
    write_json(out / "meta.json", {**(meta or {}), "run": str(run_dir),
                                   "checkpoints": [p.name for p in paths]})
    return summary
