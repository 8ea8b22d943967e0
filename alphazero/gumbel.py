"""Gumbel AlphaZero's root search (Danihelka et al. 2022, "Policy improvement by planning with
Gumbel"), on the array forest of `alphazero.forest`.

Why: with few simulations PUCT's visit counts are a poor policy target (a move must be visited
to gain mass) and Dirichlet noise makes the played move a blind gamble. Here the root samples m
actions without replacement by Gumbel-top-k on the prior logits, spends the budget on them by
sequential halving (each phase visits the surviving actions equally, then keeps the better half
by g + logits + sigma(Q)), and plays the survivor; the policy target is the improved policy
softmax(logits + sigma(completed Q)), which moves mass towards actions whose Q is good even when
they were visited once, so it keeps improving the policy at 16-32 simulations. Without noise
(evaluation) g = 0 and the search plays the deterministic survivor.

Below the root every node takes the paper's deterministic rule, argmax(pi' - N / (1 + sum N))
with pi' the node's own improved policy (compiled: `alphazero.tree_kernels.gumbel_walk`, checked
against `improved_policy` here): visit counts then track pi', the same policy the root learns
from. Q is always from the side to move at the node (the forest's convention: values flip
every ply, a pass included), and sigma maps Q from [-1, 1] to [0, 1] first, as the paper's
c_visit = 50, c_scale = 1 assume.
"""

from __future__ import annotations

import math

import numpy as np

from alphazero.config import SearchConfig
from alphazero.forest import Forest, GumbelBelowRoot, SearchResult, new_forest, simulate
from alphazero.game import Evaluator, Game


def halving_schedule(m: int, simulations: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequential halving of `simulations` over `m` ranked actions, per simulation: the rank slot
    it visits, and how many actions to keep (re-ranked first) when it starts a phase (0: none).

    ceil(log2 m) phases; phase p considers c_p actions (m, then halved, rounded up, never below
    2), each visited max(1, n // (phases * c_p)) times round-robin by rank; the last phase takes
    what is left of the budget, round-robin from the best; a budget that runs out early simply
    ends the schedule (the final choice still re-ranks the survivors)."""
    phases = max(1, math.ceil(math.log2(m))) if m > 1 else 1
    slots: list[int] = []
    keep: list[int] = []
    considered = m
    for p in range(phases):
        left = simulations - len(slots)
        if left <= 0:
            break
        each = max(1, simulations // (phases * considered))
        count = left if p == phases - 1 else min(each * considered, left)
        slots += [i % considered for i in range(count)]
        keep += [considered] + [0] * (count - 1)
        considered = max(2, -(-considered // 2))
    return np.array(slots, dtype=np.int64), np.array(keep, dtype=np.int64)


def completed_q(prior: np.ndarray, visits: np.ndarray, value_sum: np.ndarray,
                node_value: np.ndarray) -> np.ndarray:
    """Q of each action, unvisited ones completed by the mixed value approximation
    v_mix = (v + sum N * sum_{visited} p q / sum_{visited} p) / (1 + sum N) (the paper's
    Appendix D), all from the side to move at the node. Rows are nodes `[k, A]`."""
    visited = visits > 0
    q = value_sum / np.maximum(visits, 1)
    n_sum = visits.sum(axis=1)
    p_visited = np.where(visited, prior, 0).sum(axis=1)
    weighted = np.where(visited, prior * q, 0).sum(axis=1) / np.maximum(p_visited, 1e-12)
    v_mix = np.where(p_visited > 0, (node_value + n_sum * weighted) / (1 + n_sum), node_value)
    return np.where(visited, q, v_mix[:, None])


def sigma(q: np.ndarray, visits: np.ndarray, config: SearchConfig) -> np.ndarray:
    """The monotone Q transform (c_visit + max N) * c_scale * q, with q rescaled to [0, 1]."""
    return (config.c_visit + visits.max(axis=1, keepdims=True)) * config.c_scale * (q + 1) / 2


def prior_logits(prior: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """log prior on legal actions, -inf elsewhere (softmax of it gives the prior back)."""
    with np.errstate(divide="ignore"):
        return np.where(legal, np.log(prior), -np.inf)


def improved_policy(prior: np.ndarray, visits: np.ndarray, value_sum: np.ndarray,
                    node_value: np.ndarray, legal: np.ndarray,
                    config: SearchConfig) -> np.ndarray:
    """softmax(logits + sigma(completed Q)) over the legal actions of each row."""
    z = prior_logits(prior, legal) + sigma(completed_q(prior, visits, value_sum, node_value),
                                           visits, config)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


def gumbel_search(game: Game, evaluate: Evaluator, roots: np.ndarray, config: SearchConfig,
                  rng: np.random.Generator, keep_forest: bool = False) -> SearchResult:
    """`alphazero.mcts.search` with the Gumbel root: Gumbel noise iff `config.noise_fraction`
    > 0 (self-play), the move is the survivor of sequential halving, the policy target the
    root's improved policy."""
    n = config.simulations
    f, prior = new_forest(game, evaluate, roots, n)
    b, rows = len(roots), np.arange(len(roots))
    legal = f.legal[:, 0]
    logits = prior_logits(prior, legal)
    g = rng.gumbel(size=prior.shape) if config.noise_fraction > 0 else np.zeros(prior.shape)
    base = np.where(legal, g + logits, -np.inf)  # the fixed part of each root action's score
    m = np.minimum(legal.sum(axis=1), min(config.gumbel_actions, n))
    plans = {k: halving_schedule(int(k), n) for k in np.unique(m)}
    slot = np.zeros((b, n), dtype=np.int64)
    keep = np.zeros((b, n), dtype=np.int64)
    for k, (s, kp) in plans.items():
        slot[m == k, :len(s)], keep[m == k, :len(kp)] = s, kp
    candidate = legal.copy()
    order = np.zeros((b, int(m.max())), dtype=np.int64)  # candidates, best first

    def rerank(trees: np.ndarray, keep_n: np.ndarray) -> None:
        score = np.where(candidate[trees], base[trees] + _root_sigma(f, trees, config), -np.inf)
        ranked = np.argsort(-score, axis=1, kind="stable")[:, :order.shape[1]]
        order[trees] = ranked
        candidate[trees] = False
        for width in np.unique(keep_n):
            sel = trees[keep_n == width]
            candidate[sel[:, None], order[sel, :width]] = True

    rule = GumbelBelowRoot(config.c_visit, config.c_scale)
    for k in range(n):
        starts = np.nonzero(keep[:, k])[0]
        if starts.size:
            rerank(starts, keep[starts, k])
        simulate(game, evaluate, f, rule, root_action=order[rows, slot[:, k]])
    rerank(rows, np.ones(b, dtype=np.int64))

    visits = f.visits[:, 0]
    return SearchResult(visits=visits.copy(),
                        value=f.value_sum[:, 0].sum(axis=1) / visits.sum(axis=1),
                        prior=prior.astype(np.float32),
                        policy=improved_policy(prior, visits, f.value_sum[:, 0],
                                               f.node_value[:, 0], legal, config),
                        action=order[:, 0].copy(), forest=f if keep_forest else None)


def _root_sigma(f: Forest, trees: np.ndarray, config: SearchConfig) -> np.ndarray:
    visits = f.visits[trees, 0]
    return sigma(completed_q(f.prior[trees, 0], visits, f.value_sum[trees, 0],
                             f.node_value[trees, 0]), visits, config)
