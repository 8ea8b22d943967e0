"""Throughput on Ray against the in-process run, measured in the same run: a sweep of LLC tasks
(the toy-model sweep's unit of work) with 1 and 2 Ray workers, and self-play with 1 and 2 Ray
actors (`alphazero.distributed`), each against the same work in this process.

    python bench/bench_ray.py [--quick] [--out results/ray/bench.json]

A local cluster on 127.0.0.1 of 1 CPU, then one of 2 CPUs, each task and actor taking one CPU
(Ray runs a task's torch on as many threads as it has CPUs; two threads are erratic on two shared
vCPUs). Ray figures are warm (the second round: workers, their imports and numba's compiled rules
are up); the cold costs, starting the cluster and the first round, are reported beside them. On
a machine whose two vCPUs share about one core, 2 workers cannot beat 1: the ratios measure
Ray's overhead there.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from common.config import add_config_flags, add_run_flags, at_least, config_dict, knob

OUT = Path(__file__).with_name("ray.json")


@dataclass(frozen=True)
class RayBenchConfig:
    tasks: int = knob(4, "LLC tasks in the sweep", check=at_least(1))
    models: int = knob(24, "toy models per task", check=at_least(1))
    draws: int = knob(400, "SGLD draws per chain", check=at_least(1))
    games: int = knob(32, "self-play games per iteration (split over the actors)",
                      check=at_least(2))
    simulations: int = knob(32, "MCTS simulations per self-play move", check=at_least(1))
    seed: int = knob(0, "seed of the models, data and games", check=at_least(0))


DEFAULT = RayBenchConfig()
QUICK = replace(DEFAULT, tasks=2, models=8, draws=100, games=8, simulations=8)


def sweep_tasks(cfg: RayBenchConfig) -> list:
    """`cfg.tasks` equal LLC tasks of 6-feature, 2-hidden toy models (as the sweep's)."""
    import torch

    from common.executor import Task
    from toymodels.data import sparse_uniform
    from toymodels.tms.llc import SGLDConfig
    from toymodels.tms.sweep import llc_of

    gen = torch.Generator().manual_seed(cfg.seed)
    sgld = SGLDConfig(draws=cfg.draws, chains=2)
    tasks = []
    for t in range(cfg.tasks):
        W = torch.randn(1, cfg.models, 2, 6, generator=gen) * 0.5
        b = torch.zeros(1, cfg.models, 6)
        data = sparse_uniform(1000, 6, torch.full((cfg.models, 1, 1), 0.1), gen,
                              leading=(cfg.models,))
        tasks.append(Task(f"llc_{t}", llc_of, (W, b, data, sgld), key={"task": t}))
    return tasks


def timed_sweep(executor, tasks: list) -> float:
    """Seconds to run every task (results into a fresh folder, so none is reused)."""
    from common.executor import run_tasks

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        run_tasks(executor, tasks, folder, progress=False)
        return time.perf_counter() - start


def selfplay_setup(cfg: RayBenchConfig):
    import torch

    from alphazero.config import TrainConfig
    from alphazero.mcts import SearchConfig
    from othello.az.game import OthelloGame
    from othello.az.model import NetConfig, PolicyValueNet

    torch.manual_seed(cfg.seed)
    net = PolicyValueNet(NetConfig(width=64, blocks=2)).eval()
    train = TrainConfig(games_per_iteration=cfg.games, concurrent_games=cfg.games,
                        search=SearchConfig(simulations=cfg.simulations, noise_fraction=0.25),
                        seed=cfg.seed)
    return OthelloGame(6), net, train


def positions_per_s(play, net, iteration: int) -> tuple[float, int]:
    start = time.perf_counter()
    data, _ = play(net, iteration)
    return len(data) / (time.perf_counter() - start), len(data)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_flags(p, out="JSON file (default bench/ray.json)",
                  quick="a few seconds of work per figure")
    add_config_flags(p, RayBenchConfig, presets={"quick": QUICK})
    args = p.parse_args(argv)
    from common.config import config_from_args
    from common.process import setup_process

    setup_process(plots=False)
    cfg, _ = config_from_args(args, RayBenchConfig, QUICK if args.quick else DEFAULT)
    out = args.out or OUT
    from common.executor import ExecutorConfig, LocalExecutor, RayExecutor, import_ray
    from common.io import results_version, write_json

    version = results_version(out.parent)
    import_ray()
    from alphazero.distributed import LocalSelfPlay, RaySelfPlay

    tasks = sweep_tasks(cfg)
    game, net, train = selfplay_setup(cfg)
    figures: dict = {"config": config_dict(cfg), "quick": args.quick, "code_version": version,
                     "cpus": os.cpu_count(), "load_average": list(os.getloadavg())}
    local = timed_sweep(LocalExecutor(), tasks)
    in_process = LocalSelfPlay(game, net, train, 1)
    positions_per_s(in_process, net, 1)  # untimed: numba compiles the rules
    base_sp, positions = positions_per_s(in_process, net, 2)
    sweep = {"in_process_s": local, "per_task_s": local / len(tasks)}
    selfplay = {"in_process_positions_per_s": base_sp, "positions": positions}
    for workers in (1, 2):  # a local cluster of `workers` CPUs, one task or actor per CPU
        start = time.perf_counter()
        with RayExecutor(ExecutorConfig(executor="ray", ray_cpus=workers)) as executor:
            figures[f"cluster_{workers}_start_s"] = time.perf_counter() - start
            cold = timed_sweep(executor, tasks)
            warm = timed_sweep(executor, tasks)
            sweep[f"ray_{workers}_workers"] = {"cold_s": cold, "warm_s": warm,
                                               "speedup_vs_in_process": local / warm}
            start = time.perf_counter()
            play = RaySelfPlay(game, net, train, workers, executor.config)
            cold, _ = positions_per_s(play, net, 1)
            warm, _ = positions_per_s(play, net, 2)
            selfplay[f"ray_{workers}_actors"] = {
                "cold_positions_per_s": cold, "warm_positions_per_s": warm,
                "speedup_vs_in_process": warm / base_sp,
                "first_iteration_s": time.perf_counter() - start}
    figures |= {"sweep": sweep, "selfplay": selfplay}
    print(f"cluster start {figures['cluster_1_start_s']:.1f} s (1 CPU), "
          f"{figures['cluster_2_start_s']:.1f} s (2 CPUs); {os.cpu_count()} CPUs, load "
          f"{figures['load_average'][0]:.1f}")
    print(f"sweep of {cfg.tasks} LLC tasks: in-process {local:.2f} s "
          f"({sweep['per_task_s']:.2f} s a task)")
    for workers in (1, 2):
        s = sweep[f"ray_{workers}_workers"]
        print(f"  Ray, {workers} worker(s): {s['warm_s']:.2f} s warm ({s['cold_s']:.2f} s "
              f"cold), {s['speedup_vs_in_process']:.2f} x in-process")
    print(f"self-play of {cfg.games} games: in-process {base_sp:.0f} positions/s")
    for actors in (1, 2):
        s = selfplay[f"ray_{actors}_actors"]
        print(f"  Ray, {actors} actor(s): {s['warm_positions_per_s']:.0f} positions/s warm "
              f"({s['cold_positions_per_s']:.0f} cold), {s['speedup_vs_in_process']:.2f} x "
              "in-process")
    write_json(out, figures)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
