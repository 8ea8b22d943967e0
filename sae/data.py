"""Activations on disk: a memory-mapped `[N, d]` float array, a shuffled held-out split, batches.

The split shuffles the row indices before cutting them (collected activations come in game
order, so a contiguous cut would hold out whole games and openings). `gather` reads rows from the
memory map (in increasing order, and returns them in the order asked for), so the file never has
to fit in memory.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


class ActivationsError(ValueError):
    """An activations file that is missing or not a 2-D float array."""


def open_acts(path: str | Path) -> np.ndarray:
    """Memory-map a `.npy` `[N, d]` float array; ActivationsError with a one-line reason."""
    path = Path(path)
    if not path.is_file():
        raise ActivationsError(f"activations file not found: {path}")
    try:
        acts = np.load(path, mmap_mode="r")
    except (ValueError, OSError) as exc:
        raise ActivationsError(f"cannot read {path} as a .npy array ({exc})") from None
    if acts.ndim != 2 or not np.issubdtype(acts.dtype, np.floating):
        raise ActivationsError(f"{path}: expected a float array [N, d], got {acts.dtype} "
                               f"{list(acts.shape)}")
    if acts.shape[0] < 2 or acts.shape[1] < 1:
        raise ActivationsError(f"{path}: empty (shape {list(acts.shape)}; need at least 2 rows)")
    check_values(acts, path)
    return acts


def check_values(acts: np.ndarray, path: str | Path, chunk: int = 1 << 16) -> None:
    """ActivationsError for NaN/Inf or an all-zero array (a broken or unfinished collection);
    a loud warning when some rows are all zero. Read in chunks, so the memory map stays cheap."""
    zero_rows = 0
    for start in range(0, len(acts), chunk):
        block = np.asarray(acts[start:start + chunk])
        if not np.isfinite(block).all():
            row = start + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
            raise ActivationsError(f"{path}: non-finite values (NaN or Inf), first in row {row}")
        zero_rows += int((~block.any(axis=1)).sum())
    if zero_rows == len(acts):
        raise ActivationsError(f"{path}: every value is zero (an unfinished or broken collection?)")
    if zero_rows:
        print(f"warning: {path}: {zero_rows} of {len(acts)} rows are all zero", file=sys.stderr)


@dataclass(frozen=True)
class Split:
    """Row indices of the training and held-out parts (held-out sorted for cheap reads)."""

    train: np.ndarray
    test: np.ndarray


def split_rows(n: int, holdout: float, seed: int, max_test: int | None = None) -> Split:
    """Shuffle 0..n-1, then hold out a fraction (at most `max_test` rows, at least one)."""
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be in (0, 1), got {holdout}")
    perm = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(n * holdout))
    if max_test is not None:
        n_test = min(n_test, max_test)
    return Split(train=perm[n_test:], test=np.sort(perm[:n_test]))


def gather(acts: np.ndarray, rows: np.ndarray) -> torch.Tensor:
    """float32 tensor of the given rows, in the order given (repeats allowed); read from the
    memory map in increasing row order."""
    rows = np.asarray(rows)
    order = np.argsort(rows, kind="stable")
    out = np.empty((len(rows), acts.shape[1]), dtype=np.float32)
    out[order] = acts[rows[order]]
    return torch.from_numpy(out)


def batches(acts: np.ndarray, rows: np.ndarray, batch_size: int,
            rng: np.random.Generator) -> Iterator[torch.Tensor]:
    """Endless shuffled minibatches over `rows`, reshuffled every epoch."""
    if len(rows) < batch_size:
        raise ValueError(f"batch size {batch_size} exceeds the {len(rows)} training rows")
    while True:
        perm = rng.permutation(rows)
        for start in range(0, len(perm) - batch_size + 1, batch_size):
            yield gather(acts, perm[start:start + batch_size])


def chunks(acts: np.ndarray, rows: np.ndarray, size: int = 8192) -> Iterator[torch.Tensor]:
    """The given rows in order, `size` at a time (for evaluation)."""
    for start in range(0, len(rows), size):
        yield gather(acts, rows[start:start + size])


def mean_norm(acts: np.ndarray, rows: np.ndarray, sample: int = 20_000, seed: int = 0) -> float:
    """Mean L2 norm of (a random sample of) the given rows."""
    rng = np.random.default_rng(seed)
    pick = rows if len(rows) <= sample else rng.choice(rows, sample, replace=False)
    return float(gather(acts, pick).norm(dim=1).mean())
