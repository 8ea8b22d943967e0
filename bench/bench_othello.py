"""Engine speed: perft leaves per second (bitboards vs the naive 2-D reference, same run) for
6x6 and 8x8, and exact-solver time per position by number of empty squares on 6x6.

    python bench/bench_othello.py [--quick]      # prints a table, writes bench/othello.json
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from common.config import (
    add_config_flags,
    add_run_flags,
    at_least,
    config_dict,
    config_from_args,
    knob,
)
from common.io import write_json
from common.process import setup_process
from othello.players.match import random_position
from othello.rules import naive
from othello.rules.board import Position
from othello.rules.perft import perft
from othello.rules.solver import Solver

OUT = Path(__file__).with_name("othello.json")


@dataclass(frozen=True)
class OthelloBenchConfig:
    perft_depth: int = knob(9, "perft depth of the bitboard engine (6x6 and 8x8)",
                            check=at_least(1))
    naive_depth: int = knob(6, "perft depth of the naive 2-D reference", check=at_least(1))
    solver_empties: tuple[int, ...] = knob((10, 12, 14, 16), "6x6 solver: empty squares",
                                           check=at_least(1))
    solver_positions: int = knob(10, "6x6 solver: random positions per count of empties",
                                 check=at_least(1))
    seed: int = knob(0, "seed of the solver positions", check=at_least(0))


DEFAULT = OthelloBenchConfig()
QUICK = replace(DEFAULT, perft_depth=7, naive_depth=5, solver_empties=(10, 12),
                solver_positions=3)


def timed(fn, *args) -> tuple[object, float]:
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def bench_perft(size: int, depth: int, naive_depth: int) -> dict:
    leaves, seconds = timed(perft, Position.start(size), depth)
    ref_leaves, ref_seconds = timed(naive.perft, naive.start(size), naive.BLACK, naive_depth)
    fast = leaves / seconds
    slow = ref_leaves / ref_seconds
    return {"size": size, "depth": depth, "leaves": leaves, "seconds": seconds,
            "leaves_per_s": fast, "naive_depth": naive_depth, "naive_leaves_per_s": slow,
            "speedup_vs_naive": fast / slow}


def bench_solver(empties: int, positions: int, rng: np.random.Generator) -> dict:
    times, nodes = [], []
    for _ in range(positions):
        pos = random_position(6, empties, rng)
        solver = Solver(6)
        _, seconds = timed(solver.solve, pos)
        times.append(seconds)
        nodes.append(solver.nodes)
    return {"empties": empties, "positions": positions, "mean_s": float(np.mean(times)),
            "median_s": float(np.median(times)), "max_s": float(np.max(times)),
            "mean_nodes": float(np.mean(nodes)), "nodes_per_s": sum(nodes) / sum(times)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_flags(parser, out=f"JSON file of the figures (default {OUT.name} next to this file)",
                  quick="smaller depths and fewer positions")
    add_config_flags(parser, OthelloBenchConfig, presets={"quick": QUICK})
    args = parser.parse_args(argv)
    setup_process(plots=False)
    cfg, _ = config_from_args(args, OthelloBenchConfig, QUICK if args.quick else DEFAULT)
    rng = np.random.default_rng(cfg.seed)
    results = {"config": config_dict(cfg), "perft": [], "solver": []}
    print(f"{'size':>4} {'depth':>5} {'leaves':>10} {'leaves/s':>10} {'naive/s':>9} {'ratio':>6}")
    for size in (6, 8):
        r = bench_perft(size, cfg.perft_depth, cfg.naive_depth)
        results["perft"].append(r)
        print(f"{size:>4} {cfg.perft_depth:>5} {r['leaves']:>10} {r['leaves_per_s']:>10.0f} "
              f"{r['naive_leaves_per_s']:>9.0f} {r['speedup_vs_naive']:>5.0f}x", flush=True)
    print(f"\n6x6 solver\n{'empties':>7} {'mean s':>7} {'median':>7} {'max s':>7} {'nodes':>8} "
          f"{'nodes/s':>8}")
    for empties in cfg.solver_empties:
        r = bench_solver(empties, cfg.solver_positions, rng)
        results["solver"].append(r)
        print(f"{empties:>7} {r['mean_s']:>7.3f} {r['median_s']:>7.3f} {r['max_s']:>7.3f} "
              f"{r['mean_nodes']:>8.0f} {r['nodes_per_s']:>8.0f}", flush=True)
    out = args.out or OUT
    write_json(out, results)
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
