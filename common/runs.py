"""Run folders that nothing else can lose: checked before work starts, marked, locked, and
deleted by `--restart` only when they hold a run.

An entry point that owns a run folder calls `open_run(folder, restart=...)` once, before its
work: it refuses a path that is a file or cannot be written, refuses to delete a folder that does
not hold a run (this project's `.run` marker, or the stage's own files), takes an exclusive lock
(a `.lock` file holding the pid; the kernel drops it when the process dies, even by kill -9), and
writes the marker. Errors are `RunFolderError`, one line naming the folder.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

MARKER = ".run"  # holds the kind of run (e.g. "alphazero"): this folder may be deleted by --restart
LOCK = ".lock"


class RunFolderError(RuntimeError):
    """A run folder that cannot be used as asked (one line, naming the folder)."""


def check_writable(folder: str | os.PathLike, what: str = "output folder") -> Path:
    """Create `folder` if needed and prove it can be written (a temp file); RunFolderError else.
    Call it before the work starts, so a bad --out fails in seconds, not after the run."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"{what} {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise RunFolderError(f"cannot write {what} {folder}: {e.strerror or e}") from None
    return folder


def check_file_writable(path: str | os.PathLike, what: str = "output file") -> Path:
    """A file path that can be written: not a folder, its folder writable."""
    path = Path(path)
    if path.is_dir():
        raise RunFolderError(f"{what} {path} is a folder, not a file")
    try:
        check_writable(path.parent, "folder")
    except RunFolderError as e:
        raise RunFolderError(f"cannot write {what} {path} ({e})") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise RunFolderError(f"cannot write {what} {path}: permission denied")
    return path


def holds_run(folder: str | os.PathLike, own_files: tuple[str, ...] = ()) -> bool:
    """True for a folder this project made as a run: it holds the marker (or, for runs made
    before the marker, one of the stage's own files, e.g. checkpoint.pt)."""
    folder = Path(folder)
    return folder.is_dir() and any((folder / name).is_file() for name in (MARKER, *own_files))


def _protected(folder: Path) -> bool:
    """The working folder, its parents, the home folder and the root are never deleted."""
    real, cwd = folder.resolve(), Path.cwd().resolve()
    return real == cwd or real in cwd.parents or real == Path.home().resolve() \
        or real == Path(real.anchor)


def delete_run(folder: str | os.PathLike, own_files: tuple[str, ...] = ()) -> None:
    """Delete a run folder for `--restart`; RunFolderError (and nothing deleted) unless it holds
    a run. Everything but the lock file goes, so a concurrent writer stays locked out."""
    folder = Path(folder)
    if not folder.exists() or {p.name for p in folder.iterdir()} <= {LOCK}:
        return  # nothing there (a run killed before it wrote anything leaves only its lock)
    if _protected(folder) or not holds_run(folder, own_files):
        raise RunFolderError(f"refusing to delete {folder}: it does not hold a run of this "
                             f"project (no {MARKER} marker); pick another folder")
    for entry in folder.iterdir():
        if entry.name == LOCK:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


class RunLock:
    """An exclusive lock on a file holding the owner's pid (fcntl.flock: released by the kernel
    when the process ends however it ends, so a killed run never leaves a stale lock)."""

    def __init__(self, path: str | os.PathLike, what: str):
        self.path, self.what = Path(path), what
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES):
                raise RunFolderError(f"{self.what} is in use by another process (pid {owner}); "
                                     "wait for it to finish or use another folder") from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire() if self._fd is None else self

    def __exit__(self, *exc) -> None:
        self.release()


def open_run(folder: str | os.PathLike, kind: str, restart: bool = False,
             own_files: tuple[str, ...] = ()) -> RunLock:
    """Check, lock (and with `restart` empty) the run folder, then mark it; returns the held
    lock (keep it for the whole run). `own_files` are the stage's files that also identify a run
    made before the marker existed. A folder that already held other things is not marked, so
    a later --restart refuses to delete it."""
    folder = Path(folder)
    if restart and folder.exists() and (_protected(folder) or not holds_run(folder, own_files)):
        delete_run(folder, own_files)  # raises: nothing is deleted or locked
    fresh = not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))
    check_writable(folder, "run folder")
    lock = RunLock(folder / LOCK, f"run folder {folder}").acquire()
    try:
        if restart:
            delete_run(folder, own_files)
        if fresh or holds_run(folder, own_files):  # never mark a folder of other things
            (folder / MARKER).write_text(kind + "\n")
    except BaseException:
        lock.release()
        raise
    return lock


def lock_beside(path: str | os.PathLike, what: str) -> RunLock:
    """A held lock for an output that is replaced as a whole (a dataset folder renamed into
    place): the lock file sits beside it, `.<name>.lock`."""
    path = Path(path)
    check_writable(path.parent, f"folder of {what}")
    return RunLock(path.parent / f".{path.name}.lock", f"{what} {path}").acquire()
