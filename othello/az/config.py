"""The network's shape and the strength evaluation's knobs, apart from the modules that use them
so that reading them (an entry point's --help, a saved config) does not load torch."""

from __future__ import annotations

from dataclasses import dataclass

from common.config import at_least, knob
from common.io import REPO_ROOT
from othello.rules.board import SIZES

PRETRAINED = REPO_ROOT / "results" / "alphazero" / "agent.pt"  # the committed agent
CLASSIC_OPPONENTS = ("random", "greedy", "alphabeta:2", "alphabeta:3", "alphabeta:4")


@dataclass(frozen=True)
class NetConfig:
    """Shape of the network; saved with every checkpoint so it can be rebuilt without flags.
    (The flags are --net-width and --net-blocks: --blocks elsewhere names activation blocks.)"""

    size: int = knob(6, "board size", choices=SIZES)
    width: int = knob(256, "residual stream width", check=at_least(1), flag="--net-width")
    blocks: int = knob(4, "residual blocks of the network", check=at_least(0),
                       flag="--net-blocks")
    margin_head: bool = knob(False, "a head predicting the final disc margin for the side to "
                             "move (a scalar in [-1, 1]; trained with --margin-weight)")

    @property
    def moves(self) -> int:
        return self.size * self.size + 1

    @property
    def inputs(self) -> int:
        return 3 * self.size * self.size


@dataclass(frozen=True)
class EvalConfig:
    """How a network's strength is measured: matches against classic players and the share of
    perfect moves on a solver-labelled endgame set. The search is the caller's SearchConfig."""

    games: int = knob(20, "games against each classic opponent per evaluation (0: none)",
                      check=at_least(0), flag="--eval-games")
    opponents: tuple[str, ...] = knob(CLASSIC_OPPONENTS, "classic opponents (player specs)",
                                      flag="--opponents")
    endgames: int = knob(60, "positions in the solver-labelled endgame set (0: none)",
                         check=at_least(0))
    opening_plies: int = knob(4, "random plies before each evaluation game (paired openings)",
                              check=at_least(0), flag="--eval-opening-plies")
    judged_games: int = knob(0, "games against the last opponent whose every agent move the "
                             "perfect-play oracle judges (pairs of colours; slow: seconds to a "
                             "minute per move above 20 empties)", check=at_least(0))
