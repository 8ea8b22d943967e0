"""A small policy-value network over the wall / mouse / cheese planes of a maze.

Fully convolutional, so that what it learns about a wall or a corridor holds on every square,
and recurrent in depth: one 3x3 conv block is applied `iterations` times, with the input planes
fed in again at every pass, so that information can travel along corridors one square per pass
(a flood fill from the cheese is one rule this block can learn). The passes must outnumber the
moves from mouse to cheese: on the default 9x9 grid paths run up to 48 moves, half are 12 or
fewer, 90% are 27 or fewer, so 32 passes. Besides the three planes the network sees each
square's offset to the cheese (two planes computed from the cheese plane, no parameters), and
the grid is ringed with wall. The last 1x1 conv gives a score and a value per square: the logit
of a move is the score of the square it leads to, so the policy climbs a learned potential, and
the value is the value map at the mouse.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from common.config import at_least, knob
from mazes.env import DELTAS, PLANES


@dataclass(frozen=True)
class NetConfig:
    """Width and depth of the policy-value network."""

    channels: int = knob(8, "channels of the recurrent conv block", check=at_least(1))
    iterations: int = knob(32, "passes of the shared conv block", check=at_least(1))
    backprop: int = knob(8, "last passes that PPO trains through (0: all)", check=at_least(0))


def cheese_offsets(obs: torch.Tensor) -> torch.Tensor:
    """(n, 2, S, S): each square's (row, col) offset to the cheese, divided by S."""
    n, _, size, _ = obs.shape
    where = obs[:, 2].reshape(n, -1).argmax(1)
    span = torch.arange(size, dtype=obs.dtype, device=obs.device)
    rows = (span[None, :, None] - (where // size)[:, None, None]).expand(n, size, size)
    cols = (span[None, None, :] - (where % size)[:, None, None]).expand(n, size, size)
    return torch.stack([rows, cols], dim=1) / size


class MazeNet(nn.Module):
    """(n, 3, S, S) planes -> (logits (n, 4), value (n,)).

    The state starts at zero; the first `iterations - backprop` passes run without gradient
    (`think`), so that a PPO update can run them once per rollout and train through the last
    `backprop` passes only (truncated backpropagation through the passes)."""

    def __init__(self, size: int, cfg: NetConfig = NetConfig()) -> None:
        super().__init__()
        self.size, self.cfg = size, cfg
        inputs = len(PLANES) + 2
        self.inject = nn.Conv2d(inputs, cfg.channels, 1)
        self.block = nn.Conv2d(cfg.channels, cfg.channels, 3, padding=1)
        self.head = nn.Conv2d(cfg.channels, 2, 1)
        nn.init.normal_(self.head.weight, std=0.01)  # start near the uniform policy
        nn.init.zeros_(self.head.bias)

    def _trained_passes(self) -> int:
        return min(self.cfg.backprop or self.cfg.iterations, self.cfg.iterations)

    def _planes(self, obs: torch.Tensor) -> torch.Tensor:
        x = torch.cat([obs, cheese_offsets(obs)], dim=1)
        return torch.cat([F.pad(x[:, :1], (1, 1, 1, 1), value=1.0),
                          F.pad(x[:, 1:], (1, 1, 1, 1))], dim=1)  # a ring of wall round the grid

    def think(self, obs: torch.Tensor) -> torch.Tensor:
        """(n, channels, S + 2, S + 2): the state after the passes that take no gradient."""
        with torch.no_grad():
            injected = self.inject(self._planes(obs))
            h = torch.zeros_like(injected)
            for _ in range(self.cfg.iterations - self._trained_passes()):
                h = torch.relu(self.block(h) + injected)
        return h

    def forward(self, obs: torch.Tensor, thought: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and value; `thought` (from `think`, perhaps with older weights) skips the
        passes without gradient."""
        n = len(obs)
        h = self.think(obs) if thought is None else thought
        injected = self.inject(self._planes(obs))
        for _ in range(self._trained_passes()):
            h = torch.relu(self.block(h) + injected)
        maps = self.head(h)
        where = obs[:, 1].reshape(n, -1).argmax(1)
        r, c = where // self.size + 1, where % self.size + 1  # in the ringed grid
        deltas = torch.as_tensor(DELTAS, device=obs.device)
        rows = torch.arange(n, device=obs.device)
        logits = maps[rows[:, None], 0, r[:, None] + deltas[:, 0], c[:, None] + deltas[:, 1]]
        return logits, maps[rows, 1, r, c]


def build_net(size: int, cfg: NetConfig, seed: int) -> MazeNet:
    """A freshly initialised network; the seed fixes its weights without touching the global
    torch RNG that the caller may rely on."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MazeNet(size, cfg)
