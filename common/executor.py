"""Run a list of independent tasks in this process or on a Ray cluster, with the same results.

Every sweep of the project (toy-model LLCs per sparsity, Persian-rug jobs, the SAE grid, batches
of strength games) is a list of `Task`s: a stable id, a module-level function, its arguments and
a JSON-able `key` saying what the result depends on. `run_tasks` runs the tasks that have no
result yet, writes each result atomically to `<folder>/<id>.pt` as it arrives (with its key), and
returns all results in task order; a rerun, even after the driver was killed with SIGKILL,
reuses every finished result whose key matches and runs only the rest.

Two executors: `LocalExecutor` (the default) calls the functions one after the other here;
`RayExecutor` submits them as Ray tasks (`max_retries`, so a task whose worker dies is run
again), to the cluster at `--address` or to a one-node cluster started on this machine for the
run (no dashboard; Ray names the node by the machine's address, not 127.0.0.1, and guards it with
a token) and shut down after. The driver writes the results, so workers on other machines need
no shared disk. Ray is imported only when `--executor ray` is asked for.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.config import at_least, knob, positive
from common.io import REPO_ROOT, CheckpointError, load_checkpoint, save_checkpoint, say_reused

RAY_MISSING = "Ray is not installed: pip install -e '.[ray]' (the optional `ray` extra)"


@dataclass(frozen=True)
class ExecutorConfig:
    """Where a sweep's tasks run (flags of every entry point with a sweep)."""

    executor: str = knob("local", "where tasks run: local (one after the other in this "
                         "process) or ray (Ray tasks)", choices=("local", "ray"))
    address: str | None = knob(None, "Ray cluster to join (e.g. auto, or ray://head:10001); "
                               "None: start a local one on 127.0.0.1 for this run")
    cpus_per_task: float = knob(1.0, "CPUs Ray reserves for each task (or self-play actor)",
                                check=positive)
    ray_cpus: int | None = knob(None, "CPUs of the local Ray cluster (None: this machine's)",
                                check=at_least(1))
    task_retries: int = knob(3, "times Ray reruns a task whose worker process died",
                             check=at_least(0))


@dataclass(frozen=True)
class Task:
    """`fn(*args)` under a stable id (a file name); `key` (JSON-able) names what it depends on.

    `fn` must be a module-level function and `args` picklable, so a Ray worker can run it.
    `check` (run by the driver) says whether the files a finished result stands for are still
    intact (e.g. a saved SAE); when it returns something falsy the task runs again."""

    id: str
    fn: Callable[..., Any]
    args: tuple = ()
    key: Any = None
    kwargs: dict = field(default_factory=dict)
    check: Callable[[], Any] | None = None


def _key_text(key: Any) -> str:
    return json.dumps(key, sort_keys=True, default=str)


ARRAY = "__ndarray__"  # a numpy array in a result file: its bytes as a uint8 tensor


