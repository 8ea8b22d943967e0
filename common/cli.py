"""Argument-parsing helpers so every entry point rejects bad values with one clear line."""

from __future__ import annotations

import argparse


def _int(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected a number >= {minimum}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _int(text, 1)


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _int(text, 0)


def _float(text: str, minimum: float, inclusive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or not (value >= minimum if inclusive else value > minimum):
        sign = ">=" if inclusive else ">"
        raise argparse.ArgumentTypeError(f"expected a number {sign} {minimum}, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a float > 0."""
    return _float(text, 0.0, inclusive=False)


def nonnegative_float(text: str) -> float:
    """argparse type: a float >= 0."""
    return _float(text, 0.0, inclusive=True)


def probability(text: str) -> float:
    """argparse type: a float in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a value in [0, 1], got {value}")
    return value


def maybe_wandb(enabled: bool, project: str, config: dict):
    """Start an offline wandb run when asked (never needs the network); None when off."""
    if not enabled:
        return None
    try:
        import wandb
    except ImportError:
        raise SystemExit("--wandb needs the optional package: pip install -e '.[wandb]'") from None
    return wandb.init(project=project, config=config, mode="offline")
