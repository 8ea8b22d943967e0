"""The policy-value network: a residual MLP whose residual stream is open to inspection.

Board planes (mine / theirs / empty, flattened) -> Linear to `width` -> `blocks` residual blocks
`x + Linear(ReLU(LayerNorm(x)))` -> final LayerNorm -> policy logits over N*N + 1 moves (the last
is the pass) and a tanh value for the side to move; optionally (`NetConfig.margin_head`) a
third head predicts the final disc margin for the side to move over the number of squares.

The margin head is a scalar (one linear unit, trained by MSE against margin / N*N) rather than
KataGo's distribution over scores: margins here may be odd (empty squares count for nobody when
neither side can move), the value head already carries the win/loss uncertainty, and one unit
costs nothing at inference. It is an auxiliary target that shapes the shared stream; the search
does not read it. Networks saved before the head existed have no `margin_head` in their config
and load as they were (no head).

Why this block: LayerNorm (not BatchNorm) makes the output of a position independent of what else
is in the batch and of train/eval mode, so batch-1 play, batched search, activation collection and
SAE splicing all see the same function. Pre-normalisation keeps the stream itself un-normalised,
so what each block writes adds up linearly, which is what SAEs and probes read. One linear layer
per block (instead of a two-layer MLP) halves inference cost, which bounds self-play speed on a
CPU, at a size (about 300 k weights, 1.2 MB) that still plays 6x6 strongly.

The residual stream "after block k" is the `[B, width]` tensor that block k outputs (k = 0 is the
embedding before any block). `residual_stream` returns all of them; `forward_from(x, k)` runs the
rest of the network from a (possibly replaced) stream after block k.

Named hook points, keyed like TransformerLens (blocks counted from 0 there): `hook_embed`,
`blocks.{i}.hook_resid_pre`, `blocks.{i}.hook_mlp_out`, `blocks.{i}.hook_resid_post`,
`ln_final.hook_normalized`, `hook_policy` (logits), `hook_value` (and `hook_margin` with the
margin head). The stream "after block k" is
`blocks.{k-1}.hook_resid_post` (`hook_name(k)`). `run_with_cache` records them, `run_with_hooks`
lets functions read or replace them; plain `forward` runs through the same points.

Networks are saved as safetensors (weights; the config and any extra fields as JSON in the file's
header) or, as before, as torch checkpoints (`.pt`); `load_model` reads both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from common.io import (
    CheckpointError,
    check_finite_weights,
    load_checkpoint,
    load_safetensors,
    save_checkpoint,
    save_safetensors,
)
from othello.az.config import NetConfig


class ResidualBlock(nn.Module):
    """`x + Linear(ReLU(LayerNorm(x)))`: a pre-norm residual feed-forward layer."""

    def __init__(self, width: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.linear = nn.Linear(width, width)

    def update(self, x: torch.Tensor) -> torch.Tensor:
        """What the block adds to the stream."""
        return self.linear(torch.relu(self.norm(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.update(x)


class HookPoint(NamedTuple):
    """What a hook function receives as `hook` (TransformerLens passes its HookPoint): the name."""

    name: str


HookFn = Callable[[torch.Tensor, HookPoint], torch.Tensor | None]
Hook = Callable[[str, torch.Tensor], torch.Tensor]


def _no_hook(name: str, x: torch.Tensor) -> torch.Tensor:
    return x


def hook_name(block: int) -> str:
    """The hook point of the stream after block `block` (0: the embedding)."""
    return "hook_embed" if block == 0 else f"blocks.{block - 1}.hook_resid_post"


class PolicyValueNet(nn.Module):
    """Residual MLP with a policy head (logits, pass last) and a tanh value head."""

    def __init__(self, config: NetConfig | None = None):
        super().__init__()
        config = config or NetConfig()
        if config.width < 1 or config.blocks < 0 or config.size < 2:
            raise ValueError(f"bad network config {config}")
        self.config = config
        self.embed = nn.Linear(config.inputs, config.width)
        self.blocks = nn.ModuleList(ResidualBlock(config.width) for _ in range(config.blocks))
        self.final_norm = nn.LayerNorm(config.width)
        self.policy_head = nn.Linear(config.width, config.moves)
        self.value_head = nn.Linear(config.width, 1)
        self.margin_head = nn.Linear(config.width, 1) if config.margin_head else None

    @property
    def has_margin_head(self) -> bool:
        return self.margin_head is not None

    def _check_input(self, planes: torch.Tensor) -> torch.Tensor:
        n = self.config.size
        if planes.dim() != 4 or tuple(planes.shape[1:]) != (3, n, n):
            raise ValueError(f"expected board planes of shape [B, 3, {n}, {n}], "
                             f"got {list(planes.shape)}")
        return planes.reshape(planes.shape[0], -1).to(self.embed.weight.dtype)

    @property
    def hook_names(self) -> list[str]:
        """Every hook point, in the order the forward pass reaches them."""
        per_block = ("hook_resid_pre", "hook_mlp_out", "hook_resid_post")
        return (["hook_embed"] + [f"blocks.{i}.{h}" for i in range(len(self.blocks))
                                  for h in per_block]
                + ["ln_final.hook_normalized", "hook_policy", "hook_value"]
                + (["hook_margin"] if self.has_margin_head else []))

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Policy logits `[B, N*N+1]` and value `[B]` in [-1, 1] for planes `[B, 3, N, N]`."""
        return self._run(planes, _no_hook)

    def forward_with_margin(self, planes: torch.Tensor
                            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(policy logits, value, predicted margin `[B]`): what training with a margin target
        asks for (`alphazero.trainer.train_step`)."""
        if not self.has_margin_head:
            raise ValueError("this network has no margin head (NetConfig.margin_head)")
        margins: list[torch.Tensor] = []

        def keep(name: str, x: torch.Tensor) -> torch.Tensor:
            if name == "hook_margin":
                margins.append(x)
            return x

        policy, value = self._run(planes, keep)
        return policy, value, margins[0]

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
        return self._from(stream, block, _no_hook)

    def run_with_cache(self, planes: torch.Tensor, names: Iterable[str] | None = None
                       ) -> tuple[tuple[torch.Tensor, torch.Tensor], dict[str, torch.Tensor]]:
        """((policy logits, value), {hook name: activation}) for every hook point, or those in
        `names`; as TransformerLens's `run_with_cache` returns (output, cache)."""
        wanted = set(self.hook_names if names is None else self._checked(names))
        cache: dict[str, torch.Tensor] = {}

        def record(name: str, x: torch.Tensor) -> torch.Tensor:
            if name in wanted:
                cache[name] = x.detach()
            return x

        return self._run(planes, record), cache

    def run_with_hooks(self, planes: torch.Tensor,
                       fwd_hooks: Iterable[tuple[str, HookFn]] = ()
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """(policy logits, value) with `fn(activation, hook)` called at each named point; a
        function that returns a tensor replaces the activation (patching), None keeps it."""
        hooks: dict[str, list[HookFn]] = {}
        for name, fn in fwd_hooks:
            hooks.setdefault(self._checked([name])[0], []).append(fn)

        def apply(name: str, x: torch.Tensor) -> torch.Tensor:
            for fn in hooks.get(name, ()):
                out = fn(x, HookPoint(name))
                x = x if out is None else out
            return x

        return self._run(planes, apply)

    def _checked(self, names: Iterable[str]) -> list[str]:
        names, known = list(names), set(self.hook_names)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown hook point(s) {', '.join(unknown)} (known: "
                             f"{', '.join(self.hook_names)})")
        return names

    def _run(self, planes: torch.Tensor, hook: Hook) -> tuple[torch.Tensor, torch.Tensor]:
        return self._from(hook("hook_embed", self.embed(self._check_input(planes))), 0, hook)

    def _from(self, x: torch.Tensor, start: int, hook: Hook) -> tuple[torch.Tensor, torch.Tensor]:
        for i in range(start, len(self.blocks)):
            x = hook(f"blocks.{i}.hook_resid_pre", x)
            update = hook(f"blocks.{i}.hook_mlp_out", self.blocks[i].update(x))
            x = hook(f"blocks.{i}.hook_resid_post", x + update)
        x = hook("ln_final.hook_normalized", self.final_norm(x))
        policy = hook("hook_policy", self.policy_head(x))
        value = hook("hook_value", torch.tanh(self.value_head(x)).squeeze(-1))
        if self.margin_head is not None:
            hook("hook_margin", self.margin_head(x).squeeze(-1))
        return policy, value


KIND = "othello-policy-value-net"


def save_model(path: str | Path, net: PolicyValueNet, **extra) -> None:
    """Atomically save weights plus config (and any extra JSON-able fields) for `load_model`:
    safetensors when `path` ends in .safetensors (config and extras as JSON in its header),
    a torch checkpoint otherwise."""
    if Path(path).suffix == ".safetensors":
        header = {"kind": KIND, "config": json.dumps(asdict(net.config)),
                  "extra": json.dumps(extra, sort_keys=True)}
        save_safetensors(path, net.state_dict(), metadata=header)
    else:
        save_checkpoint(path, {"kind": KIND, "config": asdict(net.config),
                               "model": net.state_dict(), **extra})


def load_model(path: str | Path) -> tuple[PolicyValueNet, dict]:
    """Load a network saved by `save_model` (safetensors or torch) or a training checkpoint:
    (network in eval mode, the checkpoint's fields); one-line errors."""
    try:
        if Path(path).suffix == ".safetensors":
            weights, header = load_safetensors(path)
            ckpt = {"kind": header.get("kind"), "config": json.loads(header["config"]),
                    "model": weights, **json.loads(header.get("extra", "{}"))}
        else:
            ckpt = load_checkpoint(path, required=("config", "model"))
        net = PolicyValueNet(NetConfig(**ckpt["config"]))
        net.load_state_dict(ckpt["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{path}: not a network checkpoint this code can load ({first})") from None
    check_finite_weights(net, path)
    net.eval()
    return net, ckpt
