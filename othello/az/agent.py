"""AlphaZero on Othello: the MCTS player, and glue between classic players and batched matches.

`alphazero[:PATH][:SIMS]` in any player spec is an `AlphaZeroPlayer`: MCTS with a trained network
(no PATH: the committed pretrained agent), the most visited move, no noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from alphazero.arena import Policy, mcts_policy
from alphazero.mcts import CachedEvaluator, SearchConfig, network_evaluator, search
from common.io import REPO_ROOT, CheckpointError
from othello.az.game import OthelloGame, states_from_positions
from othello.az.model import PolicyValueNet, load_model
from othello.players.classic import Player, PlayerSpecError
from othello.rules.board import Position

PRETRAINED = REPO_ROOT / "results" / "alphazero" / "agent.pt"
DEFAULT_SIMULATIONS = 50


class AlphaZeroPlayer:
    """MCTS with a policy-value network; plays the most visited root move."""

    def __init__(self, net: PolicyValueNet, simulations: int = DEFAULT_SIMULATIONS,
                 name: str = "alphazero", c_puct: float = SearchConfig.c_puct):
        self.net = net.eval()
        self.game = OthelloGame(net.config.size)
        self.config = SearchConfig(simulations=simulations, c_puct=c_puct)
        self.evaluate = CachedEvaluator(network_evaluator(self.game, self.net))
        self.name = name

    def choose(self, pos: Position, rng: np.random.Generator) -> int:
        if pos.size != self.game.size:
            raise ValueError(f"this network plays {self.game.size}x{self.game.size}, "
                             f"not {pos.size}x{pos.size}")
        visits = search(self.game, self.evaluate, states_from_positions([pos]), self.config,
                        rng).visits[0]
        return int(visits.argmax())

    def policy(self, rng: np.random.Generator) -> Policy:
        """The same player for batched matches."""
        return mcts_policy(self.game, self.evaluate, self.config, rng)


def parse_spec(arg: str | None) -> tuple[Path, int]:
    """`PATH`, `PATH:SIMS`, `SIMS` or nothing -> (checkpoint path, simulations)."""
    path, sims = PRETRAINED, DEFAULT_SIMULATIONS
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
    torch.set_num_threads(1)
    label = "alphazero" if path == PRETRAINED else f"alphazero:{path.name}"
    return AlphaZeroPlayer(net, sims, name=f"{label}:{sims}")


def classic_policy(player: Player, size: int, rng: np.random.Generator) -> Policy:
    """A scalar `Player` as a batched policy (it simply loops over the games)."""
    def policy(states: np.ndarray) -> np.ndarray:
        return np.array([player.choose(Position(size, int(s[0]), int(s[1]), True), rng)
                         for s in states], dtype=np.int64)
    return policy


def uniform_evaluator(game: OthelloGame):
    """Uniform priors over legal moves and value 0: MCTS as pure search (tests, baselines)."""
    def evaluate(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        legal = game.legal_actions(states).astype(np.float32)
        return legal / legal.sum(axis=1, keepdims=True), np.zeros(len(states), np.float32)
    return evaluate
