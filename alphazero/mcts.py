"""Batched PUCT Monte Carlo tree search on the array forest of `alphazero.forest`.

`search` is the one entry: PUCT from the root (AlphaZero; Dirichlet noise in self-play), or,
with `SearchConfig.root_search == "gumbel"`, the Gumbel root of `alphazero.gumbel`.
"""

from __future__ import annotations

import numpy as np

from alphazero.config import SearchConfig
from alphazero.forest import Forest, Puct, SearchResult, new_forest, simulate
from alphazero.game import Evaluator, Game
from alphazero.gumbel import gumbel_search

__all__ = ["Evaluator", "Forest", "SearchConfig", "SearchResult", "choose_actions",
           "played_actions", "search"]


def search(game: Game, evaluate: Evaluator, roots: np.ndarray, config: SearchConfig,
           rng: np.random.Generator, keep_forest: bool = False) -> SearchResult:
    """Run `config.simulations` simulations from each root (roots must not be terminal);
    `keep_forest` also returns the trees (e.g. to collect the positions the search evaluated).
    `config.root_search == "gumbel"` hands the roots to `alphazero.gumbel`."""
    if config.root_search == "gumbel":
        return gumbel_search(game, evaluate, roots, config, rng, keep_forest)
    f, prior = new_forest(game, evaluate, roots, config.simulations)
    if config.noise_fraction > 0:
        noise = rng.gamma(config.dirichlet_alpha, size=prior.shape) * f.legal[:, 0]
        noise /= noise.sum(axis=1, keepdims=True)
        prior = (1 - config.noise_fraction) * prior + config.noise_fraction * noise
        f.prior[:, 0] = prior
    for _ in range(config.simulations):
        simulate(game, evaluate, f, Puct(config.c_puct))

    visits = f.visits[:, 0]
    totals = visits.sum(axis=1)
    return SearchResult(visits=visits.copy(), value=f.value_sum[:, 0].sum(axis=1) / totals,
                        prior=prior.astype(np.float32), policy=visits / totals[:, None],
                        forest=f if keep_forest else None)


def played_actions(result: SearchResult, temperature: float | np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """The moves to play: the search's own choice where it made one (gumbel), else sampled from
    the visits at `temperature` (0: the most visited)."""
    if result.action is not None:
        return result.action
    return choose_actions(result.visits, temperature, rng)


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
