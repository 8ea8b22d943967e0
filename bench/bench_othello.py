"""Engine speed: perft leaves per second (bitboards vs the naive 2-D reference, same run) for
6x6 and 8x8, and exact-solver time per position by number of empty squares on 6x6.

    python bench/bench_othello.py [--quick]      # prints a table, writes bench/othello.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from othello.players.match import random_position
from othello.rules import naive
from othello.rules.board import Position
from othello.rules.perft import perft
from othello.rules.solver import Solver

OUT = Path(__file__).with_name("othello.json")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller depths and fewer positions")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    perft_runs = [(6, 7, 5), (8, 7, 5)] if args.quick else [(6, 9, 6), (8, 9, 6)]
    solver_runs = [(10, 3), (12, 3)] if args.quick else [(10, 10), (12, 10), (14, 10), (16, 10)]
    results = {"perft": [], "solver": []}
    print(f"{'size':>4} {'depth':>5} {'leaves':>10} {'leaves/s':>10} {'naive/s':>9} {'ratio':>6}")
    for size, depth, naive_depth in perft_runs:
        r = bench_perft(size, depth, naive_depth)
        results["perft"].append(r)
        print(f"{size:>4} {depth:>5} {r['leaves']:>10} {r['leaves_per_s']:>10.0f} "
              f"{r['naive_leaves_per_s']:>9.0f} {r['speedup_vs_naive']:>5.0f}x", flush=True)
    print(f"\n6x6 solver\n{'empties':>7} {'mean s':>7} {'median':>7} {'max s':>7} {'nodes':>8} "
          f"{'nodes/s':>8}")
    for empties, count in solver_runs:
        r = bench_solver(empties, count, rng)
        results["solver"].append(r)
        print(f"{empties:>7} {r['mean_s']:>7.3f} {r['median_s']:>7.3f} {r['max_s']:>7.3f} "
              f"{r['mean_nodes']:>8.0f} {r['nodes_per_s']:>8.0f}", flush=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main()
