"""Batched PUCT Monte Carlo tree search: many independent trees, one network call per simulation.

The trees live in preallocated arrays `[trees, nodes, actions]` (in the spirit of DeepMind's
mctx) instead of per-node Python objects. One simulation walks down all trees level by level
with vectorised PUCT, expands one leaf per tree with a single batched `Game.next_states` /
`Game.legal_actions` call and a single network evaluation, then backs values up level by level.
The Python work per simulation is therefore a few dozen array operations, whatever the number of
trees, which is what makes self-play fast on a CPU once inference is batched.

Each simulation adds at most one node per tree, so `simulations + 1` nodes always suffice.
Values are from the side to move at a node and flip sign every ply (passes are plies too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alphazero.game import Evaluator, Game
from common.config import at_least, knob, positive, probability, validate

__all__ = ["Evaluator", "Forest", "SearchConfig", "SearchResult", "choose_actions", "search"]


@dataclass(frozen=True)
class SearchConfig:
    """PUCT search: the one home of the simulation count and the exploration constants, used by
    self-play, evaluation and play alike. `noise_fraction > 0` mixes Dirichlet noise into the
    root priors (self-play only)."""

    simulations: int = knob(50, "MCTS simulations per move", check=at_least(1))
    c_puct: float = knob(1.5, "PUCT exploration constant", check=positive)
    dirichlet_alpha: float = knob(0.5, "root Dirichlet noise concentration", check=positive)
    noise_fraction: float = knob(0.0, "weight of the root Dirichlet noise in the priors",
                                 check=probability)

    def __post_init__(self):
        validate(self)


class Forest:
    """The arrays of B trees. Node 0 of each tree is its root; `child[b, n, a]` is the node that
    action a leads to from node n (-1: not expanded); nodes are numbered in creation order."""

    def __init__(self, roots: np.ndarray, num_actions: int, nodes: int):
        b = len(roots)
        self.states = np.empty((b, nodes, *roots.shape[1:]), dtype=roots.dtype)
        self.legal = np.zeros((b, nodes, num_actions), dtype=bool)
        self.prior = np.zeros((b, nodes, num_actions), dtype=np.float32)
        self.child = np.full((b, nodes, num_actions), -1, dtype=np.int32)
        self.visits = np.zeros((b, nodes, num_actions), dtype=np.float32)
        self.value_sum = np.zeros((b, nodes, num_actions), dtype=np.float32)
        self.node_value = np.zeros((b, nodes), dtype=np.float32)
        self.terminal = np.zeros((b, nodes), dtype=bool)
        self.count = np.ones(b, dtype=np.int64)
        self.states[:, 0] = roots

    def expanded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(tree, node, parent, action, depth) for every expanded non-root node."""
        tree, parent, action = np.nonzero(self.child >= 0)
        node = self.child[tree, parent, action].astype(np.int64)
        parent_of = np.zeros(self.child.shape[:2], dtype=np.int64)
        parent_of[tree, node] = parent
        depth = np.zeros(self.child.shape[:2], dtype=np.int64)
        rows = np.arange(len(depth))
        for k in range(1, depth.shape[1]):  # parents are always created before their children
            depth[:, k] = depth[rows, parent_of[:, k]] + 1
        return tree, node, parent, action, depth[tree, node]


@dataclass
class SearchResult:
    visits: np.ndarray  # [B, A] root visit counts
    value: np.ndarray  # [B] mean backed-up value at the root, for the side to move
    prior: np.ndarray  # [B, A] root priors the search started from (after noise)
    forest: Forest | None = None  # the trees themselves, when asked for


def search(game: Game, evaluate: Evaluator, roots: np.ndarray, config: SearchConfig,
           rng: np.random.Generator, keep_forest: bool = False) -> SearchResult:
    """Run `config.simulations` simulations from each root (roots must not be terminal);
    `keep_forest` also returns the trees (e.g. to collect the positions the search evaluated)."""
    b = len(roots)
    f = Forest(roots, game.num_actions, config.simulations + 1)
    rows = np.arange(b)
    legal = game.legal_actions(roots)
    if not legal.any(axis=1).all():
        raise ValueError("search needs non-terminal roots")
    prior, value = evaluate(roots)
    if config.noise_fraction > 0:
        noise = rng.gamma(config.dirichlet_alpha, size=prior.shape) * legal
        noise /= noise.sum(axis=1, keepdims=True)
        prior = (1 - config.noise_fraction) * prior + config.noise_fraction * noise
    f.legal[:, 0], f.prior[:, 0], f.node_value[:, 0] = legal, prior, value

    for _ in range(config.simulations):
        levels, leaf_value, depth = _select_and_expand(game, evaluate, f, rows, config.c_puct)
        _backup(f, levels, leaf_value, depth)

    visits = f.visits[:, 0]
    totals = visits.sum(axis=1)
    return SearchResult(visits=visits.copy(), value=f.value_sum[:, 0].sum(axis=1) / totals,
                        prior=prior.astype(np.float32), forest=f if keep_forest else None)


