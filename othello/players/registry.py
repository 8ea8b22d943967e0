"""The registry of player specs: `name` or `name:arg` (e.g. `random`, `alphabeta:3`, `solver:14`).

An entry names its factory as a `"module:attr"` string, imported only when a spec asks for it, so
the registry depends on no player module and a later stage adds a player without editing this
file: one `register(name, "package.module:factory", help)` call (or one more line below).
A factory is `factory(arg, size) -> Player`, where `arg` is the text after the first colon or None.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

import numpy as np

from othello.rules.board import Position


class Player(Protocol):
    """Anything that picks a legal move; `rng` is the only source of randomness it may use."""

    name: str

    def choose(self, pos: Position, rng: np.random.Generator) -> int: ...


class PlayerSpecError(ValueError):
    """A player spec that names no known player or carries a bad argument."""


Factory = Callable[[str | None, int], Player]

# name -> ("module:attr" of the factory, or the factory itself; one-line help)
_SPECS: dict[str, tuple[str | Factory, str]] = {
    "random": ("othello.players.classic:random_player", "uniformly random legal moves"),
    "greedy": ("othello.players.classic:greedy_player", "the move that flips the most discs"),
    "alphabeta": ("othello.players.classic:alphabeta_player",
                  "alphabeta:D, alpha-beta to depth D (default 3) on position + mobility"),
    "solver": ("othello.players.classic:solver_player",
               "solver:E, exact play with at most E empties (default 14), alphabeta:4 before"),
    "alphazero": ("othello.az.agent:alphazero_player",
                  "alphazero[:PATH][:SIMS], MCTS with a trained network (default: the pretrained "
                  "results/alphazero/agent.pt and the default search simulations)"),
    "perfect": ("othello.players.perfect:perfect_player",
                "perfect[:E], perfect play from the oracle: exact move values with at most E "
                "empties (default 22), cached proofs or a full search before that"),
}


def register(name: str, factory: str | Factory, help_text: str) -> None:
    """Add (or replace) the player `name`; `factory` is a callable or its "module:attr"."""
    if not name or ":" in name:
        raise ValueError(f"player names must be non-empty and colon-free, got {name!r}")
    _SPECS[name] = (factory, help_text)


def available() -> dict[str, str]:
    """Known player names and what each does (for --help texts)."""
    return {name: text for name, (_, text) in sorted(_SPECS.items())}


def resolve(name: str) -> Factory:
    """The factory registered under `name` (importing its module on first use)."""
    if name not in _SPECS:
        raise PlayerSpecError(f"unknown player {name!r} (known: {', '.join(available())})")
    target, help_text = _SPECS[name]
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
        _SPECS[name] = (target, help_text)
    return target


def make_player(spec: str, size: int) -> Player:
    """Build a player from its spec; raises PlayerSpecError with a one-line reason."""
    name, _, arg = spec.partition(":")
    return resolve(name)(arg or None, size)


def int_arg(arg: str | None, default: int, what: str, low: int, high: int) -> int:
    """A spec's whole-number argument, checked; `default` when the spec has none."""
    if arg is None:
        return default
    try:
        value = int(arg)
    except ValueError:
        raise PlayerSpecError(f"{what} must be a whole number, got {arg!r}") from None
    if not low <= value <= high:
        raise PlayerSpecError(f"{what} must be between {low} and {high}, got {value}")
    return value
