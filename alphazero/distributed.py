"""Self-play split over N workers: Ray actors (`--executor ray --selfplay-workers N`) or, with the
same results, N workers in this process.

Each iteration the trainer publishes its network's weights (one `ray.put`), every worker plays
its share of the iteration's games with the existing batched self-play (`alphazero.selfplay`),
its random draws seeded by (run seed, iteration, worker), and the trainer concatenates their
examples in worker order into the replay buffer. So a run is reproducible, resumes from its
checkpoint like any run (the seeds do not depend on what ran before), and gives the same
network on Ray as in-process; it differs from a run without workers, whose self-play draws from
the trainer's own random stream. A worker's process that dies is restarted by Ray and its share
replayed (`max_restarts`, `max_task_retries`).

The settings are stored in the run folder (`selfplay.json`), so `--resume` keeps them.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from alphazero.config import TrainConfig
from alphazero.evaluators import CachedEvaluator, network_evaluator
from alphazero.game import Game
from alphazero.selfplay import Examples, SelfPlayStats, self_play
from common.executor import ExecutorConfig, import_ray
from common.io import read_json, write_json

SETTINGS = "selfplay.json"


def shares(games: int, workers: int) -> list[int]:
    """Games per worker: as even as possible, the first ones one more."""
    return [games // workers + (i < games % workers) for i in range(workers)]


class SelfPlayWorker:
    """One worker's self-play: its own copy of the network, loaded with each iteration's weights.
    A plain class: run here as is, or as a Ray actor."""

    def __init__(self, game: Game, net: torch.nn.Module, config: TrainConfig, index: int,
                 workers: int):
        self.game, self.net, self.config = game, net.eval(), config
        self.index, self.games = index, shares(config.games_per_iteration, workers)[index]

    def play(self, weights: dict, iteration: int) -> tuple[Examples, dict]:
        """This worker's share of iteration `iteration` (counted from 1) with `weights`."""
        cfg = self.config
        self.net.load_state_dict(weights)
        rng = np.random.default_rng([cfg.seed, iteration, self.index])
        evaluate = CachedEvaluator(network_evaluator(self.game, self.net))
        data, stats = self_play(self.game, evaluate, self.games, cfg.concurrent_games,
                                cfg.search, cfg.temperature_plies, rng,
                                search_value_weight=cfg.search_value_weight,
                                full_share=cfg.full_search_share, cheap=cfg.cheap_search(),
                                opening_plies=cfg.opening_plies)
        return data, {"games": stats.games, "first_player_score": stats.first_player_score,
                      "moves": stats.moves}


def _combine(parts: list[tuple[Examples, dict]], seconds: float) -> tuple[Examples, SelfPlayStats]:
    data = Examples.concat([examples for examples, _ in parts])
    games = sum(s["games"] for _, s in parts)
    score = sum(s["first_player_score"] * s["games"] for _, s in parts) / max(games, 1)
    return data, SelfPlayStats(games=games, positions=len(data), seconds=seconds,
                               first_player_score=float(score),
                               moves=sum(s["moves"] for _, s in parts))


def _cpu_weights(net: torch.nn.Module) -> dict:
    return {k: v.detach().to("cpu") for k, v in net.state_dict().items()}


class LocalSelfPlay:
    """The workers one after the other in this process (same examples as on Ray)."""

    def __init__(self, game: Game, net: torch.nn.Module, config: TrainConfig, workers: int):
        self.workers = [SelfPlayWorker(game, copy.deepcopy(net).cpu(), config, i, workers)
                        for i in range(workers)]

    def __call__(self, net: torch.nn.Module, iteration: int,
                 progress: Callable[[int], Any] | None = None) -> tuple[Examples, SelfPlayStats]:
        start, weights, parts = time.perf_counter(), _cpu_weights(net), []
        for worker in self.workers:
            parts.append(worker.play(weights, iteration))
            if progress is not None:
                progress(parts[-1][1]["games"])
        return _combine(parts, time.perf_counter() - start)


class RaySelfPlay:
    """N Ray actors (`cpus_per_task` CPUs each); the weights go to the object store once per
    iteration. Needs a connected Ray (`common.executor.RayExecutor`)."""

    def __init__(self, game: Game, net: torch.nn.Module, config: TrainConfig, workers: int,
                 executor: ExecutorConfig):
        ray = import_ray()
        actor = ray.remote(SelfPlayWorker).options(
            num_cpus=executor.cpus_per_task, max_restarts=executor.task_retries,
            max_task_retries=executor.task_retries)
        template = copy.deepcopy(net).cpu()
        self.actors = [actor.remote(game, template, config, i, workers) for i in range(workers)]

    def __call__(self, net: torch.nn.Module, iteration: int,
                 progress: Callable[[int], Any] | None = None) -> tuple[Examples, SelfPlayStats]:
        ray = import_ray()
        start = time.perf_counter()
        weights = ray.put(_cpu_weights(net))
        refs = [a.play.remote(weights, iteration) for a in self.actors]
        order, parts = {r: i for i, r in enumerate(refs)}, [None] * len(refs)
        waiting = list(refs)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1)
            parts[order[ready[0]]] = ray.get(ready[0])
            if progress is not None:
                progress(parts[order[ready[0]]][1]["games"])
        return _combine(parts, time.perf_counter() - start)


def workers_for_run(run_dir: str | Path, typed: int | None, resuming: bool) -> int:
    """The run's number of self-play workers: what `selfplay.json` says when resuming (a typed
    different value is refused), else the typed value (default 0); saved for the next resume."""
    path = Path(run_dir) / SETTINGS
    saved = read_json(path)["selfplay_workers"] if resuming and path.is_file() else None
    if resuming and saved is None:
        saved = 0  # a run made before workers existed
    if saved is not None and typed is not None and typed != saved:
        raise ValueError(f"{run_dir} was trained with --selfplay-workers {saved}; resume it "
                         "with that (the seeds of its self-play depend on it)")
    workers = saved if saved is not None else (typed or 0)
    write_json(path, {"selfplay_workers": workers})
    return workers
