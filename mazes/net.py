"""Two policy-value networks over the wall / mouse / cheese planes of a maze, chosen by `arch`.

Both score a move by the square it leads to, so the policy climbs a map over the grid; they
differ in how much of the maze's rules the map has built in, and that decides what they learn
from a biased training distribution (docs/mazes.md):

- `vin` (`ValueIterationNet`, after Tamar et al. 2016): the rules are built in. A learned 1x1
  conv turns the wall and cheese planes (the maze, not the mouse) into a reward map r; `passes`
  Bellman backups v(s) = r(s) + max over the four moves of v(where the move leads) give a value
  map, a move into a wall leading back to s as the environment moves the mouse, the cheese
  terminal (v = r there: the episode ends), v = 0 on walls. PPO learns 6 numbers: the reward
  map (wall weight, cheese weight, bias), a policy temperature and an affine critic of v at
  the mouse. The reward map starts at zero (the uniform policy). Fast to train, and it cannot
  prefer a region of the grid: nothing in it knows where a square is.
- `conv` (`ConvNet`): the rules are learned. One 3x3 conv block applied `iterations` times,
  the input planes plus each square's offset to the cheese re-injected every pass, so
  information travels a square per pass; a 1x1 conv gives a score and a value per square.
  PPO trains through the last `backprop` passes only (`think` runs the others once per
  rollout). Slow to train, and free to learn "go up and right" when that is what training
  rewarded.

The one contract the PPO loop uses: `think(obs)` (the state of the passes without gradient; an
empty (n, 0) tensor for the VIN) and `forward(obs, thought=None)` -> (logits (n, 4), value (n,)).
Paths on the default 9x9 grid run up to 48 moves (half 12 or fewer, 90% 27 or fewer): hence 48
value-iteration passes, and 32 conv passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from common.config import at_least, knob
from common.io import CheckpointError
from mazes.env import DELTAS, PLANES

ARCHS = ("vin", "conv")


@dataclass(frozen=True)
class NetConfig:
    """Which network, and its depth (`passes` for the VIN; `channels`, `iterations`,
    `backprop` for the conv net)."""

    arch: str = knob("vin", "network: vin (value iteration, the maze's moves built in) or conv "
                     "(recurrent conv block, everything learned)", choices=ARCHS)
    passes: int = knob(48, "vin: value-iteration passes (the longest path they can see)",
                       check=at_least(1))
    channels: int = knob(8, "conv: channels of the recurrent conv block", check=at_least(1))
    iterations: int = knob(32, "conv: passes of the shared conv block", check=at_least(1))
    backprop: int = knob(8, "conv: last passes that PPO trains through (0: all)",
                         check=at_least(0))


def ringed(planes: torch.Tensor) -> torch.Tensor:
    """The planes on the grid ringed with wall (the first plane is the wall plane)."""
    return torch.cat([F.pad(planes[:, :1], (1, 1, 1, 1), value=1.0),
                      F.pad(planes[:, 1:], (1, 1, 1, 1))], dim=1)


def mouse_square(obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, cols) (n,) of the mouse in the ringed grid."""
    where = obs[:, 1].reshape(len(obs), -1).argmax(1)
    size = obs.shape[-1]
    return where // size + 1, where % size + 1


