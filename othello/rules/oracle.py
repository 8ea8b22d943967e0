"""The perfect-play oracle: exact values for any position, with proven bounds kept on disk.

Values are the perfect-play final disc margin for the side to move (my discs - their discs,
empty squares counting for nobody, as `Position.margin`). Positions with at most
`split_empties` empties go straight to the compiled search (`Engine`). Bigger ones go through
a Python driver of null-window proofs ("is the value >= cut?") over the top of the tree: it
orders the moves by cached bounds and a short midgame search and hands each sub-position with
`split_empties` empties to the compiled search in one piece (a driver that retried children
under growing node budgets spent 2-5x the nodes of one compiled search here). Every
bound it proves for a position with at least `store_min_empties` empties goes to the sqlite
cache (`othello.rules.cache`), which makes an interrupted proof resume where it stopped and lets
later calls (the `perfect` player, hints, the CLI) answer from the table.

    with Oracle(6) as oracle:
        oracle.value(pos)                 # exact margin
        oracle.move_values(pos)           # {move: margin for the mover after it}
        oracle.at_least(Position.start(6), -4)   # one null-window proof
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from othello.rules import kernels as K
from othello.rules.board import Position
from othello.rules.cache import (
    UNBOUNDED,
    BoundCache,
    CacheCorruptError,
    canonical,
    move_from_frame,
    move_to_frame,
)
from othello.rules.engine import DEFAULT_TABLE_BITS, Engine

ROOT = Path(__file__).resolve().parents[2]
FLUSH_SECONDS = 20.0


def default_cache_path(size: int) -> Path:
    """Local, git-ignored cache that grows with use."""
    return ROOT / "runs" / "oracle" / f"{size}x{size}.sqlite"


def committed_cache_path(size: int) -> Path:
    """Small committed cache of proven positions near the start (read-only)."""
    return ROOT / "results" / "oracle" / f"{size}x{size}.sqlite"


class Oracle:
    """Exact values with a transposition table in memory and proven bounds on disk.

    `cache_path=None` keeps everything in memory; `seed_paths` are read-only caches consulted
    after it (by default the committed one for this size, if present). A corrupt cache file is
    moved aside to `<name>.corrupt` and rebuilt (`rebuild_corrupt=False` raises instead); the
    one-line notes about that are in `self.notes`."""

    def __init__(self, size: int = 6, cache_path: str | Path | None = "default",
                 seed_paths: Sequence[str | Path] | None = None,
                 table_bits: int = DEFAULT_TABLE_BITS, split_empties: int = 24,
                 store_min_empties: int = 18, rebuild_corrupt: bool = True):
        if not K.MIN_SIZE <= size <= K.MAX_SIZE:
            raise ValueError(f"board size must be {K.MIN_SIZE}-{K.MAX_SIZE}, got {size}")
        self.size = size
        self.split_empties = split_empties
        self.store_min_empties = store_min_empties
        self.engine = Engine(table_bits)
        self.notes: list[str] = []
        self._memo: dict[tuple[int, int], list[int]] = {}
        self._pending: dict[tuple[int, int], Position] = {}
        self._last_flush = time.monotonic()
        if cache_path == "default":
            cache_path = default_cache_path(size)
        self.cache = None if cache_path is None else self._open(Path(cache_path),
                                                                 rebuild_corrupt)
        if seed_paths is None:
            seed_paths = [p for p in [committed_cache_path(size)]
                          if p.exists() and (cache_path is None or p != Path(cache_path))]
        self.seeds = [BoundCache(p, read_only=True) for p in seed_paths]

    def _open(self, path: Path, rebuild: bool) -> BoundCache:
        try:
            return BoundCache(path)
        except CacheCorruptError as e:
            if not rebuild:
                raise
            aside = path.with_name(path.name + ".corrupt")
            path.replace(aside)
            for suffix in ("-wal", "-shm"):
                extra = path.with_name(path.name + suffix)
                if extra.exists():
                    extra.replace(aside.with_name(aside.name + suffix))
            self.notes.append(f"{e}; moved it to {aside} and started an empty cache")
            return BoundCache(path)

    # -- bounds in memory and on disk -------------------------------------------------------

    def bounds(self, pos: Position) -> tuple[int, int, int]:
        """(lower, upper, move proving the lower bound or -1) known for `pos` without search."""
        self._check(pos)
        me, opp, k = canonical(pos)
        entry = self._memo.get((me, opp))
        if entry is None:
            entry = [-UNBOUNDED, UNBOUNDED, -1]
            for store in ([self.cache] if self.cache is not None else []) + self.seeds:
                lo, hi, mv = store.get(pos)
                if lo > entry[0]:
                    entry[0], entry[2] = lo, move_to_frame(mv, pos.size, k)
                entry[1] = min(entry[1], hi)
            self._memo[(me, opp)] = entry
        return entry[0], entry[1], move_from_frame(entry[2], pos.size, k)

    def _record(self, pos: Position, lower: int, upper: int, move: int = -1) -> None:
        self.bounds(pos)
        me, opp, k = canonical(pos)
        entry = self._memo[(me, opp)]
        changed = False
        if lower > entry[0]:
            entry[0], changed = lower, True
            if move >= 0:
                entry[2] = move_to_frame(move, pos.size, k)
        if upper < entry[1]:
            entry[1], changed = upper, True
        if changed and self.cache is not None and pos.empties() >= self.store_min_empties:
            self._pending[(me, opp)] = pos
            if time.monotonic() - self._last_flush > FLUSH_SECONDS:
                self.flush()

    def flush(self) -> None:
        """Write the bounds proven since the last flush (one transaction)."""
        if self.cache is not None and self._pending:
            rows = []
            for key, pos in self._pending.items():
                lo, hi, mv = self._memo[key]
                _, _, k = canonical(pos)
                rows.append((pos, lo, hi, move_from_frame(mv, pos.size, k)))
            self.cache.put_many(rows)
        self._pending.clear()
        self._last_flush = time.monotonic()

    def close(self) -> None:
        self.flush()
        for store in ([self.cache] if self.cache is not None else []) + self.seeds:
            store.close()

    def __enter__(self) -> Oracle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check(self, pos: Position) -> None:
        if pos.size != self.size:
            raise ValueError(f"the oracle is for {self.size}x{self.size}, the position is "
                             f"{pos.size}x{pos.size}")

    # -- null-window proofs -------------------------------------------------------------------

    def at_least(self, pos: Position, cut: int) -> bool:
        """Is the perfect-play margin of `pos` >= cut? (One null-window proof.)"""
        self._check(pos)
        result = self._at_least(pos, cut)
        self.flush()
        return result

    def _at_least(self, pos: Position, cut: int) -> bool:
        lo, hi, _ = self.bounds(pos)
        if lo >= cut:
            return True
        if hi < cut:
            return False
        if pos.empties() <= self.split_empties:
            v = self.engine.search(pos, cut - 1, cut)
            if v >= cut:
                _, _, move = K.tt_probe(self.engine.table, np.uint64(pos.me), np.uint64(pos.opp))
                self._record(pos, v, UNBOUNDED, int(move) if move != K.NO_MOVE else -1)
            else:
                self._record(pos, -UNBOUNDED, v)
            return v >= cut
        moves = pos.legal_moves()
        if not moves:
            v = pos.margin()
            self._record(pos, v, v)
            return v >= cut
        for move, child in self._ordered_children(pos):
            if not self._at_least(child, 1 - cut):  # the child is below 1 - cut
                self._record(pos, cut, UNBOUNDED, move)
                return True
        self._record(pos, -UNBOUNDED, cut - 1)
        return False

    def _ordered_children(self, pos: Position) -> list[tuple[int, Position]]:
        """Legal moves, likeliest refutation first: cached low bounds of the child, then a short
        midgame search (low = good for us)."""
        keyed = []
        for m in pos.legal_moves():
            child = pos.play(m)
            lo, hi, _ = self.bounds(child)
            guess = K.shallow(np.uint64(child.me), np.uint64(child.opp), 3, pos.size)
            keyed.append(((min(hi, UNBOUNDED), guess), m, child))
        keyed.sort(key=lambda t: t[0])
        return [(m, c) for _, m, c in keyed]

    # -- exact values -------------------------------------------------------------------------

    def value(self, pos: Position, guess: int = 0) -> int:
        """Exact perfect-play margin for the side to move; a `guess` near it (say the value of
        the previous position of a game) saves null-window proofs above `split_empties`."""
        self._check(pos)
        lo, hi, _ = self.bounds(pos)
        if lo == hi:
            return lo
        if pos.empties() <= self.split_empties:
            v = self.engine.value(pos)
        else:
            v = self._mtd(pos, guess)
        self._record(pos, v, v)
        self.flush()
        return v

    def _mtd(self, pos: Position, guess: int) -> int:
        """Exact value by a sequence of null-window proofs from `guess`, stepping by 2 (margins
        on a full board are even) and closing the gap at the end."""
        full = pos.size * pos.size
        while True:
            lo, hi, _ = self.bounds(pos)
            lo, hi = max(lo, -full), min(hi, full)
            if lo >= hi:
                return lo
            cut = min(max(guess, lo + 1), hi)
            if self._at_least(pos, cut):
                guess = cut + 2
            else:
                guess = cut - 2

    def move_values(self, pos: Position) -> dict[int, int]:
        """Exact margin for the side to move after each legal move ({} if the game is over)."""
        self._check(pos)
        return {m: -self.value(pos.play(m)) for m in pos.legal_moves()}

    def best_move(self, pos: Position) -> tuple[int, int]:
        """(exact value, a move that reaches it; -1 when the game is over)."""
        value = self.value(pos)
        moves = pos.legal_moves()
        if not moves:
            return value, -1
        _, _, mv = self.bounds(pos)
        order = ([mv] if mv in moves else []) + [m for m in moves if m != mv]
        for m in order:
            child = pos.play(m)
            _, hi, _ = self.bounds(child)
            if hi <= -value or not self._at_least(child, 1 - value):
                # the child is <= -value, and >= -value since value is the best: exact
                self._record(child, -value, -value)
                self.flush()
                return value, m
        raise AssertionError("no move reaches the solved value")

    def principal_variation(self, pos: Position) -> list[int]:
        """A perfect-play line from `pos` to the end of the game (passes included)."""
        line = []
        while not pos.is_over():
            _, move = self.best_move(pos)
            line.append(move)
            pos = pos.play(move)
        return line

    def values(self, positions: Sequence[Position]) -> np.ndarray:
        """int64 [n]: the exact value of each position."""
        return np.array([self.value(p) for p in positions], dtype=np.int64)

    def batch_move_values(self, positions: Sequence[Position]) -> np.ndarray:
        """float [n, N*N + 1]: exact margin for the mover after each legal move (pass entry
        when it must pass), NaN where the move is illegal."""
        out = np.full((len(positions), self.size * self.size + 1), np.nan)
        for i, pos in enumerate(positions):
            for m, v in self.move_values(pos).items():
                out[i, m] = v
        return out
