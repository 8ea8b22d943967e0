"""The search's knobs (`SearchConfig`) and the training run's (`TrainConfig`), apart from the code
that uses them so that reading them (an entry point's --help, a saved run's config) loads
neither torch nor the search."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from common.config import at_least, knob, positive, probability, validate


@dataclass(frozen=True)
class SearchConfig:
    """The search: the one home of the simulation count and the exploration constants, used by
    self-play, evaluation and play alike. `noise_fraction > 0` marks self-play's search: root
    Dirichlet noise for PUCT, sampled Gumbel noise for the Gumbel root."""

    simulations: int = knob(50, "MCTS simulations per move", check=at_least(1))
    c_puct: float = knob(1.5, "PUCT exploration constant", check=positive)
    dirichlet_alpha: float = knob(0.5, "root Dirichlet noise concentration", check=positive)
    noise_fraction: float = knob(0.0, "weight of the root Dirichlet noise in the priors "
                                 "(puct; with the gumbel root any value > 0 samples the Gumbel "
                                 "noise of self-play instead)", check=probability)
    root_search: str = knob("puct", "root search: puct (visit counts) or gumbel (Gumbel top-k, "
                            "sequential halving, completed-Q policy targets; alphazero.gumbel)",
                            choices=("puct", "gumbel"))
    gumbel_actions: int = knob(16, "gumbel: root actions sampled for sequential halving (m)",
                               check=at_least(1))
    c_visit: float = knob(50.0, "gumbel: visit offset of the Q transform sigma", check=positive)
    c_scale: float = knob(1.0, "gumbel: scale of the Q transform sigma", check=positive)

    def __post_init__(self):
        validate(self)


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
                                  "most visited move (puct; the gumbel root samples with its "
                                  "Gumbel noise instead)", check=at_least(0))
    opening_plies: int = knob(0, "start each self-play game after a uniformly random number in "
                              "[0, k] of uniformly random moves, which are not recorded "
                              "(opening diversity, as KataGo randomises openings; the "
                              "evaluations start from random openings too; 0: every game from "
                              "the initial position)", check=at_least(0))
    full_search_share: float = knob(1.0, "playout-cap randomisation (KataGo): share of moves "
                                    "that get the full search and become training examples; "
                                    "the rest get a cheap search (1: every move)",
                                    check=probability)
    cheap_simulations: int = knob(8, "simulations of the cheap searches (no noise) when "
                                  "--full-search-share < 1", check=at_least(1))
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

    def cheap_search(self) -> SearchConfig:
        """The cheap search of playout-cap randomisation: fewer simulations, no noise."""
        return replace(self.eval_search(), simulations=self.cheap_simulations)

    def lr_at(self, iteration: int, cpu_seconds: float = 0.0) -> float:
        """Cosine decay from `lr` to lr/20 over the run (iteration counts from 1), or over the
        CPU budget (`cpu_seconds` spent before this iteration) when there is one."""
        if self.cpu_budget_s:
            frac = min(cpu_seconds / self.cpu_budget_s, 1.0)
        else:
            frac = (iteration - 1) / max(self.iterations - 1, 1)
        return self.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))


@dataclass(frozen=True)
class WorkersConfig:
    """How self-play is split (`alphazero.distributed`; saved with the run, not in TrainConfig,
    so runs without workers keep their saved configs)."""

    selfplay_workers: int = knob(0, "self-play workers, each playing its share of the games "
                                 "with seeds of its own (Ray actors with --executor ray); 0: "
                                 "the trainer plays them itself", check=at_least(0))
