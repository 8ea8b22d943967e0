"""The policy-value network: a residual MLP whose residual stream is open to inspection.

Board planes (mine / theirs / empty, flattened) -> Linear to `width` -> `blocks` residual blocks
`x + Linear(ReLU(LayerNorm(x)))` -> final LayerNorm -> policy logits over N*N + 1 moves (the last
is the pass) and a tanh value for the side to move.

Why this block: LayerNorm (not BatchNorm) makes the output of a position independent of what else
is in the batch and of train/eval mode, so batch-1 play, batched search, activation collection and
SAE splicing all see the same function. Pre-normalisation keeps the stream itself un-normalised,
so what each block writes adds up linearly, which is what SAEs and probes read. One linear layer
per block (instead of a two-layer MLP) halves inference cost, which bounds self-play speed on a
CPU, at a size (about 300 k weights, 1.2 MB) that still plays 6x6 strongly.

The residual stream "after block k" is the `[B, width]` tensor that block k outputs (k = 0 is the
embedding before any block). `residual_stream` returns all of them; `forward_from(x, k)` runs the
rest of the network from a (possibly replaced) stream after block k.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from common.config import at_least, knob
from common.io import CheckpointError, check_finite_weights, load_checkpoint, save_checkpoint
from othello.rules.board import SIZES


@dataclass(frozen=True)
class NetConfig:
    """Shape of the network; saved with every checkpoint so it can be rebuilt without flags.
    (The flags are --net-width and --net-blocks: --blocks elsewhere names activation blocks.)"""

    size: int = knob(6, "board size", choices=SIZES)
    width: int = knob(256, "residual stream width", check=at_least(1), flag="--net-width")
    blocks: int = knob(4, "residual blocks of the network", check=at_least(0),
                       flag="--net-blocks")

    @property
    def moves(self) -> int:
        return self.size * self.size + 1

    @property
    def inputs(self) -> int:
        return 3 * self.size * self.size


class ResidualBlock(nn.Module):
    """`x + Linear(ReLU(LayerNorm(x)))`: a pre-norm residual feed-forward layer."""

    def __init__(self, width: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.linear = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.linear(torch.relu(self.norm(x)))


class PolicyValueNet(nn.Module):
    """Residual MLP with a policy head (logits, pass last) and a tanh value head."""

    def __init__(self, config: NetConfig = NetConfig()):
        super().__init__()
        if config.width < 1 or config.blocks < 0 or config.size < 2:
            raise ValueError(f"bad network config {config}")
        self.config = config
        self.embed = nn.Linear(config.inputs, config.width)
        self.blocks = nn.ModuleList(ResidualBlock(config.width) for _ in range(config.blocks))
        self.final_norm = nn.LayerNorm(config.width)
        self.policy_head = nn.Linear(config.width, config.moves)
        self.value_head = nn.Linear(config.width, 1)

    def _check_input(self, planes: torch.Tensor) -> torch.Tensor:
        n = self.config.size
        if planes.dim() != 4 or tuple(planes.shape[1:]) != (3, n, n):
            raise ValueError(f"expected board planes of shape [B, 3, {n}, {n}], "
                             f"got {list(planes.shape)}")
        return planes.reshape(planes.shape[0], -1).to(self.embed.weight.dtype)

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Policy logits `[B, N*N+1]` and value `[B]` in [-1, 1] for planes `[B, 3, N, N]`."""
        return self.forward_from(self.embed(self._check_input(planes)), 0)

    def residual_stream(self, planes: torch.Tensor) -> torch.Tensor:
        """The stream after every block, `[B, blocks + 1, width]` (index 0: the embedding)."""
        x = self.embed(self._check_input(planes))
        streams = [x]
        for block in self.blocks:
            x = block(x)
            streams.append(x)
        return torch.stack(streams, dim=1)

    def forward_from(self, stream: torch.Tensor, block: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the network from the stream after block `block` (replaced or not) to its outputs."""
        if not 0 <= block <= len(self.blocks):
            raise ValueError(f"block must be in 0..{len(self.blocks)}, got {block}")
        if stream.dim() != 2 or stream.shape[1] != self.config.width:
            raise ValueError(f"expected a stream of shape [B, {self.config.width}], "
                             f"got {list(stream.shape)}")
        x = stream
        for b in self.blocks[block:]:
            x = b(x)
        x = self.final_norm(x)
        return self.policy_head(x), torch.tanh(self.value_head(x)).squeeze(-1)


def save_model(path: str | Path, net: PolicyValueNet, **extra) -> None:
    """Atomically save weights plus config (and any extra JSON-able fields) for `load_model`."""
    save_checkpoint(path, {"kind": "othello-policy-value-net", "config": asdict(net.config),
                           "model": net.state_dict(), **extra})


def load_model(path: str | Path) -> tuple[PolicyValueNet, dict]:
    """Load a network saved by `save_model` or a training checkpoint; one-line errors."""
    ckpt = load_checkpoint(path, required=("config", "model"))
    try:
        net = PolicyValueNet(NetConfig(**ckpt["config"]))
        net.load_state_dict(ckpt["model"])
    except (TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{path}: not a network checkpoint this code can load ({first})") from None
    check_finite_weights(net, path)
    net.eval()
    return net, ckpt
