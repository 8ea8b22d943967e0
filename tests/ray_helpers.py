"""Task functions for the executor tests (importable by Ray workers as `tests.ray_helpers`), and
a driver to kill: `python -m tests.ray_helpers FOLDER EXECUTIONS ADDRESS` runs `slow_tasks` on
the Ray cluster at ADDRESS (its code shipped as a `working_dir`, as on a real cluster)."""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from pathlib import Path

import numpy as np


def record(executions: Path, name: str) -> None:
    """One file per execution of a task (counted by the tests)."""
    Path(executions).mkdir(parents=True, exist_ok=True)
    (Path(executions) / f"{name}.{uuid.uuid4().hex}").touch()


def executions(folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in Path(folder).iterdir() if Path(folder).is_dir() else ():
        name = path.name.rsplit(".", 1)[0]
        counts[name] = counts.get(name, 0) + 1
    return counts


def powers(x: int, executions: Path, delay: float = 0.0) -> dict:
    """A result with a float, a numpy array and a list (the kinds results hold)."""
    record(executions, f"t{x}")
    time.sleep(delay)
    return {"x": x, "root": x ** 0.5, "powers": np.arange(4, dtype=np.int64) ** x,
            "rng": np.random.default_rng(x).standard_normal(3).tolist()}


def dies_once(x: int, executions: Path, markers: Path) -> dict:
    """Kills its own worker process the first time it runs for `x` (Ray retries it)."""
    marker = Path(markers) / f"{x}"
    if not marker.exists():
        Path(markers).mkdir(parents=True, exist_ok=True)
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return powers(x, executions)


def slow_tasks(executions: Path, delay: float = 0.0):
    from common.executor import Task

    return [Task(f"t{x}", powers, (x, executions, delay), key={"x": x}) for x in range(6)]


def main(folder: str, executions: str, address: str) -> None:
    import torch  # noqa: F401  (now, not at the first result: results then come one by one)

    from common.executor import ExecutorConfig, make_executor, run_tasks

    # one task at a time on the 2-CPU cluster, so the driver can be killed between two results
    config = ExecutorConfig(executor="ray", address=address, cpus_per_task=2)
    with make_executor(config) as executor:
        run_tasks(executor, slow_tasks(Path(executions), delay=1.0), folder, progress=False)


if __name__ == "__main__":
    main(*sys.argv[1:4])
