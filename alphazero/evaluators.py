"""Evaluators: states -> (priors over legal actions, values for the side to move).

The only module of `alphazero/` that uses torch: `network_evaluator` wraps a policy-value network
(the game encodes its states), `CachedEvaluator` remembers evaluations by state for as long as the
network does not change. The search itself (`alphazero.mcts`) only sees the `Evaluator` callable.
"""

from __future__ import annotations

import numpy as np
import torch

from alphazero.game import Evaluator, Game
from common.device import module_device


def masked_softmax(logits: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """Softmax over the legal entries of each row (zero elsewhere)."""
    z = np.where(legal, logits, -np.inf)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def network_evaluator(game: Game, net: torch.nn.Module) -> Evaluator:
    """Evaluate states with a policy-value network: masked-softmax priors and tanh values
    (on the network's device; the search gets numpy arrays back)."""

    def evaluate(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            planes = torch.from_numpy(game.encode(states)).to(module_device(net))
            logits, values = net(planes)
        return (masked_softmax(logits.cpu().numpy(), game.legal_actions(states)),
                values.cpu().numpy().astype(np.float32))

    return evaluate


def symmetric_evaluator(game: Game, net: torch.nn.Module) -> Evaluator:
    """`network_evaluator` averaged over the game's symmetries: each state is evaluated in all
    `game.num_symmetries` images, each image's priors are mapped back to the state's own moves,
    and priors and values are averaged. Why: the network is only approximately invariant, and
    the average of its 8 views is a cheaper gain than 8x the simulations (evaluation play)."""
    count = game.num_symmetries
    probe = np.arange(game.num_actions, dtype=np.float32)[None].repeat(count, axis=0)
    # back[k][a]: where action a of the state sits in its k-th image
    dummy = np.zeros((count, *game.encode(game.initial_states(1)).shape[1:]), np.float32)
    forward_ids = game.symmetrize(dummy, probe, np.arange(count))[1].astype(np.int64)

    def evaluate(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(states)
        planes = np.repeat(game.encode(states), count, axis=0)
        images, _ = game.symmetrize(planes, np.zeros((n * count, game.num_actions), np.float32),
                                    np.tile(np.arange(count), n))
        with torch.inference_mode():
            logits, values = net(torch.from_numpy(images).to(module_device(net)))
        logits = logits.cpu().numpy().reshape(n, count, -1)
        legal = game.legal_actions(states)
        priors = np.zeros((n, game.num_actions))
        for k in range(count):
            # the image's policy entry t holds the state's action forward_ids[k, t]
            back = np.empty(game.num_actions, dtype=np.int64)
            back[forward_ids[k]] = np.arange(game.num_actions)
            priors += masked_softmax(logits[:, k, back], legal)
        return ((priors / count).astype(np.float32),
                values.cpu().numpy().reshape(n, count).mean(axis=1).astype(np.float32))

    return evaluate


class CachedEvaluator:
    """Remembers evaluations by state, for as long as the network does not change.

    Consecutive searches of a game revisit much of the previous search's subtree, and games in a
    batch share openings: in self-play about 60% of leaf evaluations repeat an earlier one (the
    dictionary trees of the usual implementations get the same saving by keeping the tree). The
    memory is cleared whenever it would exceed `capacity` states."""

    def __init__(self, evaluate: Evaluator, capacity: int = 200_000):
        self.evaluate, self.capacity = evaluate, capacity
        self.index: dict[bytes, int] = {}
        self.priors: np.ndarray | None = None
        self.values = np.zeros(capacity, dtype=np.float32)

    def __call__(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = np.ascontiguousarray(states).reshape(len(states), -1)
        keys = flat.view(np.dtype((np.void, flat.shape[1] * flat.itemsize))).ravel().tolist()
        if len(self.index) + len(keys) > self.capacity:
            self.index.clear()
        rows = np.empty(len(keys), dtype=np.int64)
        new: dict[bytes, int] = {}
        first: list[int] = []
        for i, key in enumerate(keys):
            row = self.index.get(key)
            if row is None:
                row = new.get(key)
                if row is None:
                    row = new[key] = len(self.index) + len(new)
                    first.append(i)
            rows[i] = row
        if first:
            priors, values = self.evaluate(states[first])
            if self.priors is None:
                self.priors = np.zeros((self.capacity, priors.shape[1]), dtype=np.float32)
            slots = np.fromiter(new.values(), dtype=np.int64, count=len(new))
            self.priors[slots], self.values[slots] = priors, values
            self.index.update(new)
        return self.priors[rows], self.values[rows]


def uniform_evaluator(game: Game) -> Evaluator:
    """Uniform priors over legal moves and value 0: MCTS as pure search (tests, baselines)."""
    def evaluate(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        legal = game.legal_actions(states).astype(np.float32)
        return legal / legal.sum(axis=1, keepdims=True), np.zeros(len(states), np.float32)
    return evaluate
