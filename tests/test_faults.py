"""Faults through the real entry points: kill -9 at a seeded random point of each long stage,
then run it again (with --resume where the stage asks for it), gives the uninterrupted outputs;
a second writer to a run folder in use is refused in one line."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import sae
from common.runs import RunLock
from tests.bad_inputs import assert_refused, results_hash, run, start

TINY_AZ = ("--size", 4, "--net-width", 8, "--net-blocks", 1, "--games-per-iteration", 4,
           "--concurrent-games", 4, "--simulations", 4, "--eval-games", 0, "--endgames", 0,
           "--batch-size", 16, "--no-progress")
TIMING = ("seconds", "per_s")  # metrics that measure the machine, not the run


@pytest.fixture(scope="module", autouse=True)
def results_unchanged():
    before = results_hash()
    yield
    assert results_hash() == before, "a fault test changed results/"


def timed(script: str, argv: tuple, started: Path) -> float:
    """Run to the end; seconds from `started` appearing (the work began) to the exit."""
    proc = start(script, *argv)
    while not started.exists() and proc.poll() is None:
        time.sleep(0.02)
    t0 = time.perf_counter()
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    return time.perf_counter() - t0


def killed(script: str, argv: tuple, started: Path, seconds: float, seed: int) -> bool:
    """Start, wait for the work to begin, kill -9 after a seeded random part of `seconds`;
    True if it was still running when killed."""
    proc = start(script, *argv)
    while not started.exists() and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(np.random.default_rng(seed).uniform(0.1, 0.9) * seconds)
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return alive


def without_timing(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if not any(t in k for t in TIMING)} for r in rows]


def state(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def assert_same_tensors(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_alphazero_killed_anywhere_resumes_to_the_uninterrupted_run(tmp_path):
    argv = (*TINY_AZ, "--iterations", 4, "--snapshots", 4)
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    seconds = timed("train_alphazero.py", ("--out", straight, *argv), straight / ".run")
    for seed in (0, 1):  # killed, then killed again while it resumes
        again = ("--resume",) if (broken / "checkpoint.pt").exists() else ()
        killed("train_alphazero.py", ("--out", broken, *again, *argv), broken / ".run",
               seconds, seed)
    again = ("--resume",) if (broken / "checkpoint.pt").exists() else ()  # killed before it?
    done = run("train_alphazero.py", "--out", broken, *again, *argv)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_same_tensors(state(straight / "checkpoint.pt")["model"],
                        state(broken / "checkpoint.pt")["model"])
    lines = [[json.loads(x) for x in (d / "metrics.jsonl").read_text().splitlines()]
             for d in (straight, broken)]
    assert without_timing(lines[0]) == without_timing(lines[1])
    snaps = sorted(p.name for p in (straight / "checkpoints").iterdir())
    assert snaps == sorted(p.name for p in (broken / "checkpoints").iterdir())
    for name in snaps:
        assert_same_tensors(state(straight / "checkpoints" / name)["model"],
                            state(broken / "checkpoints" / name)["model"])


def test_a_killed_collection_leaves_the_old_dataset_or_none(tmp_path):
    argv = ("--checkpoint", "random", "--positions", 600, "--layers", 1, "--no-progress")
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    seconds = timed("othello/collect_activations.py", ("--out", straight, *argv),
                    tmp_path / ".straight.lock")
    old = run("othello/collect_activations.py", "--out", broken, *argv, "--seed", 1)
    assert old.returncode == 0
    old_meta = (broken / "meta.json").read_text()
    for seed in (0, 1):
        killed("othello/collect_activations.py", ("--out", broken, *argv), tmp_path /
               ".broken.lock", seconds, seed)
        meta = json.loads((broken / "meta.json").read_text())  # always a whole dataset:
        assert meta["seed"] == 0 or (broken / "meta.json").read_text() == old_meta  # new or old
        assert np.load(broken / "acts_block1.npy", mmap_mode="r").shape[0] == meta["count"]
    assert run("othello/collect_activations.py", "--out", broken, *argv).returncode == 0
    for name in ("acts_block1", "boards", "legal", "value"):
        np.testing.assert_array_equal(np.load(straight / f"{name}.npy"),
                                      np.load(broken / f"{name}.npy"))
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []


def test_a_killed_sae_grid_reruns_to_the_uninterrupted_grid(tmp_path):
    rng = np.random.default_rng(0)
    acts = (rng.standard_normal((1500, 4)) @ rng.standard_normal((4, 12))).astype(np.float32)
    np.save(tmp_path / "x.npy", acts)
    argv = ("--acts", tmp_path / "x.npy", "--arch", "topk", "--features", 16, 32, 64, "--k", 4,
            "--steps", 150, "--batch-size", 64, "--no-progress")
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    seconds = timed("train_sae.py", (*argv, "--out", straight), straight / ".run")
    killed("train_sae.py", (*argv, "--out", broken), broken / ".run", seconds, seed=3)
    done = run("train_sae.py", *argv, "--out", broken)
    assert done.returncode == 0, done.stderr[-2000:]
    for d in ("topk_f16_k4", "topk_f32_k4", "topk_f64_k4"):
        assert_same_tensors(sae.load(straight / d).state_dict(),
                            sae.load(broken / d).state_dict())
    rows = [json.loads((d / "results" / "summary.json").read_text())["rows"]
            for d in (straight, broken)]
    assert without_timing(rows[0]) == without_timing(rows[1])


def test_a_second_writer_to_a_run_folder_is_refused_and_a_killed_owner_leaves_no_lock(tmp_path):
    out = tmp_path / "run"
    first = start("train_alphazero.py", "--out", out, *TINY_AZ, "--iterations", 500)
    try:
        while not (out / "checkpoint.pt").exists():  # the first writer holds the lock
            assert first.poll() is None, first.communicate()[1][-2000:]
            time.sleep(0.05)
        second = run("train_alphazero.py", "--out", out, "--resume", *TINY_AZ)
        line = assert_refused(second, "in use by another process", f"pid {first.pid}", code=2)
        assert str(out) in line
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
    RunLock(out / ".lock", "the run").acquire().release()  # the kernel dropped the dead
    # writer's lock (kill -9 runs no cleanup): a new writer is not locked out
