"""Probe positions: fixed inputs whose network outputs are followed across training checkpoints.

The default set is drawn from a seed, so it is the same for every checkpoint and every run of the
tool: the opening, a random midgame and a random endgame position, the position (of a batch of
random candidates) where the final network is most confident, and an endgame position where the
exact solver says exactly one move wins. Users add positions as move sequences from the start or
as plies of game records. Positions close enough to the end (`solver_empties`) carry the exact
final margin after every legal move, from which "the solver's best move" is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from alphazero.evaluators import network_evaluator
from othello.az.evaluation import move_margins
from othello.az.game import OthelloGame
from othello.players.match import RecordError, random_position, read_records, replay
from othello.rules.batch import states_from_positions
from othello.rules.board import Position, move_name, parse_move, render, replay_moves
from othello.rules.solver import Solver

SOLVER_EMPTIES = 14  # the exact solver takes about a second per probe at this depth
CONFIDENT_CANDIDATES = 64
UNIQUE_WIN_TRIES = 60


@dataclass
class Probe:
    """A named position; `margins` maps each legal move to the exact final disc margin (for the
    side to move) after it, or is None when the position is too far from the end to solve."""

    name: str
    kind: str
    position: Position
    margins: dict[int, int] | None = field(default=None)

    @property
    def best_moves(self) -> list[int]:
        """Moves that keep the best reachable margin (empty when unsolved)."""
        if not self.margins:
            return []
        top = max(self.margins.values())
        return sorted(m for m, v in self.margins.items() if v == top)

    def to_json(self) -> dict:
        size = self.position.size
        pos = self.position
        return {"name": self.name, "kind": self.kind, "size": size, "me": pos.me, "opp": pos.opp,
                "black_to_move": pos.black_to_move, "board": render(pos, mark_legal=True),
                "margins": None if self.margins is None else
                {move_name(m, size): v for m, v in self.margins.items()},
                "best_moves": [move_name(m, size) for m in self.best_moves]}


def _playable(pos: Position, name: str) -> Position:
    if pos.is_over():
        raise ValueError(f"probe {name}: the game is over in this position (no move to study)")
    return pos


def position_from_moves(text: str, size: int) -> Position:
    """The position after a move sequence from the start ('d3 c5 f6', commas allowed)."""
    try:
        return replay_moves(text, size)
    except ValueError as e:
        raise ValueError(f"probe moves {text!r}: {e}") from None


def probes_from_records(path: str | Path, plies: list[int],
                        size: int) -> list[tuple[str, Position]]:
    """(name, position) after each of `plies` plies of every game in a JSON-lines record file
    (`othello.players.match` format); plies past a game's end are skipped."""
    out, g = [], -1
    for g, record in enumerate(read_records(path)):
        replay(record)  # validates every move and the stated result first
        if int(record["size"]) != size:
            raise RecordError(f"{path}: game {g} is {record['size']}x{record['size']}, "
                              f"the network plays {size}x{size}")
        pos, moves = Position.start(size), record["moves"]
        for ply in range(1, max(plies, default=0) + 1):
            if ply > len(moves):
                break
            pos = pos.play(parse_move(moves[ply - 1], size))
            if ply in plies and not pos.is_over():
                out.append((f"game{g}-ply{ply}", pos))
    if g < 0:
        raise RecordError(f"{path}: no game records in it (an empty file?)")
    return out


def _solve(solver: Solver, pos: Position, solver_empties: int) -> dict[int, int] | None:
    return move_margins(solver, pos) if pos.empties() <= solver_empties else None


def _random_choice_position(size: int, empties: int, rng: np.random.Generator) -> Position:
    """A random position with `empties` empty squares and at least two legal moves."""
    while True:
        pos = random_position(size, empties, rng)
        if len(pos.legal_moves()) >= 2:
            return pos


def default_probes(final_net: torch.nn.Module, size: int, seed: int = 0,
                   solver_empties: int = SOLVER_EMPTIES,
                   candidates: int = CONFIDENT_CANDIDATES,
                   unique_tries: int = UNIQUE_WIN_TRIES) -> list[Probe]:
    """The seeded default set (see the module docstring); the same seed gives the same set."""
    rng = np.random.default_rng(seed)
    solver = Solver(size)
    squares = size * size
    mid_empties = round(0.6 * (squares - 4))
    end_empties = min(solver_empties - 2, squares // 3)
    positions = [("opening", "opening", Position.start(size)),
                 ("midgame", "midgame", _random_choice_position(size, mid_empties, rng)),
                 ("endgame", "endgame", _random_choice_position(size, end_empties, rng))]
    # Confident: the candidate whose final-network policy has the largest top probability.
    pool = [_random_choice_position(size, int(e), rng)
            for e in rng.integers(end_empties, squares - 4, size=candidates)]
    game = OthelloGame(size)
    priors, _ = network_evaluator(game, final_net)(states_from_positions(pool))
    positions.append(("confident", "confident", pool[int(priors.max(axis=1).argmax())]))
    probes = [Probe(name, kind, pos, _solve(solver, pos, solver_empties))
              for name, kind, pos in positions]
    for _ in range(unique_tries):  # an endgame where exactly one move wins
        pos = _random_choice_position(size, end_empties, rng)
        margins = move_margins(solver, pos)
        if sum(v > 0 for v in margins.values()) == 1:
            probes.append(Probe("unique-win", "unique-win", pos, margins))
            break
    return probes


def user_probes(moves: list[str], records: Path | None, plies: list[int], size: int,
                solver_empties: int = SOLVER_EMPTIES) -> list[Probe]:
    """Probes from move sequences and game records (solver margins where close to the end)."""
    solver = Solver(size)
    named = [(f"moves{i}", position_from_moves(text, size)) for i, text in enumerate(moves)]
    if records is not None:
        named += probes_from_records(records, plies, size)
    return [Probe(name, "user", _playable(pos, name), _solve(solver, pos, solver_empties))
            for name, pos in named]