def _plain(value: Any) -> Any:
    """A result as checkpoints store it (they load with weights_only=True, which refuses numpy):
    numpy scalars as Python numbers, numpy arrays as their bytes."""
    import numpy as np
    import torch

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        raw = np.ascontiguousarray(value).reshape(-1).view(np.uint8).copy()
        return {ARRAY: torch.from_numpy(raw), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


def _unplain(value: Any) -> Any:
    import numpy as np

    if isinstance(value, dict) and ARRAY in value:
        return value[ARRAY].numpy().view(np.dtype(value["dtype"])).reshape(value["shape"])
    if isinstance(value, dict):
        return {k: _unplain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_unplain(v) for v in value)
    return value


def result_path(folder: Path, task: Task) -> Path:
    return Path(folder) / f"{task.id}.pt"


def load_result(folder: Path, task: Task) -> tuple[bool, Any]:
    """(True, result) when the task finished earlier with the same key, else (False, None). A
    corrupt result file is reported in one line and the task is run again."""
    path = result_path(folder, task)
    if not path.is_file():
        return False, None
    try:
        saved = load_checkpoint(path, required=("key", "result"))
    except CheckpointError as e:
        print(f"warning: {e}; running task {task.id} again", file=sys.stderr)
        return False, None
    if saved["key"] != _key_text(task.key):
        return False, None
    return True, _unplain(saved["result"])


def save_result(folder: Path, task: Task, result: Any) -> Any:
    """Write the result atomically; returns it as it reads back (what a rerun would get)."""
    save_checkpoint(result_path(folder, task), {"id": task.id, "key": _key_text(task.key),
                                                "result": _plain(result)})
    return _unplain(load_checkpoint(result_path(folder, task))["result"])


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


class LocalExecutor:
    """Tasks one after the other in this process (the default, what tests and the demo use)."""

    local = True

    def share(self, obj: Any) -> Any:
        """A handle for a big argument several tasks take (here: the object itself)."""
        return obj

    def run(self, pending: Sequence[Task], done: Callable[[Task, Any], None]) -> None:
        for task in pending:
            done(task, _call(task.fn, *task.args, **task.kwargs))

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        pass


class RayExecutor:
    """Tasks as Ray tasks on the cluster at `address`, or on a local cluster started on
    127.0.0.1 for the run (and shut down after)."""

    local = False

    def __init__(self, config: ExecutorConfig):
        self.config = config
        self._started = False

    def __enter__(self) -> RayExecutor:
        ray = import_ray()
        if not ray.is_initialized():
            cfg = self.config
            if cfg.address is None:
                ray.init(address="local", include_dashboard=False, num_cpus=cfg.ray_cpus,
                         log_to_driver=False,
                         runtime_env={"env_vars": {"PYTHONPATH": str(REPO_ROOT)}})
            else:  # a real cluster: ship this checkout's code to its workers
                ray.init(address=cfg.address, log_to_driver=False,
                         runtime_env={"working_dir": str(REPO_ROOT),
                                      "excludes": [".git", ".venv", "runs", "results", "vis/data",
                                                   "wandb", "*.pt", "*.safetensors", "*.npy"]})
            self._started = True
        return self

    def __exit__(self, *exc) -> None:
        if self._started:
            import_ray().shutdown()
            self._started = False

    def share(self, obj: Any) -> Any:
        """Put a big argument into the object store once; tasks receive the object itself."""
        return import_ray().put(obj)

    def run(self, pending: Sequence[Task], done: Callable[[Task, Any], None]) -> None:
        ray = import_ray()
        remote = ray.remote(max_retries=self.config.task_retries,
                            num_cpus=self.config.cpus_per_task)(_call)
        # arguments at the top level, so that shared ObjectRefs arrive as their objects
        refs = {remote.remote(t.fn, *t.args, **t.kwargs): t for t in pending}
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            task = refs.pop(ready[0])
            done(task, ray.get(ready[0]))


Executor = LocalExecutor | RayExecutor


def import_ray():
    """The ray module, or exit code 2 with one line saying how to install it."""
    try:
        import ray
    except ImportError:
        print(f"error: --executor ray: {RAY_MISSING}", file=sys.stderr)
        raise SystemExit(2) from None
    return ray


def make_executor(config: ExecutorConfig) -> Executor:
    """The executor `config` asks for (use it as a context manager: Ray starts and stops)."""
    return RayExecutor(config) if config.executor == "ray" else LocalExecutor()


def run_tasks(executor: Executor, tasks: Sequence[Task], folder: str | Path,
              progress: bool = True, desc: str = "tasks") -> list[Any]:
    """Every task's result in task order: finished ones read from `folder`, the rest run on
    `executor` and written to `folder` (atomically, one file per task) as each one ends."""
    from tqdm.auto import tqdm

    folder = Path(folder)
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"task ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    results: dict[str, Any] = {}
    for task in tasks:
        found, value = load_result(folder, task)
        if found and (task.check is None or task.check()):
            results[task.id] = value
    pending = [t for t in tasks if t.id not in results]
    if results:
        say_reused(f"{len(results)} of {len(tasks)} finished tasks ({desc}, same key)", folder)
    with tqdm(total=len(tasks), initial=len(tasks) - len(pending), desc=desc, unit="task",
              disable=not progress) as bar:
        def done(task: Task, value: Any) -> None:
            results[task.id] = save_result(folder, task, value)
            bar.update(1)
        executor.run(pending, done)
    return [results[t.id] for t in tasks]


def executor_flags(parser: argparse.ArgumentParser) -> None:
    """--executor, --address, --cpus-per-task, --ray-cpus, --task-retries."""
    from common.config import add_config_flags

    add_config_flags(parser, ExecutorConfig)


def executor_config(args: argparse.Namespace) -> ExecutorConfig:
    from common.config import config_from_args

    return config_from_args(args, ExecutorConfig, ExecutorConfig())[0]
