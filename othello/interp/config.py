"""What an activation collection collects (`CollectConfig`, its presets, the default dataset
name), apart from `activations.py` so that reading it (--help) does not load torch or numba."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from common.config import at_least, knob, positive
from othello.az.config import PRETRAINED

DEFAULT_CHECKPOINT = PRETRAINED
RANDOM = "random"  # checkpoint name for a seeded random-weights network
QUICK_POSITIONS = 20_000


@dataclass(frozen=True)
class CollectConfig:
    """What `collect_dataset` collects (the CLI of othello/collect_activations.py)."""

    checkpoint: str = knob(str(DEFAULT_CHECKPOINT),
                           "network checkpoint, or 'random' for seeded random weights")
    layers: tuple[int, ...] = knob((2,), "store the residual stream after these blocks "
                                   "(0 = the embedding)", check=at_least(0))
    positions: int = knob(1_000_000, "distinct positions to collect", check=at_least(1))
    temperature: float = knob(1.0, "softmax temperature of the network's moves in its games",
                              check=positive)
    seed: int = knob(0, "seed of the games and searches (and of random weights)",
                     check=at_least(0))


DEFAULT = CollectConfig()
QUICK = replace(DEFAULT, positions=QUICK_POSITIONS)


def dataset_name(checkpoint: str | Path, quick: bool) -> str:
    """Default dataset folder name: the checkpoint's file stem ('random'), '-quick' if quick."""
    stem = RANDOM if str(checkpoint) == RANDOM else Path(checkpoint).stem
    return stem + ("-quick" if quick else "")
