"""Gridworld mazes, vectorised over many mazes at once in numpy.

A maze is a square grid of `size` x `size` squares (odd size), each a wall or open, as in procgen's
maze: the "cells" of a perfect maze sit at even (row, col), the squares between two cells are
passages, and randomised depth-first search carves a spanning tree of the cells, so every open
square is reachable and there is exactly one path between two of them. A maze of `size` squares
a side has ((size + 1) / 2)^2 cells and always 2 * cells - 1 open squares.

A mouse moves up, right, down or left; a move into a wall or off the grid leaves it where it is.
Reaching the cheese gives reward 1 and ends the episode; so does the step cap, with reward 0.
Row 0 is the top of the drawn maze, so "up" decreases the row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.config import at_least, knob

ACTIONS = ("up", "right", "down", "left")
DELTAS = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])  # (d row, d col) of each action
PLANES = ("wall", "mouse", "cheese")
CHEESE_REGIONS = ("anywhere", "corner", "not-corner")


def _odd_size(v: int) -> str | None:
    return None if isinstance(v, int) and v >= 3 and v % 2 == 1 else "expected an odd number >= 3"


@dataclass(frozen=True)
class MazeConfig:
    """Which mazes an agent meets: their size, where the cheese goes, and the step cap."""

    size: int = knob(9, "squares per side of the grid (odd; cells at even rows and columns)",
                     check=_odd_size)
    cheese: str = knob("anywhere", "where the cheese is placed (corner: the top-right region)",
                       choices=CHEESE_REGIONS)
    corner: int = knob(3, "side of the top-right corner region, in squares", check=at_least(1))
    max_steps: int = knob(100, "step cap of an episode", check=at_least(1))


def corner_mask(size: int, corner: int) -> np.ndarray:
    """(size, size) bool: the top-right `corner` x `corner` squares."""
    mask = np.zeros((size, size), dtype=bool)
    mask[:corner, size - corner:] = True
    return mask


def generate_walls(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """(n, size, size) bool walls of n perfect mazes, by randomised depth-first search.

    All n searches advance in lockstep, one push or pop per iteration; a search that has visited
    every cell stops, and 2 * cells iterations are always enough."""
    k = (size + 1) // 2
    cells = k * k
    walls = np.ones((n, size, size), dtype=bool)
    rows = np.arange(n)
    visited = np.zeros((n, cells), dtype=bool)
    stack = np.zeros((n, cells), dtype=np.int64)
    depth = np.ones(n, dtype=np.int64)
    start = rng.integers(cells, size=n)
    stack[:, 0] = start
    visited[rows, start] = True
    walls[rows, 2 * (start // k), 2 * (start % k)] = False
    count = np.ones(n, dtype=np.int64)
    for _ in range(2 * cells):
        active = count < cells
        if not active.any():
            break
        top = stack[rows, depth - 1]
        r, c = top // k, top % k
        nr, nc = r[:, None] + DELTAS[:, 0], c[:, None] + DELTAS[:, 1]
        inside = (nr >= 0) & (nr < k) & (nc >= 0) & (nc < k)
        neighbour = np.clip(nr, 0, k - 1) * k + np.clip(nc, 0, k - 1)
        free = inside & ~visited[rows[:, None], neighbour]
        score = np.where(free, rng.random((n, 4)), -1.0)
        pick = score.argmax(1)
        push = active & free.any(1)
        pop = active & ~push
        nxt = neighbour[rows, pick]
        i = rows[push]
        visited[i, nxt[push]] = True
        stack[i, depth[push]] = nxt[push]
        depth[push] += 1
        count[push] += 1
        walls[i, 2 * nr[push, pick[push]], 2 * nc[push, pick[push]]] = False  # the new cell
        walls[i, r[push] + nr[push, pick[push]], c[push] + nc[push, pick[push]]] = False  # passage
        depth[pop] -= 1
    return walls


def random_open(walls: np.ndarray, rng: np.random.Generator,
                allowed: np.ndarray | None = None) -> np.ndarray:
    """(n, 2) one uniformly random open square per maze, among `allowed` ((n, S, S)) if given."""
    n, size, _ = walls.shape
    ok = ~walls if allowed is None else ~walls & allowed
    if not ok.reshape(n, -1).any(1).all():
        raise ValueError("a maze has no open square where one was asked for")
    score = np.where(ok, rng.random(walls.shape), -1.0).reshape(n, -1)
    flat = score.argmax(1)
    return np.stack([flat // size, flat % size], axis=1)


@dataclass
class Mazes:
    """A batch of episodes in progress: walls (n, S, S), mouse and cheese (n, 2), steps t (n,)."""

    walls: np.ndarray
    mouse: np.ndarray
    cheese: np.ndarray
    t: np.ndarray

    def __len__(self) -> int:
        return len(self.walls)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"walls": self.walls, "mouse": self.mouse, "cheese": self.cheese, "t": self.t}


def new_mazes(n: int, cfg: MazeConfig, rng: np.random.Generator,
              reach: int | None = None) -> Mazes:
    """n fresh mazes with the cheese placed as `cfg.cheese` says and the mouse on another open
    square, at most `reach` moves from the cheese if given (a training curriculum); with the
    cheese kept out of the corner (misgeneralisation tests) the mouse starts out of it too, so
    that entering the corner is the agent's choice."""
    walls = generate_walls(n, cfg.size, rng)
    corner = np.broadcast_to(corner_mask(cfg.size, cfg.corner), walls.shape)
    region = {"anywhere": None, "corner": corner, "not-corner": ~corner}[cfg.cheese]
    cheese = random_open(walls, rng, region)
    elsewhere = ~corner if cfg.cheese == "not-corner" else np.ones_like(walls)
    if reach is not None:
        elsewhere = elsewhere & within(walls, cheese, reach)
    elsewhere[np.arange(n), cheese[:, 0], cheese[:, 1]] = False
    mouse = random_open(walls, rng, elsewhere)
    return Mazes(walls, mouse, cheese, np.zeros(n, dtype=np.int64))


