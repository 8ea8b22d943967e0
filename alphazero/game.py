"""The one interface between the AlphaZero algorithm and a game.

Everything is batched: a batch of states is a numpy array `[n, *state_shape]`, and every method
maps a whole batch at once, so search can advance hundreds of trees with a few array operations
instead of a Python call per tree. States are always seen from the side to move, and each action
(a pass included, where the game has one) hands the move to the other side, so values simply flip
sign from one ply to the next. A state with no legal action is terminal.
"""

from __future__ import annotations

from collections.abc import Callable
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

    def encode(self, states: np.ndarray) -> np.ndarray:
        """float32 network input for each state."""
        ...

    def symmetrize(self, inputs: np.ndarray, policies: np.ndarray,
                   symmetry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply symmetry `symmetry[i]` to row i of encoded inputs and policy targets."""
        ...
