"""The training run's knobs (`TrainConfig`), apart from the trainer so that reading them (an
entry point's --help, a saved run's config) does not load torch."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from alphazero.mcts import SearchConfig
from common.config import at_least, knob, positive, probability, validate


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a run; saved in its checkpoint, so a resumed run uses the same values.

    `search` is the one search config: self-play uses it as is (root noise included), the arena
    gate and evaluations use it without the noise (`eval_search`)."""

    iterations: int = knob(80, "self-play/training iterations", check=at_least(1))
    games_per_iteration: int = knob(256, "self-play games per iteration", check=at_least(1))
    concurrent_games: int = knob(256, "games advanced together (one batched network call per "
                                 "simulation)", check=at_least(1))
    search: SearchConfig = SearchConfig(noise_fraction=0.25)
    temperature_plies: int = knob(8, "plies sampled in proportion to visits before playing the "
                                  "most visited move", check=at_least(0))
    search_value_weight: float = knob(0.0, "blend of the root search value into value targets "
                                      "(0: the game result)", check=probability)
    exact_empties: int = knob(0, "stop self-play games this close to the end (Othello: at this "
                              "many empty squares) and learn from the exact result of the game's "
                              "adjudicator instead of playing on (0: off, every game played out)",
                              check=at_least(0))
    exact_policy_positions: int = knob(0, "with --exact-empties: also record this many positions "
                                       "of a perfect line from the stop, the optimal moves as "
                                       "their policy target", check=at_least(0))
    margin_weight: float = knob(0.0, "weight of the final-margin loss (MSE; needs a network "
                                "with a margin head; 0: not trained)", check=at_least(0))
    cpu_budget_s: float = knob(0.0, "stop once self-play and training have used this many CPU "
                               "seconds of the process (over all iterations, evaluations not "
                               "counted); the learning rate then decays over the budget "
                               "instead of --iterations, which stays an upper bound. The "
                               "length of such a run depends on the machine (0: off)",
                               check=at_least(0))
    replay_capacity: int = knob(60_000, "positions kept in the replay buffer", check=at_least(1))
    batch_size: int = knob(256, "training minibatch", check=at_least(1))
    sample_reuse: float = knob(24.0, "training samples drawn per new self-play position",
                               check=positive)
    lr: float = knob(2e-3, "AdamW peak learning rate (cosine-decayed to 1/20 over the run)",
                     check=positive)
    weight_decay: float = knob(1e-4, "AdamW weight decay", check=probability)
    gate_games: int = knob(0, "arena games new vs previous network per iteration (0: no gating, "
                           "as in AlphaZero)", check=at_least(0))
    gate_threshold: float = knob(0.55, "score the new network needs in the arena to be kept",
                                 check=probability)
    eval_every: int = knob(5, "run the evaluation hook every k iterations (and at the last)",
                           check=at_least(1))
    snapshots: int = knob(12, "about how many log-spaced network snapshots to keep",
                          check=at_least(1))
    seed: int = knob(0, "random seed (network initialisation, self-play, training)",
                     check=at_least(0))

    def __post_init__(self):
        validate(self)

    def eval_search(self) -> SearchConfig:
        """The search without root noise: the arena gate and evaluations play with this."""
        return replace(self.search, noise_fraction=0.0)

    def lr_at(self, iteration: int, cpu_seconds: float = 0.0) -> float:
        """Cosine decay from `lr` to lr/20 over the run (iteration counts from 1), or over the
        CPU budget (`cpu_seconds` spent before this iteration) when there is one."""
        if self.cpu_budget_s:
            frac = min(cpu_seconds / self.cpu_budget_s, 1.0)
        else:
            frac = (iteration - 1) / max(self.iterations - 1, 1)
        return self.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
