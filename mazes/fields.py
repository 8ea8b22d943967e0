"""Policy vector fields: what a maze policy wants to do at every open square, over training.

The mouse is put on each open square of a fixed probe maze in turn (the cheese stays put) and the
policy's move probabilities become one arrow: x = p(right) - p(left), y = p(up) - p(down). The
arrow's length says how decided the policy is (a uniform policy draws no arrow; a certain one
draws a unit arrow along its move).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from common.io import CheckpointError, load_checkpoint
from mazes.env import (
    DELTAS,
    MazeConfig,
    corner_mask,
    distances,
    new_mazes,
    observe,
    open_squares,
)
from mazes.net import MazeNet, load_weights

# (x, y) of each action on the drawn maze, y pointing up: up, right, down, left
DIRECTIONS = np.array([(0, 1), (1, 0), (0, -1), (-1, 0)], dtype=np.float64)
SNAPSHOT = re.compile(r"update_(\d+)\.pt")

Policy = Callable[[np.ndarray], np.ndarray]  # observations (m, 3, S, S) -> logits (m, 4)


@dataclass
class Probe:
    """A fixed maze and cheese on which every checkpoint's field is drawn."""

    name: str
    walls: np.ndarray  # (S, S) bool
    cheese: np.ndarray  # (2,)

    def squares(self) -> np.ndarray:
        """(m, 2) the open squares other than the cheese: where the mouse is put."""
        cells = open_squares(self.walls)
        return cells[~(cells == self.cheese).all(1)]

    def best_moves(self) -> np.ndarray:
        """(m, 4) bool: the moves that shorten the path to the cheese at each square."""
        return closer_moves(self.squares(), distances(self.walls, self.cheese))

    def to_json(self) -> dict:
        return {"name": self.name, "cheese": self.cheese.tolist(),
                "walls": ["".join("#" if w else "." for w in row) for row in self.walls]}


def arrows(probs: np.ndarray) -> np.ndarray:
    """(..., 2) arrows of move probabilities (..., 4): the probability-weighted move direction."""
    return probs @ DIRECTIONS


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def field_logits(policy: Policy, probe: Probe) -> np.ndarray:
    """(m, 4) the policy's move logits with the mouse on each of `probe.squares()`."""
    cells = probe.squares()
    m = len(cells)
    obs = observe(np.broadcast_to(probe.walls, (m, *probe.walls.shape)), cells,
                  np.broadcast_to(probe.cheese, (m, 2)))
    return np.asarray(policy(obs), dtype=np.float64)


def net_policy(net: MazeNet) -> Policy:
    """A network as a `Policy` (no gradients)."""
    def logits(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(obs))[0].double().numpy()
    return logits


def probe_mazes(cfg: MazeConfig, seed: int) -> list[Probe]:
    """Three probes of the config's size, from `seed`: 'random' (cheese anywhere),
    'away-from-corner' (cheese in the bottom-left quarter, far from the top-right corner region)
    and 'cheese-in-corner' (where a corner-trained agent met its cheese)."""
    rng = np.random.default_rng([seed, 7])
    plain = MazeConfig(size=cfg.size, corner=cfg.corner)
    anywhere = new_mazes(1, plain, rng)
    half = cfg.size // 2
    candidates = new_mazes(1000, replace(plain, cheese="not-corner"), rng)
    far = np.flatnonzero((candidates.cheese[:, 0] >= half) & (candidates.cheese[:, 1] <= half))
    away = far[0] if len(far) else 0
    corner = new_mazes(1, replace(plain, cheese="corner"), rng)
    return [Probe("random", anywhere.walls[0], anywhere.cheese[0]),
            Probe("away-from-corner", candidates.walls[away], candidates.cheese[away]),
            Probe("cheese-in-corner", corner.walls[0], corner.cheese[0])]


