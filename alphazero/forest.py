"""The array forest of batched MCTS: many independent trees, one network call per simulation.

The trees live in preallocated arrays `[trees, nodes, actions]` (in the spirit of DeepMind's
mctx) instead of per-node Python objects. One simulation walks down all trees level by level
with a vectorised selection rule, expands one leaf per tree with a single batched
`Game.next_states` / `Game.legal_actions` call and a single network evaluation, then backs values
up level by level. The Python work per simulation is therefore a few dozen array operations,
whatever the number of trees, which is what makes self-play fast on a CPU once inference is
batched. The root rules on top of it are `alphazero.mcts` (PUCT) and `alphazero.gumbel`.

Each simulation adds at most one node per tree, so `simulations + 1` nodes always suffice.
Values are from the side to move at a node and flip sign every ply (passes are plies too), so
`value_sum[b, n, a] / visits[b, n, a]` is Q of action a for the side to move at node n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alphazero.game import Evaluator, Game


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
    policy: np.ndarray  # [B, A] the policy target: visit shares (puct), improved policy (gumbel)
    action: np.ndarray | None = None  # [B] the move the search chose (gumbel; puct: None)
    forest: Forest | None = None  # the trees themselves, when asked for


def new_forest(game: Game, evaluate: Evaluator, roots: np.ndarray,
               simulations: int) -> tuple[Forest, np.ndarray]:
    """A forest with its roots evaluated, and the roots' network priors."""
    f = Forest(roots, game.num_actions, simulations + 1)
    legal = game.legal_actions(roots)
    if not legal.any(axis=1).all():
        raise ValueError("search needs non-terminal roots")
    prior, value = evaluate(roots)
    f.legal[:, 0], f.prior[:, 0], f.node_value[:, 0] = legal, prior, value
    return f, prior


@dataclass(frozen=True)
class Puct:
    """PUCT: argmax Q + c_puct * P * sqrt(N) / (1 + n); an unvisited action's Q is the node's
    own value estimate. Walked by the compiled `alphazero.tree_kernels.puct_walk`."""

    c_puct: float


@dataclass(frozen=True)
class GumbelBelowRoot:
    """Below a Gumbel root (`alphazero.gumbel`): the first step is forced, then every node takes
    argmax(pi' - n / (1 + N)), pi' its improved policy. Walked by `tree_kernels.gumbel_walk`."""

    c_visit: float
    c_scale: float


def simulate(game: Game, evaluate: Evaluator, f: Forest, rule: Puct | GumbelBelowRoot,
             root_action: np.ndarray | None = None) -> None:
    """One simulation in every tree: walk down by `rule`, expand one leaf, back its value up.
    `root_action[b]` is tree b's first step (the Gumbel root's sequential halving)."""
    from alphazero import tree_kernels  # numba: loaded by the first search

    b, nodes = f.child.shape[:2]
    path_node = np.zeros((b, nodes), dtype=np.int64)
    path_action = np.zeros((b, nodes), dtype=np.int64)
    depth = np.zeros(b, dtype=np.int64)
    leaf_value = np.zeros(b, dtype=np.float32)
    fresh = np.zeros(b, dtype=bool)
    arrays = (f.visits, f.value_sum, f.prior, f.legal, f.node_value, f.child, f.terminal)
    outputs = (path_node, path_action, depth, leaf_value, fresh)
    if isinstance(rule, Puct):
        tree_kernels.puct_walk(*arrays, rule.c_puct, *outputs)
    else:
        tree_kernels.gumbel_walk(*arrays, rule.c_visit, rule.c_scale, root_action, *outputs)
    trees = np.nonzero(fresh)[0]
    if trees.size:
        last = depth[trees] - 1
        _expand(game, evaluate, f, trees, path_node[trees, last], path_action[trees, last],
                leaf_value)
    tree_kernels.backup(f.visits, f.value_sum, path_node, path_action, depth, leaf_value)


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
