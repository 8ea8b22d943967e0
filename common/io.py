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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch loads only where a checkpoint is read or written
    import torch

REPO_ROOT = Path(__file__).resolve().parent.parent  # default home of results/ and runs/


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


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
        os.chmod(tmp, _umask_mode())  # mkstemp makes 0600; follow the umask like open() does
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write `obj` as indented JSON."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


class CorruptFileError(ValueError):
    """A JSON file that exists but cannot be read (torn, edited by hand, not JSON)."""


def read_json(path: str | os.PathLike) -> Any:
    """The JSON in `path`; CorruptFileError naming the file when it is not valid JSON (a missing
    file raises FileNotFoundError as usual)."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CorruptFileError(f"{path} is corrupt (not valid JSON: {e}); delete it to rebuild "
                               "it") from None


def save_checkpoint(path: str | os.PathLike, obj: dict[str, Any]) -> None:
    """Atomically `torch.save` a dict of tensors and plain Python values."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, or not what the caller expected."""


def load_checkpoint(path: str | os.PathLike, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Load with `weights_only=True`; raise `CheckpointError` with a one-line reason."""
    import torch

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


def save_safetensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor],
                     metadata: dict[str, str] | None = None) -> None:
    """Atomically write tensors (moved to the CPU, made contiguous) as a safetensors file: a
    format that loads without executing code, readable by other tools."""
    from safetensors.torch import save

    cpu = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    atomic_write_bytes(path, save(cpu, metadata=metadata))


def load_safetensors(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(tensors on the CPU, header metadata) of a safetensors file; CheckpointError otherwise."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        with safe_open(path, framework="pt", device="cpu") as f:
            return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata() or {})  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"cannot read safetensors file {path}: {type(e).__name__}") from e


def check_finite_weights(module: torch.nn.Module, path: str | os.PathLike) -> None:
    """CheckpointError when a loaded network holds NaN or infinite weights (a diverged run): it
    would otherwise play or encode garbage without a word."""
    import torch

    bad = [name for name, t in module.state_dict().items()
           if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise CheckpointError(f"{path}: non-finite weights in {', '.join(bad[:3])}"
                              f"{' ...' if len(bad) > 3 else ''} (a diverged run?)")


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


class DirtyTreeError(SystemExit):
    """Committed results must come from committed code: refuse to write them from a dirty tree.
    A SystemExit, so an entry point that does not catch it still ends with its one line."""


def results_version(out: str | os.PathLike) -> str:
    """`code_version()` for a run that writes to `out`; call it before the run writes anything.

    Writing under the repository's `results/` from a tree with uncommitted changes raises
    DirtyTreeError, unless ALLOW_DIRTY_RESULTS=1, which writes the version loudly as '+dirty'.
    """
    version = code_version()
    inside = Path(out).resolve().is_relative_to((REPO_ROOT / "results").resolve())
    if inside and version.endswith("+dirty"):
        if os.environ.get("ALLOW_DIRTY_RESULTS") != "1":
            raise DirtyTreeError(f"error: refusing to write {out} from a tree with uncommitted "
                                 "changes (commit first, or set ALLOW_DIRTY_RESULTS=1 to write "
                                 "a '+dirty' code version)")
        print(f"warning: writing {out} from a dirty tree: code version {version}", flush=True)
    return version


def say_reused(what: str, where: str | os.PathLike) -> None:
    """Tell the user that work was found done and reused (the demo collects these lines)."""
    print(f"reusing {what}: {where}", flush=True)


def command_line(script: str | os.PathLike, argv: list[str] | None) -> str:
    """The command that reproduces a run, for its results file: `python <script relative to the
    repository> <flags>` (sys.argv's flags when `argv` is None)."""
    import shlex
    import sys

    rel = Path(script).resolve().relative_to(REPO_ROOT)
    flags = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", str(rel), *flags])
