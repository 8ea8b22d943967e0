"""Splicing into the policy-value network: run it from a replacement residual stream at one
layer and compare its outputs with the clean run (the `sae.metrics.Splice` callback for Othello).

policy_kl is KL(clean || spliced) between the policies softmaxed over the legal moves; value_mse
is the squared change of the value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from othello.az.model import PolicyValueNet
from sae.data import gather


def legal_log_policy(logits: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    """Log-probabilities over the legal moves (illegal entries -inf)."""
    return logits.masked_fill(~legal, float("-inf")).log_softmax(dim=-1)


def legal_probs(logits: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    """The policy as probabilities over the legal moves (0 elsewhere)."""
    return legal_log_policy(logits, legal).exp() * legal


def policy_kl(logits_p: torch.Tensor, logits_q: torch.Tensor, legal: torch.Tensor) -> torch.Tensor:
    """KL(p || q) per row between the legal-move policies of two logit tensors."""
    logp, logq = legal_log_policy(logits_p, legal), legal_log_policy(logits_q, legal)
    return torch.where(legal, logp.exp() * (logp - logq), 0.0).sum(dim=-1)


class NetworkSplice:
    """`splice(stream, rows)` -> per-row policy KL and value squared error of the network run
    from `stream` at `layer`, against its run from the clean stream `acts[rows]` (legal moves
    `legal(rows)`, bool [B, moves]). The clean outputs of the last rows asked for are kept, so
    the four variants of one batch (clean, SAE, zero, mean) run the clean stream once."""

    def __init__(self, net: PolicyValueNet, layer: int, acts: np.ndarray,
                 legal: Callable[[np.ndarray], np.ndarray]):
        self.net, self.layer, self.acts, self.legal = net, layer, acts, legal
        self._rows: np.ndarray | None = None
        self._clean: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    @torch.no_grad()
    def clean(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(logits, value, legal) of the clean rows."""
        if self._rows is None or not np.array_equal(self._rows, rows):
            logits, value = self.net.forward_from(gather(self.acts, rows), self.layer)
            legal = torch.from_numpy(np.asarray(self.legal(np.asarray(rows)), dtype=bool))
            self._rows, self._clean = np.array(rows), (logits, value, legal)
        return self._clean

    @torch.no_grad()
    def __call__(self, stream: torch.Tensor, rows: np.ndarray) -> dict[str, torch.Tensor]:
        logits, value, legal = self.clean(rows)
        lg, v = self.net.forward_from(stream, self.layer)
        return {"policy_kl": policy_kl(logits, lg, legal), "value_mse": (v - value).pow(2)}