def _select_and_expand(game: Game, evaluate: Evaluator, f: Forest, rows: np.ndarray,
                       c_puct: float) -> tuple[list, np.ndarray, np.ndarray]:
    """Walk every tree to a leaf with PUCT, expand new leaves; return the path and leaf values."""
    b = len(rows)
    leaf_value = np.zeros(b, dtype=np.float32)
    depth = np.zeros(b, dtype=np.int64)
    levels = []  # per level: (tree ids, node ids, actions)
    active, node = rows, np.zeros(b, dtype=np.int64)
    new_trees, new_parents, new_actions = [], [], []
    while active.size:
        n_visits = f.visits[active, node]
        q = np.where(n_visits > 0, f.value_sum[active, node] / np.maximum(n_visits, 1),
                     f.node_value[active, node][:, None])  # unvisited: the node's own estimate
        u = c_puct * f.prior[active, node] * (np.sqrt(n_visits.sum(axis=1)) + 1e-8)[:, None]
        score = np.where(f.legal[active, node], q + u / (1 + n_visits), -np.inf)
        action = score.argmax(axis=1)
        levels.append((active, node, action))
        depth[active] += 1
        child = f.child[active, node, action]
        known = child >= 0
        fresh = ~known
        if fresh.any():
            new_trees.append(active[fresh])
            new_parents.append(node[fresh])
            new_actions.append(action[fresh])
        at_end = known & f.terminal[active, np.maximum(child, 0)]
        leaf_value[active[at_end]] = f.node_value[active[at_end], child[at_end]]
        go_on = known & ~at_end
        active, node = active[go_on], child[go_on].astype(np.int64)

    if new_trees:
        _expand(game, evaluate, f, np.concatenate(new_trees), np.concatenate(new_parents),
                np.concatenate(new_actions), leaf_value)
    return levels, leaf_value, depth


def _expand(game: Game, evaluate: Evaluator, f: Forest, trees: np.ndarray, parents: np.ndarray,
            actions: np.ndarray, leaf_value: np.ndarray) -> None:
    states = game.next_states(f.states[trees, parents], actions)
    legal = game.legal_actions(states)
    ids = f.count[trees]
    f.count[trees] += 1
    f.child[trees, parents, actions] = ids
    f.states[trees, ids] = states
    f.legal[trees, ids] = legal
    over = ~legal.any(axis=1)
    values = np.empty(len(trees), dtype=np.float32)
    if over.any():
        values[over] = game.outcome(states[over])
        f.terminal[trees[over], ids[over]] = True
    live = ~over
    if live.any():
        prior, values[live] = evaluate(states[live])
        f.prior[trees[live], ids[live]] = prior
    f.node_value[trees, ids] = values
    leaf_value[trees] = values


def _backup(f: Forest, levels: list, leaf_value: np.ndarray, depth: np.ndarray) -> None:
    """Add the leaf value to every edge on the path, signed for the player choosing at that edge."""
    for level, (trees, node, action) in enumerate(levels):
        plies_to_leaf = depth[trees] - level  # the chooser here is the leaf's side iff even
        sign = np.where(plies_to_leaf % 2 == 0, 1.0, -1.0).astype(np.float32)
        f.visits[trees, node, action] += 1
        f.value_sum[trees, node, action] += sign * leaf_value[trees]


def choose_actions(visits: np.ndarray, temperature: float | np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """Per row: sample proportional to visits^(1/T), or the most visited move where T == 0."""
    temperature = np.broadcast_to(np.asarray(temperature, dtype=np.float64), (len(visits),))
    best = visits.argmax(axis=1)
    out = best.copy()
    for i in np.nonzero(temperature > 0)[0]:
        w = visits[i].astype(np.float64) ** (1.0 / temperature[i])
        out[i] = rng.choice(len(w), p=w / w.sum())
    return out
