"""Resumable stage files of the toy-model experiments, and what to do with a bad one.

A stage (a trained batch of models, the LLCs of one sparsity) is saved as one checkpoint; a rerun
loads it instead of recomputing. A file that exists but cannot be read (e.g. truncated by a
crash or a full disk) raises `StageFileError`, which names the file: `redo_bad_stages` (called by
the entry points) moves it aside to `<name>.bad`, warns in one line and runs again, so only that
stage is recomputed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from common.io import CheckpointError, load_checkpoint

T = TypeVar("T")


class StageFileError(CheckpointError):
    """A stage file that exists but cannot be used; `path` is the file."""

    def __init__(self, path: str | Path, reason: str):
        super().__init__(reason)
        self.path = Path(path)


def load_stage(path: str | Path, required: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The stage file's contents, None when there is none, StageFileError when it is bad."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return load_checkpoint(path, required=required)
    except CheckpointError as e:
        raise StageFileError(path, str(e)) from e


def quarantine(path: str | Path) -> Path:
    """Rename a bad file to `<name>.bad` (`.bad1`, `.bad2`, ... if taken); returns the new path."""
    path = Path(path)
    target, k = path.with_name(path.name + ".bad"), 0
    while target.exists():
        k += 1
        target = path.with_name(f"{path.name}.bad{k}")
    path.rename(target)
    return target


def redo_bad_stages(run: Callable[[], T], attempts: int = 100) -> T:
    """`run()`, again after moving aside each bad stage file it meets (one warning line each).

    `run` must be resumable (finished stages load, missing ones are recomputed). A file that is
    bad again right after being recomputed is not retried: the error is raised.
    """
    moved: set[Path] = set()
    for _ in range(attempts):
        try:
            return run()
        except StageFileError as e:
            if e.path in moved:
                raise
            moved.add(e.path)
            target = quarantine(e.path)
            print(f"warning: {e}; moved it to {target.name} and redoing that stage",
                  file=sys.stderr)
    raise RuntimeError(f"more than {attempts} bad stage files")
