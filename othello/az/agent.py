"""AlphaZero on Othello: the MCTS player, and glue between classic players and batched matches.

`alphazero[:PATH][:SIMS]` in any player spec is an `AlphaZeroPlayer`: MCTS with a trained network
(no PATH: the committed pretrained agent), the most visited move, no noise; SIMS defaults to
`SearchConfig().simulations`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from alphazero.arena import Policy, mcts_policy
from alphazero.evaluators import CachedEvaluator, network_evaluator, symmetric_evaluator
from alphazero.mcts import SearchConfig, played_actions, search
from common.io import CheckpointError
from othello.az.config import PRETRAINED
from othello.az.game import OthelloGame
from othello.az.model import PolicyValueNet, load_model
from othello.players.registry import Player, PlayerSpecError
from othello.rules.batch import states_from_positions
from othello.rules.board import Position


class AlphaZeroPlayer:
    """MCTS with a policy-value network; plays the most visited root move, or the Gumbel root's
    choice (no root noise)."""

    def __init__(self, net: PolicyValueNet, search: SearchConfig | None = None,
                 name: str = "alphazero", symmetric: bool = False):
        self.net = net.eval()
        self.game = OthelloGame(net.config.size)
        self.config = replace(search or SearchConfig(), noise_fraction=0.0)
        evaluator = symmetric_evaluator if symmetric else network_evaluator  # 8 views averaged
        self.evaluate = CachedEvaluator(evaluator(self.game, self.net))
        self.name = name

    def choose(self, pos: Position, rng: np.random.Generator) -> int:
        if pos.size != self.game.size:
            raise ValueError(f"this network plays {self.game.size}x{self.game.size}, "
                             f"not {pos.size}x{pos.size}")
        result = search(self.game, self.evaluate, states_from_positions([pos]), self.config, rng)
        return int(played_actions(result, 0.0, rng)[0])

    def policy(self, rng: np.random.Generator) -> Policy:
        """The same player for batched matches."""
        return mcts_policy(self.game, self.evaluate, self.config, rng)


def parse_spec(arg: str | None) -> tuple[Path, int]:
    """`PATH`, `PATH:SIMS`, `SIMS` or nothing -> (checkpoint path, simulations)."""
    path, sims = PRETRAINED, SearchConfig().simulations
    if arg:
        head, _, tail = arg.rpartition(":")
        if tail.isdigit():
            sims = int(tail)
            arg = head
        if arg:
            path = Path(arg)
    if not 1 <= sims <= 100_000:
        raise PlayerSpecError(f"alphazero simulations must be in 1..100000, got {sims}")
    return path, sims


def alphazero_player(arg: str | None, size: int) -> AlphaZeroPlayer:
    """The registry's factory for `alphazero[:PATH][:SIMS]`."""
    path, sims = parse_spec(arg)
    if not path.exists():
        hint = " (train one with `python train_alphazero.py`)" if path == PRETRAINED else ""
        raise PlayerSpecError(f"no network checkpoint at {path}{hint}")
    try:
        net, _ = load_model(path)
    except CheckpointError as exc:
        raise PlayerSpecError(str(exc)) from None
    if net.config.size != size:
        raise PlayerSpecError(f"{path} holds a {net.config.size}x{net.config.size} network, "
                              f"but the board is {size}x{size}")
    label = "alphazero" if path == PRETRAINED else f"alphazero:{path.name}"
    return AlphaZeroPlayer(net, SearchConfig(simulations=sims), name=f"{label}:{sims}")


def classic_policy(player: Player, size: int, rng: np.random.Generator) -> Policy:
    """A scalar `Player` as a batched policy (it simply loops over the games)."""
    def policy(states: np.ndarray) -> np.ndarray:
        return np.array([player.choose(Position(size, int(s[0]), int(s[1]), True), rng)
                         for s in states], dtype=np.int64)
    return policy
