"""The one interface between the AlphaZero algorithm and a game.

Everything is batched: a batch of states is a numpy array `[n, *state_shape]`, and every method
maps a whole batch at once, so search can advance hundreds of trees with a few array operations
instead of a Python call per tree. States are always seen from the side to move, and each action
(a pass included, where the game has one) hands the move to the other side, so values simply flip
sign from one ply to the next. A state with no legal action is terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# states -> (priors over legal actions [n, num_actions], values for the side to move [n]):
# what the search asks of a network (see alphazero.evaluators)
Evaluator = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class Game(Protocol):
    """A two-player, zero-sum, perfect-information game, batched and from the side to move."""

    num_actions: int  # size of the policy vector
    num_symmetries: int  # symmetries used for data augmentation (1 = none)

    def initial_states(self, n: int) -> np.ndarray:
        """`n` copies of the starting state."""
        ...

    def legal_actions(self, states: np.ndarray) -> np.ndarray:
        """bool `[n, num_actions]`; a row of all False means the game is over."""
        ...

    def next_states(self, states: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """States after each row's (legal) action, from the next side to move."""
        ...

    def outcome(self, states: np.ndarray) -> np.ndarray:
        """float `[n]` for terminal states: +1 win, 0 draw, -1 loss for the side to move."""
        ...

    # Optional: `margin(states)`, float `[n]` for terminal states, the final score margin for
    # the side to move scaled to [-1, 1] (Othello: disc difference / squares): the target of a
    # margin head. Games without it use the outcome (see `alphazero.selfplay.final_margins`).

    def encode(self, states: np.ndarray) -> np.ndarray:
        """float32 network input for each state."""
        ...

    def symmetrize(self, inputs: np.ndarray, policies: np.ndarray,
                   symmetry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply symmetry `symmetry[i]` to row i of encoded inputs and policy targets."""
        ...


@dataclass
class Adjudication:
    """What an adjudicator knows about a batch of states (rows where `done` is False are not
    scored: their values and margins are 0)."""

    done: np.ndarray  # bool [n]: the game stops here with an exact result
    values: np.ndarray  # float32 [n]: +1 / 0 / -1 for the side to move under perfect play
    margins: np.ndarray  # float32 [n]: the perfect-play margin, scaled as `Game.margin`


class Adjudicator(Protocol):
    """Ends self-play games early with exact results (a game-specific solver: Othello's is
    `othello.az.adjudicate`), so the positions of a game take the game-theoretic value as their
    target instead of one noisy playout's, and the endgame costs no search."""

    def __call__(self, states: np.ndarray) -> Adjudication:
        """Which states to stop at, with their exact results."""
        ...

    def perfect_line(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(states `[k, ...]`, policy targets `[k, num_actions]`): positions from the stopped
        `state` on (itself first) along perfect play, each with the optimal moves as its policy
        target; k = 0 when the adjudicator records none."""
        ...
