"""The Ray executor and self-play actors on a local one-node cluster (started once for the module,
2 CPUs, stopped after; the killed drivers join it by --address, their code shipped): the same
results as in-process for a small sweep of each kind, a task whose worker dies is retried, a
killed driver's rerun runs only the unfinished tasks, and 2 self-play actors train, resume after
a kill and fill the replay buffer with exactly their positions. Skipped when the optional `ray`
extra is not installed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("ray", reason="the optional `ray` extra is not installed "
                    "(pip install -e '.[ray]'; `make test` installs it)")

from common.executor import (  # noqa: E402
    ExecutorConfig,
    LocalExecutor,
    RayExecutor,
    Task,
    run_tasks,
)
from tests.ray_helpers import dies_once, executions, powers, slow_tasks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RAY = ExecutorConfig(executor="ray", ray_cpus=2)
# a first result can take minutes when the suite shares two vCPUs with other work: wait long,
# and say so if it never came (rather than failing later on a missing file)
LOADED_MACHINE_S = 600


@pytest.fixture(scope="module")
def cluster():
    with RayExecutor(RAY) as executor:
        yield executor


def address() -> str:
    import ray

    return ray.get_runtime_context().gcs_address


def same(a, b) -> None:
    """Equal value by value (arrays and tensors exactly)."""
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b)
    else:
        assert a == b


def test_ray_tasks_equal_local_tasks_and_reruns_skip_them(cluster, tmp_path):
    tasks = slow_tasks(tmp_path / "ex_ray")
    on_ray = run_tasks(cluster, tasks, tmp_path / "ray", progress=False)
    local = run_tasks(LocalExecutor(), slow_tasks(tmp_path / "ex_local"), tmp_path / "local",
                      progress=False)
    same(on_ray, local)
    assert on_ray[2]["powers"].tolist() == [0, 1, 4, 9]
    assert run_tasks(cluster, tasks, tmp_path / "ray", progress=False)[5]["x"] == 5
    assert executions(tmp_path / "ex_ray") == {f"t{x}": 1 for x in range(6)}  # none rerun


def test_a_task_whose_worker_is_killed_is_retried(cluster, tmp_path):
    tasks = [Task(f"t{x}", dies_once, (x, tmp_path / "ex", tmp_path / "markers"), key=x)
             for x in range(3)]
    got = run_tasks(cluster, tasks, tmp_path / "out", progress=False)
    assert sorted(p.name for p in (tmp_path / "markers").iterdir()) == ["0", "1", "2"]
    same(got, [powers(x, tmp_path / "ex_clean") for x in range(3)])
    assert executions(tmp_path / "ex") == {"t0": 1, "t1": 1, "t2": 1}  # killed before record


def test_a_killed_driver_reruns_only_the_unfinished_tasks(cluster, tmp_path):
    folder, ex = tmp_path / "out", tmp_path / "ex"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.ray_helpers", str(folder), str(ex),
                             address()],  # joins the module's cluster as a real one, by address
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + LOADED_MACHINE_S
    while len(list(folder.glob("t*.pt"))) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    assert len(list(folder.glob("t*.pt"))) >= 2, f"no two tasks done in {LOADED_MACHINE_S} s"
    proc.wait(timeout=60)
    finished = {p.stem for p in folder.glob("t*.pt")}
    assert 2 <= len(finished) < 6
    time.sleep(2)  # Ray stops the killed driver's tasks
    before = executions(ex)
    got = run_tasks(cluster, slow_tasks(ex), folder, progress=False)
    same(got, run_tasks(LocalExecutor(), slow_tasks(tmp_path / "ex2"), tmp_path / "clean",
                        progress=False))
    after = executions(ex)
    rerun = {k: after[k] - before.get(k, 0) for k in after if after[k] > before.get(k, 0)}
    assert rerun == {f"t{x}": 1 for x in range(6) if f"t{x}" not in finished}
    assert all(after[k] == 1 for k in finished)  # finished tasks ran once, and not again
    assert sorted(p.name for p in folder.iterdir()) == [f"t{x}.pt" for x in range(6)]


def test_sparsity_sweep_on_ray_equals_in_process(cluster, tmp_path):
    from toymodels.tms.llc import SGLDConfig
    from toymodels.tms.sweep import SparsitySweepConfig, run_sweep
    from toymodels.tms.train import TiedTrainConfig

    cfg = SparsitySweepConfig(sparsities=(0.5, 0.9, 0.95), models=2, samples=100,
                              inits=("hexagon",),
                              train=TiedTrainConfig(steps=20, batch_size=16, checkpoints=3),
                              sgld=SGLDConfig(draws=8, chains=2, batch_size=16))
    local = run_sweep(cfg, tmp_path / "local", progress=False)
    on_ray = run_sweep(cfg, tmp_path / "ray", progress=False, executor=cluster)
    assert torch.equal(local.llc, on_ray.llc) and torch.equal(local.llc_std, on_ray.llc_std)
    assert local.llc.abs().sum() > 0


def test_persian_rug_jobs_on_ray_equal_in_process(cluster, tmp_path):
    from toymodels.persian_rug.experiment import PersianRugConfig, job_tasks

    cfg = PersianRugConfig(jobs=("16:0.25:0.2,0.3:30", "32:0.25:0.2:20"), eval_samples=128,
                           diag_samples=64)
    local, on_ray = (run_tasks(executor, job_tasks(cfg, tmp_path / kind, progress=False),
                               tmp_path / kind / "jobs", progress=False)
                     for kind, executor in (("local", LocalExecutor()), ("ray", cluster)))
    assert [len(points) for points in local] == [2, 1]
    same(local, on_ray)


def test_sae_grid_on_ray_equals_in_process(cluster, tmp_path):
    from train_sae import main

    rng = np.random.default_rng(0)
    x = (rng.standard_normal((400, 4)) @ rng.standard_normal((4, 8))).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    argv = ["--acts", str(tmp_path / "x.npy"), "--arch", "topk", "relu", "--features", "8",
            "16", "--k", "2", "--l1", "0.01", "--steps", "20", "--batch-size", "32",
            "--no-progress"]
    for kind in ("local", "ray"):
        assert main([*argv, "--out", str(tmp_path / kind), "--executor", kind]) == 0
    names = sorted(p.name for p in (tmp_path / "local").iterdir() if (p / "cfg.json").is_file())
    assert len(names) == 4
    for name in names:
        a, b = (torch.load(tmp_path / k / ".tasks" / f"{name}.pt", weights_only=True)["result"]
                for k in ("local", "ray"))
        for timing in ("train_seconds", "tokens_per_s"):
            a.pop(timing), b.pop(timing)
        same(a, b)


def test_strength_batches_on_ray_equal_in_process(cluster, tmp_path):
    from alphazero.mcts import SearchConfig
    from othello.az.agent import AlphaZeroPlayer
    from othello.az.evaluation import batched_match_results
    from othello.az.model import NetConfig, PolicyValueNet

    torch.manual_seed(0)
    player = AlphaZeroPlayer(PolicyValueNet(NetConfig(size=4, width=8, blocks=1)),
                             SearchConfig(simulations=4))
    results = {}
    for kind, executor in (("local", LocalExecutor()), ("ray", cluster)):
        results[kind] = batched_match_results(
            player, ("random", "greedy"), 6, np.random.default_rng(3), 2, 2, executor,
            tmp_path / kind, seed=5, record=True, progress=False)
    for spec in ("random", "greedy"):
        a, b = results["local"][spec], results["ray"][spec]
        assert a.games == 6 and (a.wins, a.draws, a.losses) == (b.wins, b.draws, b.losses)
        same(a.a_result, b.a_result), same(a.final_states, b.final_states)
        assert [(g, s.tolist(), m) for g, s, m in a.a_moves] == \
            [(g, s.tolist(), m) for g, s, m in b.a_moves]


TINY_AZ = ["--size", "4", "--net-width", "8", "--net-blocks", "1", "--games-per-iteration", "5",
           "--concurrent-games", "4", "--simulations", "4", "--eval-games", "0", "--endgames",
           "0", "--batch-size", "16", "--iterations", "2", "--snapshots", "3", "--no-progress",
           "--selfplay-workers", "2"]


def test_two_selfplay_actors_resume_after_a_kill_and_fill_the_buffer(cluster, tmp_path):
    from alphazero.config import TrainConfig
    from alphazero.distributed import SelfPlayWorker
    from alphazero.replay import ReplayBuffer
    from alphazero.selfplay import Examples
    from common.config import config_from_dict
    from othello.az.game import OthelloGame
    from othello.az.model import NetConfig, PolicyValueNet
    from train_alphazero import main

    out = tmp_path / "ray"
    argv = [*TINY_AZ, "--out", str(out), "--executor", "ray"]
    proc = subprocess.Popen([sys.executable, "train_alphazero.py", *argv, "--address", address()],
                            cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + LOADED_MACHINE_S
    while not (out / "checkpoint.pt").exists() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    assert (out / "checkpoint.pt").exists(), f"no checkpoint in {LOADED_MACHINE_S} s"
    proc.wait(timeout=60)
    killed_at = torch.load(out / "checkpoint.pt", weights_only=True)["iteration"]
    assert killed_at == 1
    assert main([*argv, "--resume"]) == 0  # on the module's cluster

    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ckpt["iteration"] == 2
    replay = {k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in ckpt["replay"].items()}
    buffer = ReplayBuffer.from_state_dict(replay)
    config = config_from_dict(TrainConfig, ckpt["train_config"])
    game, parts = OthelloGame(4), []
    for it in (1, 2):  # each actor's share again, in-process, with that iteration's weights
        net = PolicyValueNet(NetConfig(**ckpt["config"]))
        weights = torch.load(out / "checkpoints" / f"iter_{it - 1:04d}.pt",
                             weights_only=True)["model"]
        shares = [SelfPlayWorker(game, net, config, i, 2).play(weights, it)[0] for i in (0, 1)]
        assert [len(s) > 0 for s in shares] == [True, True]
        parts += shares
    produced = Examples.concat(parts)
    assert len(buffer) == len(produced)
    n = len(produced)
    same(buffer.data.states[:n], produced.states)
    same(buffer.data.policies[:n], produced.policies)
    same(buffer.data.values[:n], produced.values)