class MazeNet(nn.Module):
    """The contract both architectures keep: `think` then `forward`; `arch` names the class
    in checkpoints."""

    arch = ""

    def think(self, obs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, obs: torch.Tensor, thought: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


def _after_moves(v: torch.Tensor, open_: torch.Tensor) -> torch.Tensor:
    """(n, 4, H, W): at each square, v where each move leads (the square itself when the move
    hits a wall; the grid is ringed with wall, so rolling never wraps an open square round)."""
    shifts = [(-int(dr), -int(dc)) for dr, dc in DELTAS]  # rolled by -delta: x at s + delta
    leads = torch.stack([torch.roll(open_, s, (1, 2)) for s in shifts], 1) > 0
    return torch.where(leads, torch.stack([torch.roll(v, s, (1, 2)) for s in shifts], 1),
                       v[:, None])


class ValueIterationNet(MazeNet):
    """(n, 3, S, S) planes -> (logits (n, 4), value (n,)) by value iteration on the maze."""

    arch = "vin"

    def __init__(self, size: int, cfg: NetConfig = NetConfig()) -> None:
        super().__init__()
        self.size, self.cfg = size, cfg
        self.reward = nn.Conv2d(2, 1, 1)  # from the wall and cheese planes: the maze, not the mouse
        nn.init.zeros_(self.reward.weight)  # v = 0 everywhere: the uniform policy
        nn.init.zeros_(self.reward.bias)
        self.log_temperature = nn.Parameter(torch.zeros(()))
        self.critic = nn.Linear(1, 1)

    def value_map(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(v, next): v (n, S + 2, S + 2) on the grid ringed with wall, and next (n, 4, S + 2,
        S + 2), v at the square each move leads to."""
        planes = ringed(obs)
        open_ = 1.0 - planes[:, 0]
        cheese = planes[:, 2] > 0
        r = self.reward(planes[:, 0::2])[:, 0] * open_
        v = torch.zeros_like(r)
        for _ in range(self.cfg.passes):
            v = torch.where(cheese, r, (r + _after_moves(v, open_).amax(1)) * open_)
        return v, _after_moves(v, open_)

    def think(self, obs: torch.Tensor) -> torch.Tensor:
        """Nothing runs without gradient: an empty (n, 0) state."""
        return obs.new_zeros(len(obs), 0)

    def forward(self, obs: torch.Tensor, thought: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and value (`thought` is accepted for the shared contract and unused)."""
        v, nxt = self.value_map(obs)
        rows = torch.arange(len(obs), device=obs.device)
        r, c = mouse_square(obs)
        logits = nxt[rows, :, r, c] * self.log_temperature.exp()
        value = self.critic(v[rows, r, c].detach()[:, None])[:, 0]
        return logits, value


def cheese_offsets(obs: torch.Tensor) -> torch.Tensor:
    """(n, 2, S, S): each square's (row, col) offset to the cheese, divided by S."""
    n, _, size, _ = obs.shape
    where = obs[:, 2].reshape(n, -1).argmax(1)
    span = torch.arange(size, dtype=obs.dtype, device=obs.device)
    rows = (span[None, :, None] - (where // size)[:, None, None]).expand(n, size, size)
    cols = (span[None, None, :] - (where % size)[:, None, None]).expand(n, size, size)
    return torch.stack([rows, cols], dim=1) / size


class ConvNet(MazeNet):
    """(n, 3, S, S) planes -> (logits (n, 4), value (n,)) by a recurrent conv block.

    The state starts at zero; the first `iterations - backprop` passes run without gradient
    (`think`), so that a PPO update can run them once per rollout and train through the last
    `backprop` passes only (truncated backpropagation through the passes)."""

    arch = "conv"

    def __init__(self, size: int, cfg: NetConfig = NetConfig(arch="conv")) -> None:
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
        return ringed(torch.cat([obs, cheese_offsets(obs)], dim=1))

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
        h = self.think(obs) if thought is None else thought
        injected = self.inject(self._planes(obs))
        for _ in range(self._trained_passes()):
            h = torch.relu(self.block(h) + injected)
        maps = self.head(h)
        r, c = mouse_square(obs)
        deltas = torch.as_tensor(DELTAS, device=obs.device)
        rows = torch.arange(len(obs), device=obs.device)
        logits = maps[rows[:, None], 0, r[:, None] + deltas[:, 0], c[:, None] + deltas[:, 1]]
        return logits, maps[rows, 1, r, c]


NETS: dict[str, type[MazeNet]] = {"vin": ValueIterationNet, "conv": ConvNet}


def build_net(size: int, cfg: NetConfig, seed: int) -> MazeNet:
    """A freshly initialised network of `cfg.arch`; the seed fixes its weights without touching
    the global torch RNG that the caller may rely on."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return NETS[cfg.arch](size, cfg)


def load_weights(net: MazeNet, ckpt: dict, path: str | Path) -> None:
    """Load a checkpoint's weights into `net`, refusing (CheckpointError, one line) one written
    for the other architecture, or before checkpoints recorded theirs."""
    saved = ckpt.get("arch")
    if saved != net.arch:
        held = ("records no architecture (written before the vin / conv knob)" if saved is None
                else f"holds a {saved} net")
        raise CheckpointError(f"checkpoint {path} {held}, but its run asks for a {net.arch} "
                              "net: train the run again (or pass --run-name for a new one)")
    try:
        net.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        raise CheckpointError(f"checkpoint {path} does not fit the {net.arch} net of its run "
                              f"config: {str(e).splitlines()[0]}") from e
