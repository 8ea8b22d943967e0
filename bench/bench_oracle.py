"""Speed of the compiled engine: exact solves against the pure-Python solver on the same
positions (ratio measured in this run), solve times by number of empties on 6x6 (exact and
win/draw/loss), what one table saves over a whole game's positions, 8x8 perft to depth 11
(asserted), and cold / warm start of a fresh process (empty / filled numba cache).

Solve times are CPU seconds of this process (`time.process_time`; both solvers are single
threaded): other jobs on this shared machine inflate wall time but hardly CPU time.

    python bench/bench_oracle.py [--quick]   # prints a table, writes bench/oracle.json and
                                             # results/oracle/bench.json
The start proof itself is `scripts/solve_start.py` (its record: results/oracle/solve_6x6.json).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from othello.players.match import random_position
from othello.rules.board import Position
from othello.rules.engine import Engine, perft
from othello.rules.solver import Solver
from scripts.solve_start import git_state

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).with_name("oracle.json")
RESULT = ROOT / "results" / "oracle" / "bench.json"
PERFT_8_11 = 212_258_800
CLOCK = time.process_time  # CPU seconds of this process (see above)


def versus_old_solver(empties: int, count: int, rng: np.random.Generator) -> dict:
    """Both solvers on the same positions, fresh tables each, values checked equal. The table
    is sized to the problem (2^16 entries): zeroing a 2^20 one costs more than these searches."""
    new_s, old_s, new_nodes, old_nodes = [], [], [], []
    for _ in tqdm(range(count), desc=f"vs old solver, {empties} empties", leave=False):
        pos = random_position(6, empties, rng)
        engine = Engine(16)
        t = CLOCK()
        value = engine.value(pos)
        new_s.append(CLOCK() - t)
        new_nodes.append(engine.nodes)
        old = Solver(6)
        t = CLOCK()
        assert old.solve(pos)[0] == value
        old_s.append(CLOCK() - t)
        old_nodes.append(old.nodes)
    ratios = np.array(old_s) / np.array(new_s)
    return {"empties": empties, "positions": count, "new_total_s": sum(new_s),
            "old_total_s": sum(old_s), "speedup_total": sum(old_s) / sum(new_s),
            "speedup_median_per_position": float(np.median(ratios)),
            "speedup_min_per_position": float(ratios.min()),
            "new_nodes_per_s": sum(new_nodes) / sum(new_s),
            "old_nodes_per_s": sum(old_nodes) / sum(old_s)}


def solve_times(empties: int, count: int, rng: np.random.Generator) -> dict:
    """Exact margin and win/draw/loss of random positions, each with a fresh 2^22 table."""
    times, nodes, wld_times, wld_nodes = [], [], [], []
    for _ in tqdm(range(count), desc=f"solve {empties} empties", leave=False):
        pos = random_position(6, empties, rng)
        for fn, t_out, n_out in (("wld", wld_times, wld_nodes), ("value", times, nodes)):
            engine = Engine(22)
            t = CLOCK()
            getattr(engine, fn)(pos)
            t_out.append(CLOCK() - t)
            n_out.append(engine.nodes)
    return {"empties": empties, "positions": count, "median_s": float(np.median(times)),
            "max_s": float(np.max(times)), "median_nodes": float(np.median(nodes)),
            "nodes_per_s": sum(nodes) / sum(times), "wld_median_s": float(np.median(wld_times)),
            "wld_max_s": float(np.max(wld_times)),
            "wld_median_nodes": float(np.median(wld_nodes))}


def one_game(empties: int, rng: np.random.Generator) -> dict:
    """Exact values of every position of one random game from `empties` empties to the end:
    in one engine (its table carries over from each position to the next) against a fresh
    engine per position. After the first position, the shared table makes the rest nearly free
    (the next position is a child of one already solved)."""
    pos = random_position(6, empties, rng)
    game = [pos]
    while not pos.is_over():
        moves = pos.legal_moves()
        pos = pos.play(moves[int(rng.integers(len(moves)))])
        game.append(pos)
    shared, shared_s, fresh_nodes, fresh_s = Engine(22), [], [], []
    for pos in tqdm(game, desc=f"one game from {empties} empties", leave=False):
        t = CLOCK()
        want = shared.value(pos)
        shared_s.append(CLOCK() - t)
        engine = Engine(22)
        t = CLOCK()
        assert engine.value(pos) == want
        fresh_s.append(CLOCK() - t)
        fresh_nodes.append(engine.nodes)
    return {"empties": empties, "positions": len(game), "shared_table_s": sum(shared_s),
            "shared_table_nodes": shared.nodes, "first_position_s": shared_s[0],
            "rest_shared_s": sum(shared_s[1:]), "fresh_tables_s": sum(fresh_s),
            "fresh_tables_nodes": sum(fresh_nodes)}


STARTUP = ("import time; t = time.perf_counter(); from othello.rules.board import Position; "
           "from othello.rules.engine import Engine; Engine(12).solve(Position.start(4)); "
           "print(time.perf_counter() - t)")


def startup() -> dict:
    """Seconds from import to a first solve in a new process, cache empty then filled."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
        runs = []
        for _ in range(2):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", STARTUP], env=env, capture_output=True,
                                 text=True, check=True)
            runs.append({"in_process_s": float(out.stdout), "process_s":
                         time.perf_counter() - t})
    return {"cold": runs[0], "warm": runs[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer positions")
    args = parser.parse_args()
    git = git_state()
    rng = np.random.default_rng(0)
    n = 3 if args.quick else 10
    results: dict = {"git": git, "quick": args.quick,
                     "note": "2 vCPUs sharing one core, other jobs running; solve times are CPU "
                             "seconds of this process, start-up and perft wall seconds",
                     "load_average_before": os.getloadavg()}
    results["startup"] = startup()
    print(f"start-up: cold {results['startup']['cold']['process_s']:.1f} s, warm "
          f"{results['startup']['warm']['process_s']:.1f} s (whole process)")
    t = time.perf_counter()
    leaves = perft(Position.start(8), 11)
    assert leaves == PERFT_8_11, leaves
    results["perft_8x8_11"] = {"leaves": leaves, "seconds": time.perf_counter() - t}
    print(f"perft 8x8 depth 11: {leaves:,} in {results['perft_8x8_11']['seconds']:.2f} s")
    results["versus_old_solver"] = [versus_old_solver(e, n, rng) for e in (14, 16)]
    for r in results["versus_old_solver"]:
        print(f"{r['empties']} empties x{r['positions']}: old {r['old_total_s']:.1f} s, new "
              f"{r['new_total_s']:.2f} s: {r['speedup_total']:.0f}x in total, "
              f"{r['speedup_median_per_position']:.0f}x median per position")
    sizes = [(18, n), (20, n), (22, n), (24, max(2, n // 2)), (26, max(2, n // 3))]
    results["solve_6x6"] = [solve_times(e, c, rng) for e, c in sizes]
    for r in results["solve_6x6"]:
        print(f"solve {r['empties']} empties x{r['positions']}: median {r['median_s']:.2f} s, "
              f"max {r['max_s']:.2f} s, {r['median_nodes']:.2e} nodes, "
              f"{r['nodes_per_s'] / 1e6:.1f} M nodes/s; win/draw/loss median "
              f"{r['wld_median_s']:.2f} s")
    g = results["one_game_6x6"] = one_game(24 if args.quick else 26, rng)
    print(f"one game from {g['empties']} empties ({g['positions']} positions): one table "
          f"{g['shared_table_s']:.1f} s ({g['first_position_s']:.1f} s for the first, "
          f"{g['rest_shared_s']:.2f} s for the rest), fresh tables {g['fresh_tables_s']:.1f} s")
    results["load_average_after"] = os.getloadavg()
    text = json.dumps(results, indent=2) + "\n"
    OUT.write_text(text)
    if not args.quick:
        RESULT.parent.mkdir(parents=True, exist_ok=True)
        RESULT.write_text(text)
    print(f"wrote {OUT}" + ("" if args.quick else f" and {RESULT}"))


if __name__ == "__main__":
    main()
