"""Time of PPO on mazes: seconds of training until the held-out success (sampled moves,
fresh mazes of the default size, within the step cap) first reaches a target, default 90%.

Trains the agent of scripts/maze_trajectory.py with the cheese anywhere, for `--arch` (default
vin, the value-iteration net; conv, the recurrent conv net with its own recipe), from scratch
into runs/mazes/bench-<arch> (timing the PPO updates only, not the held-out scoring at
checkpoints), then scores the final network on more fresh mazes, with sampled and with greedy
moves. Writes bench/maze.json (or
--out; the committed figures are results/trajectories/maze/bench.json). CPU seconds of one
thread (`time.process_time`) are the figure to compare: the machine is shared, so wall-clock
seconds depend on what else it runs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass, replace

from common.config import (
    add_config_flags,
    add_run_flags,
    at_least,
    config_dict,
    config_from_args,
    knob,
    positive,
    probability,
)
from common.io import REPO_ROOT, results_version, write_json
from common.process import setup_process
from common.runs import RunFolderError, check_file_writable
from mazes.misgeneralisation import rate
from mazes.net import ARCHS
from mazes.ppo import evaluate, train
from scripts.maze_trajectory import DEFAULT, agent_runs


@dataclass(frozen=True)
class MazeBenchConfig:
    arch: str = knob("vin", "network whose recipe is timed", choices=ARCHS)
    target: float = knob(0.9, "held-out success to reach", check=probability)
    updates: int | None = knob(None, "PPO updates at most (default: the recipe's, vin "
                               f"{DEFAULT.run.ppo.updates}, conv {DEFAULT.conv_updates})",
                               check=positive)
    checkpoints: int = knob(24, "log-spaced checkpoints at which success is scored",
                            check=positive)
    test_mazes: int = knob(1000, "fresh mazes for the final score", check=positive)
    seed: int = knob(0, "seed of the run", check=at_least(0))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_flags(p, MazeBenchConfig)
    add_run_flags(p, out="JSON file, default bench/maze.json")
    ns = p.parse_args(argv)
    args, _ = config_from_args(ns, MazeBenchConfig, MazeBenchConfig())
    out_json = ns.out or REPO_ROOT / "bench" / "maze.json"
    try:
        version = results_version(out_json.parent)
        check_file_writable(out_json)
    except RunFolderError as e:  # (a DirtyTreeError ends the run with its own one line)
        print(f"error: {e}", file=sys.stderr)
        return 2
    setup_process()
    recipe = agent_runs(replace(DEFAULT, archs=(args.arch,)))[f"{args.arch}-anywhere"]
    cfg = replace(recipe, seed=args.seed,
                  ppo=replace(recipe.ppo, updates=args.updates or recipe.ppo.updates,
                              checkpoints=args.checkpoints))
    run = REPO_ROOT / "runs" / "mazes" / f"bench-{args.arch}"
    shutil.rmtree(run, ignore_errors=True)
    start = time.perf_counter()
    state = train(cfg, run, progress=not ns.no_progress)
    wall = time.perf_counter() - start
    snaps = [m["snapshot"] for m in state.metrics if "snapshot" in m]
    reached = next((s for s in snaps if s["held_out_success"] >= args.target), None)
    sampled = evaluate(state.net, cfg.maze, args.test_mazes, args.seed + 1)
    greedy = evaluate(state.net, cfg.maze, args.test_mazes, args.seed + 1, greedy=True)
    out = {"code_version": version, "arch": args.arch, "config": config_dict(cfg),
           "target": args.target,
           **{f"{k}_to_target": None if reached is None else reached[v]
              for k, v in (("cpu_seconds", "train_cpu_seconds"), ("seconds", "train_seconds"),
                           ("update", "update"), ("env_steps", "env_steps"))},
           "train_cpu_seconds": round(state.cpu_seconds, 1),
           "train_seconds": round(state.seconds, 1), "wall_seconds": round(wall, 1),
           "final_test_success": rate(sampled.success),
           "final_test_success_greedy": rate(greedy.success),
           "checkpoints": [{k: s[k] for k in ("update", "env_steps", "train_cpu_seconds",
                                              "train_seconds", "held_out_success")}
                           for s in snaps]}
    write_json(out_json, out)
    hit = ("not reached" if reached is None else
           f"reached at update {reached['update']}, {reached['train_cpu_seconds']:.0f} CPU s "
           f"({reached['train_seconds']:.0f} s wall, {reached['env_steps']:,} steps)")
    print(f"{args.arch}: held-out success >= {args.target:.0%}: {hit}; training "
          f"{state.cpu_seconds:.0f} CPU s "
          f"({state.seconds:.0f} s wall); final {sampled.success.mean():.1%} sampled, "
          f"{greedy.success.mean():.1%} greedy of {args.test_mazes} fresh mazes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