def within(walls: np.ndarray, target: np.ndarray, moves: int) -> np.ndarray:
    """(n, S, S) bool: the squares of each maze at most `moves` moves from its target (n, 2),
    grown a ring of open neighbours at a time for all mazes at once."""
    n = len(walls)
    near = np.zeros(walls.shape, dtype=bool)
    near[np.arange(n), target[:, 0], target[:, 1]] = True
    for _ in range(moves):
        grown = near.copy()
        grown[:, 1:] |= near[:, :-1]
        grown[:, :-1] |= near[:, 1:]
        grown[:, :, 1:] |= near[:, :, :-1]
        grown[:, :, :-1] |= near[:, :, 1:]
        near = grown & ~walls
    return near


def move(walls: np.ndarray, pos: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """(n, 2) positions after one move each; walls and the grid's edge block."""
    size = walls.shape[-1]
    target = pos + DELTAS[actions]
    inside = ((target >= 0) & (target < size)).all(1)
    clipped = np.clip(target, 0, size - 1)
    blocked = ~inside | walls[np.arange(len(pos)), clipped[:, 0], clipped[:, 1]]
    return np.where(blocked[:, None], pos, target)


def step(mazes: Mazes, actions: np.ndarray, max_steps: int
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move every mouse in place; returns (reward, done, reached cheese), each (n,).

    Finished episodes are left as they ended: the caller replaces them (`replace_done`)."""
    mazes.mouse = move(mazes.walls, mazes.mouse, actions)
    mazes.t = mazes.t + 1
    success = (mazes.mouse == mazes.cheese).all(1)
    done = success | (mazes.t >= max_steps)
    return success.astype(np.float32), done, success


def replace_done(mazes: Mazes, done: np.ndarray, cfg: MazeConfig,
                 rng: np.random.Generator, reach: int | None = None) -> None:
    """Start a fresh maze wherever an episode has ended (the mouse within `reach` if given)."""
    idx = np.flatnonzero(done)
    if len(idx):
        fresh = new_mazes(len(idx), cfg, rng, reach)
        for name, value in fresh.arrays().items():
            getattr(mazes, name)[idx] = value


def observe(walls: np.ndarray, mouse: np.ndarray, cheese: np.ndarray) -> np.ndarray:
    """(n, 3, S, S) float32 planes: wall, mouse, cheese."""
    n = len(walls)
    obs = np.zeros((n, len(PLANES), *walls.shape[1:]), dtype=np.float32)
    obs[:, 0] = walls
    rows = np.arange(n)
    obs[rows, 1, mouse[:, 0], mouse[:, 1]] = 1.0
    obs[rows, 2, cheese[:, 0], cheese[:, 1]] = 1.0
    return obs


def open_squares(walls: np.ndarray) -> np.ndarray:
    """(m, 2) the open squares of one maze (S, S), in row-major order."""
    return np.argwhere(~walls)


def distances(walls: np.ndarray, target: tuple[int, int] | np.ndarray) -> np.ndarray:
    """(S, S) int: fewest moves from each square to `target` (-1 where it cannot be reached),
    by breadth-first search through `move`, so walls block exactly as they do for the mouse."""
    dist = np.full(walls.shape, -1, dtype=np.int64)
    dist[tuple(target)] = 0
    frontier, d = np.array([target]), 0
    while len(frontier):
        d += 1
        stacked = np.broadcast_to(walls, (len(frontier), *walls.shape))
        nxt = np.unique(np.concatenate([move(stacked, frontier, np.full(len(frontier), a))
                                        for a in range(len(ACTIONS))]), axis=0)
        nxt = nxt[dist[nxt[:, 0], nxt[:, 1]] < 0]
        dist[nxt[:, 0], nxt[:, 1]] = d
        frontier = nxt
    return dist
