"""Small I/O helpers shared by every stage: atomic writes, provenance, checkpoints.

Every stage hands the next one files plus a `meta.json` that says what produced them; these
helpers make the write atomic (temp file + rename) so an interrupted run never leaves a torn file.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent  # default home of results/ and runs/


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write `obj` as indented JSON."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def save_checkpoint(path: str | os.PathLike, obj: dict[str, Any]) -> None:
    """Atomically `torch.save` a dict of tensors and plain Python values."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, or not what the caller expected."""


def load_checkpoint(path: str | os.PathLike, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Load with `weights_only=True`; raise `CheckpointError` with a one-line reason."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for corrupt files
        raise CheckpointError(f"cannot read checkpoint {path}: {type(e).__name__}") from e
    if not isinstance(obj, dict):
        raise CheckpointError(f"checkpoint {path} does not hold a dict")
    missing = [k for k in required if k not in obj]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {', '.join(missing)}")
    return obj


def code_version() -> str:
    """The git commit of the code (with '+dirty' for local changes), or 'unknown' outside git."""
    root = REPO_ROOT
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def say_reused(what: str, where: str | os.PathLike) -> None:
    """Tell the user that work was found done and reused (the demo collects these lines)."""
    print(f"reusing {what}: {where}", flush=True)
