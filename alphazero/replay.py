"""A fixed-capacity replay buffer of self-play examples, oldest overwritten first.

Stores raw game states (compact) rather than network inputs; a sampled batch is encoded and given
a random symmetry per example, so augmentation costs nothing in memory.
"""

from __future__ import annotations

import numpy as np

from alphazero.game import Game
from alphazero.selfplay import Examples


class ReplayBuffer:
    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError("replay capacity must be >= 1")
        self.capacity = capacity
        self.data: Examples | None = None
        self.next = 0  # ring position of the next write
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, examples: Examples) -> None:
        if len(examples) == 0:
            return
        if self.data is None:
            self.data = Examples(
                np.zeros((self.capacity, *examples.states.shape[1:]), examples.states.dtype),
                np.zeros((self.capacity, examples.policies.shape[1]), np.float32),
                np.zeros(self.capacity, np.float32), np.zeros(self.capacity, np.float32))
        examples = Examples(examples.states[-self.capacity:], examples.policies[-self.capacity:],
                            examples.values[-self.capacity:], examples.margins[-self.capacity:])
        slots = (self.next + np.arange(len(examples))) % self.capacity
        self.data.states[slots] = examples.states
        self.data.policies[slots] = examples.policies
        self.data.values[slots] = examples.values
        self.data.margins[slots] = examples.margins
        self.next = int((self.next + len(examples)) % self.capacity)
        self.size = min(self.capacity, self.size + len(examples))

    def sample(self, game: Game, batch_size: int, rng: np.random.Generator,
               augment: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(inputs, policy targets, value targets, margin targets) for a uniform random
        batch."""
        if self.data is None:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = rng.integers(self.size, size=batch_size)
        inputs = game.encode(self.data.states[idx])
        policies = self.data.policies[idx]
        if augment and game.num_symmetries > 1:
            inputs, policies = game.symmetrize(inputs, policies,
                                               rng.integers(game.num_symmetries, size=batch_size))
        return (inputs, np.ascontiguousarray(policies), self.data.values[idx],
                self.data.margins[idx])

    def state_dict(self) -> dict:
        """Arrays, ints and strings (the trainer stores the arrays as tensors, so that checkpoints
        load with weights_only=True)."""
        if self.data is None:
            return {"capacity": self.capacity, "next": 0, "size": 0}
        n = self.size
        return {"capacity": self.capacity, "next": self.next, "size": n,
                "states": self.data.states[:n].reshape(n, -1).view(np.uint8).copy(),
                "state_dtype": str(self.data.states.dtype),
                "state_shape": list(self.data.states.shape[1:]),
                "policies": self.data.policies[:n].copy(),
                "values": self.data.values[:n].copy(),
                "margins": self.data.margins[:n].copy()}

    @classmethod
    def from_state_dict(cls, d: dict) -> ReplayBuffer:
        buf = cls(int(d["capacity"]))
        n = int(d["size"])
        if n:
            states = np.asarray(d["states"]).view(np.dtype(d["state_dtype"]))
            states = states.reshape(n, *d["state_shape"])
            buf.data = Examples(
                np.zeros((buf.capacity, *states.shape[1:]), states.dtype),
                np.zeros((buf.capacity, d["policies"].shape[1]), np.float32),
                np.zeros(buf.capacity, np.float32), np.zeros(buf.capacity, np.float32))
            buf.data.states[:n] = states
            buf.data.policies[:n] = np.asarray(d["policies"])
            buf.data.values[:n] = np.asarray(d["values"])
            if "margins" in d:  # runs saved before margin targets existed have none (zeros)
                buf.data.margins[:n] = np.asarray(d["margins"])
            buf.size, buf.next = n, int(d["next"])
        return buf