def snapshot_paths(run_dir: str | Path) -> list[Path]:
    """`<run>/checkpoints/update_XXXXX.pt` in update order."""
    folder = Path(run_dir) / "checkpoints"
    found = sorted((int(m.group(1)), p) for p in folder.glob("update_*.pt")
                   if (m := SNAPSHOT.fullmatch(p.name)))
    if not found:
        raise CheckpointError(f"no maze snapshots (checkpoints/update_*.pt) in {run_dir}")
    return [p for _, p in found]


@dataclass
class FieldTrajectory:
    """K checkpoints x P probes x m squares x 4 moves."""

    updates: np.ndarray  # (K,)
    env_steps: np.ndarray  # (K,)
    held_out: np.ndarray  # (K,) held-out success at each snapshot
    logits: np.ndarray  # (K, P, m, 4)

    @property
    def probs(self) -> np.ndarray:
        return softmax(self.logits)

    @property
    def arrows(self) -> np.ndarray:
        return arrows(self.probs)  # (K, P, m, 2)


def field_trajectory(paths: list[Path], net: MazeNet, probes: list[Probe]) -> FieldTrajectory:
    """Every snapshot's field on every probe; `net` is the run's architecture, reloaded with
    each snapshot's weights."""
    rows: dict[str, list] = {"updates": [], "env_steps": [], "held_out": [], "logits": []}
    for path in paths:
        ckpt = load_checkpoint(path, required=("model", "update", "env_steps",
                                               "held_out_success"))
        load_weights(net, ckpt, path)
        rows["updates"].append(int(ckpt["update"]))
        rows["env_steps"].append(int(ckpt["env_steps"]))
        rows["held_out"].append(float(ckpt["held_out_success"]))
        rows["logits"].append([field_logits(net_policy(net), p) for p in probes])
    return FieldTrajectory(*(np.array(rows[k]) for k in ("updates", "env_steps", "held_out",
                                                            "logits")))


def decision_squares(probe: Probe, count: int) -> np.ndarray:
    """Indices into `probe.squares()` of up to `count` junctions (three or more open
    neighbours), spread evenly in path distance to the cheese: where the policy must choose."""
    cells = probe.squares()
    target = cells[:, None] + DELTAS[None]
    size = len(probe.walls)
    inside = ((target >= 0) & (target < size)).all(-1)
    clipped = np.clip(target, 0, size - 1)
    exits = (inside & ~probe.walls[clipped[..., 0], clipped[..., 1]]).sum(1)
    junctions = np.flatnonzero(exits >= 3)
    if len(junctions) == 0:
        junctions = np.arange(len(cells))
    dist = distances(probe.walls, probe.cheese)[cells[junctions, 0], cells[junctions, 1]]
    ordered = junctions[np.argsort(dist, kind="stable")]
    picks = np.linspace(0, len(ordered) - 1, min(count, len(ordered))).round().astype(int)
    return ordered[np.unique(picks)]


def closer_moves(cells: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """(m, 4) bool: moves from `cells` (m, 2) onto a square one step nearer in `dist` (S, S),
    a table of path distances (a blocked move stays put, so it is never nearer)."""
    target = np.clip(cells[:, None] + DELTAS[None], 0, len(dist) - 1)
    there = dist[target[..., 0], target[..., 1]]
    return (there >= 0) & (there == dist[cells[:, 0], cells[:, 1], None] - 1)


def corner_seeking(probe: Probe, probs: np.ndarray, corner: int) -> np.ndarray:
    """(...,) probability of a move that shortens the path to the top-right corner region,
    averaged over the probe's squares outside that region: how much a field heads for the
    corner. `probs` is (..., m, 4) over `probe.squares()`."""
    region = np.argwhere(corner_mask(len(probe.walls), corner) & ~probe.walls)
    dist = np.min([distances(probe.walls, square) for square in region], axis=0)
    cells = probe.squares()
    outside = dist[cells[:, 0], cells[:, 1]] > 0
    return (probs * closer_moves(cells, dist)).sum(-1)[..., outside].mean(-1)


def p_best(probe: Probe, probs: np.ndarray) -> np.ndarray:
    """(...,) probability of a move towards the cheese, averaged over the probe's squares."""
    return (probs * probe.best_moves()).sum(-1).mean(-1)
