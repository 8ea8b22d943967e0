"""The outputs of every checkpoint of an AlphaZero run on fixed probe positions.

Per checkpoint and probe: the policy (masked softmax over the legal moves, pass included, as the
search sees it), the value, the policy's entropy, the probability the policy gives to the solver's
best moves (where the probe is solved) and KL(final || checkpoint), which is zero at the final
checkpoint and measures how much of the final policy an earlier one misses. A PCA of the stacked
outputs shows the path the function takes through output space, next to shuffled baselines.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from alphazero.evaluators import network_evaluator
from common.trajectory import entropy, kl_divergence
from othello.az.game import OthelloGame
from othello.az.model import load_model
from othello.interp.probes import Probe
from othello.rules.batch import states_from_positions

SNAPSHOT = re.compile(r"iter_(\d+)\.pt")


class RunError(ValueError):
    """A run folder without network snapshots (or with unreadable ones)."""


def snapshot_paths(run_dir: str | Path) -> list[Path]:
    """`<run>/checkpoints/iter_XXXX.pt`, in iteration order."""
    folder = Path(run_dir) / "checkpoints"
    found = [(int(m.group(1)), p) for p in folder.glob("iter_*.pt")
             if (m := SNAPSHOT.fullmatch(p.name))]
    if not found:
        raise RunError(f"no network snapshots (checkpoints/iter_*.pt) in {run_dir}")
    return [p for _, p in sorted(found)]


def read_metrics(run_dir: str | Path) -> list[dict]:
    """The run's per-iteration metrics (empty when it has no metrics.jsonl)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass
class PolicyTrajectory:
    """K checkpoints x P probes x A actions (A = N*N + 1, pass last)."""

    iterations: np.ndarray  # (K,)
    steps: np.ndarray  # (K,) optimiser steps at each snapshot
    policy_loss: np.ndarray  # (K,) training loss of the snapshot's iteration (NaN at iteration 0)
    value_loss: np.ndarray  # (K,)
    probs: np.ndarray  # (K, P, A)
    value: np.ndarray  # (K, P)
    entropy: np.ndarray  # (K, P) nats
    p_best: np.ndarray  # (K, P) NaN for unsolved probes
    kl_to_final: np.ndarray  # (K, P) KL(final || checkpoint), nats

    def summary(self, probes: list[Probe]) -> dict:
        """JSON-able per-probe series."""
        out = {"iterations": self.iterations.tolist(), "steps": self.steps.tolist(),
               "policy_loss": _clean(self.policy_loss), "value_loss": _clean(self.value_loss),
               "probes": {}}
        for i, probe in enumerate(probes):
            out["probes"][probe.name] = {
                "value": _clean(self.value[:, i]), "entropy": _clean(self.entropy[:, i]),
                "p_best": _clean(self.p_best[:, i]), "kl_to_final": _clean(self.kl_to_final[:, i]),
                "top_move_final": int(self.probs[-1, i].argmax())}
        return out


def _clean(x: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 6) for v in x]


def _nan(value) -> float:
    return float("nan") if value is None else float(value)


def evaluate_run(paths: list[Path], probes: list[Probe], progress: bool = True,
                 ) -> PolicyTrajectory:
    """Every snapshot's outputs on the probes (one batched forward pass per snapshot)."""
    size = probes[0].position.size
    game = OthelloGame(size)
    states = states_from_positions([p.position for p in probes])
    rows = {k: [] for k in ("iteration", "steps", "policy_loss", "value_loss", "probs", "value")}
    for path in tqdm(paths, desc="checkpoints", disable=not progress):
        net, ckpt = load_model(path)
        if net.config.size != size:
            raise RunError(f"{path} holds a {net.config.size}x{net.config.size} network, "
                           f"the probes are {size}x{size}")
        priors, values = network_evaluator(game, net)(states)
        rows["iteration"].append(int(ckpt.get("iteration", len(rows["iteration"]))))
        rows["steps"].append(int(ckpt.get("steps", 0)))
        rows["policy_loss"].append(_nan(ckpt.get("policy_loss")))
        rows["value_loss"].append(_nan(ckpt.get("value_loss")))
        priors = priors.astype(np.float64)  # renormalised in float64: float32 sums drift ~1e-7
        rows["probs"].append(priors / priors.sum(-1, keepdims=True))
        rows["value"].append(values.astype(np.float64))
    probs = np.stack(rows["probs"])
    best = np.zeros(probs.shape[1:], dtype=bool)
    for i, probe in enumerate(probes):
        best[i, probe.best_moves] = True
    solved = np.array([bool(p.margins) for p in probes])
    p_best = np.where(solved, (probs * best).sum(-1), np.nan)
    return PolicyTrajectory(np.array(rows["iteration"]), np.array(rows["steps"]),
                            np.array(rows["policy_loss"]), np.array(rows["value_loss"]), probs,
                            np.stack(rows["value"]), entropy(probs), p_best,
                            kl_divergence(probs[-1][None], probs))


def stacked_outputs(traj: PolicyTrajectory) -> np.ndarray:
    """(K, P * (A + 1)): every probe's policy and value, one row per checkpoint."""
    k = len(traj.steps)
    return np.concatenate([traj.probs.reshape(k, -1), traj.value.reshape(k, -1)], axis=1)


