"""A persistent store of proven value bounds, in sqlite (standard library, no pickles).

One row per symmetry-canonical position (the smallest (me, opp) over the 8 symmetries): its size,
a proven lower and upper bound on the perfect-play margin for the side to move, and a move that
proves the lower bound (in the canonical frame), or -1. The database runs in WAL mode, so readers
never block and never see a half-written batch; every batch of writes is one transaction, so a
killed writer leaves the last committed state. A file that is not a readable database raises
`CacheCorruptError` (the oracle then moves it aside and starts afresh).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import numpy as np

from othello.rules.board import Position
from othello.rules.symmetry import N_SYMMETRIES, inverse, permutations

SCHEMA_VERSION = 1
UNBOUNDED = 100  # |bound| >= this means "no bound"


class CacheCorruptError(RuntimeError):
    """The cache file exists but is not a readable bounds database."""


def _signed(x: int) -> int:
    """uint64 -> the int64 with the same bits (sqlite integers are signed 64-bit)."""
    return x - (1 << 64) if x >= 1 << 63 else x


@cache
def _bit_tables(size: int) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """Per symmetry, per byte position, the image of each 8-bit chunk (fast bit permutation)."""
    perms = permutations(size)
    tables = []
    for k in range(N_SYMMETRIES):
        per_byte = []
        for byte in range((size * size + 7) // 8):
            row = []
            for v in range(256):
                out = 0
                for b in range(8):
                    sq = byte * 8 + b
                    if v >> b & 1 and sq < size * size:
                        out |= 1 << int(perms[k][sq])
                row.append(out)
            per_byte.append(tuple(row))
        tables.append(tuple(per_byte))
    return tuple(tables)


def _transform(bits: int, table: tuple[tuple[int, ...], ...]) -> int:
    out = 0
    for row in table:
        out |= row[bits & 0xFF]
        bits >>= 8
    return out


def canonical(pos: Position) -> tuple[int, int, int]:
    """(me, opp, k): the symmetry image with the smallest (me, opp), and the symmetry k that maps
    `pos` onto it."""
    tables = _bit_tables(pos.size)
    best = None
    for k in range(N_SYMMETRIES):
        t = tables[k]
        cand = (_transform(pos.me, t), _transform(pos.opp, t), k)
        if best is None or cand[:2] < best[:2]:
            best = cand
    return best


def move_to_frame(move: int, size: int, k: int) -> int:
    """Image of a move under symmetry k (pass and -1 stay put)."""
    if move < 0 or move == size * size:
        return move
    return int(permutations(size)[k][move])


def move_from_frame(move: int, size: int, k: int) -> int:
    """Inverse of move_to_frame."""
    return move_to_frame(move, size, inverse(k))


class BoundCache:
    """Proven bounds by canonical position; `read_only` opens without ever writing."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        try:
            if read_only:
                self.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=60)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.path, timeout=60)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                with self.db:
                    self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, "
                                    "value TEXT)")
                    self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)",
                                    (str(SCHEMA_VERSION),))
                    self.db.execute("CREATE TABLE IF NOT EXISTS bounds (size INTEGER, me INTEGER, "
                                    "opp INTEGER, lower INTEGER, upper INTEGER, move INTEGER, "
                                    "PRIMARY KEY (size, me, opp)) WITHOUT ROWID")
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None or row[0] != str(SCHEMA_VERSION):
                raise CacheCorruptError(f"{self.path}: unknown cache format {row}")
            self.db.execute("SELECT count(*) FROM bounds").fetchone()
        except sqlite3.DatabaseError as e:
            raise CacheCorruptError(f"{self.path} is not a readable oracle cache ({e})") from None

    def close(self) -> None:
        self.db.close()

    def get(self, pos: Position) -> tuple[int, int, int]:
        """(lower, upper, move in pos's frame or -1); (-UNBOUNDED, UNBOUNDED, -1) if unknown."""
        me, opp, k = canonical(pos)
        row = self.db.execute("SELECT lower, upper, move FROM bounds WHERE size = ? AND me = ? "
                              "AND opp = ?", (pos.size, _signed(me), _signed(opp))).fetchone()
        if row is None:
            return -UNBOUNDED, UNBOUNDED, -1
        return row[0], row[1], move_from_frame(row[2], pos.size, k)

    def put_many(self, rows: Iterable[tuple[Position, int, int, int]]) -> None:
        """Merge (position, lower, upper, move) into the store in one transaction: bounds only
        ever tighten, and the move goes with the better lower bound."""
        if self.read_only:
            raise PermissionError(f"{self.path} is open read-only")
        data = []
        for pos, lower, upper, move in rows:
            me, opp, k = canonical(pos)
            data.append((pos.size, _signed(me), _signed(opp), lower, upper,
                         move_to_frame(move, pos.size, k)))
        with self.db:
            self.db.executemany(
                "INSERT INTO bounds VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (size, me, opp) DO "
                "UPDATE SET move = CASE WHEN excluded.move >= 0 AND (excluded.lower > lower "
                "OR move < 0) THEN excluded.move ELSE move END, "
                "lower = max(lower, excluded.lower), "
                "upper = min(upper, excluded.upper)", data)

    def __len__(self) -> int:
        return self.db.execute("SELECT count(*) FROM bounds").fetchone()[0]

    def rows(self) -> np.ndarray:
        """Every row as int64 [n, 6] (size, me, opp, lower, upper, move), for inspection."""
        return np.array(self.db.execute("SELECT * FROM bounds").fetchall(), dtype=np.int64)
