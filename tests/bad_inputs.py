"""Helpers of the bad-input and fault suites: run an entry point as a user would (a subprocess
from the repository root) and check that it failed cleanly and left results/ alone."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}


def results_hash() -> str:
    """One hash of every file under results/ (names and bytes)."""
    h = hashlib.sha256()
    for path in sorted((ROOT / "results").rglob("*")):
        if path.is_file():
            h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def command(script: str, *argv: object) -> list[str]:
    return [sys.executable, str(ROOT / script), *map(str, argv)]


def start(script: str, *argv: object, cwd: Path = ROOT, **popen) -> subprocess.Popen:
    return subprocess.Popen(command(script, *argv), cwd=cwd, env=ENV, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def run(script: str, *argv: object, cwd: Path = ROOT, timeout: float = 300
        ) -> subprocess.CompletedProcess:
    return subprocess.run(command(script, *argv), cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=timeout)


def assert_refused(done: subprocess.CompletedProcess, *words: str, code: int | None = None
                   ) -> str:
    """Failed (with `code` if given), no traceback, exactly one line on stderr holding `words`
    (case-insensitive); returns that line."""
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {lines}"
    assert done.returncode != 0 if code is None else done.returncode == code, \
        (done.returncode, lines)
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])
    return lines[0]
