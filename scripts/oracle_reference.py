"""Write tests/data/oracle_reference_6x6.json: exact values of seeded random 6x6 positions with
17-20 empties from the old pure-Python solver (`othello.rules.solver`), an independent reference
that is too slow to recompute in the tests.

    python scripts/oracle_reference.py [--per-count 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from common.config import checked_type, positive
from othello.players.match import random_position
from othello.rules.solver import Solver
from scripts.solve_start import git_state

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "oracle_reference_6x6.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-count", type=checked_type(int, positive), default=2,
                        help="positions per number of empties")
    args = parser.parse_args(argv)
    git = git_state()  # before the long run, so later edits cannot blur it
    rng = np.random.default_rng(2026)
    jobs = [e for e in (17, 18, 19, 20) for _ in range(args.per_count)]
    positions = []
    for empties in tqdm(jobs, desc="old solver"):
        pos = random_position(6, empties, rng)
        start = time.perf_counter()
        value = Solver(6).solve(pos)[0]
        positions.append({"empties": empties, "me": pos.me, "opp": pos.opp,
                          "black_to_move": pos.black_to_move, "value": value,
                          "old_solver_seconds": round(time.perf_counter() - start, 2)})
    record = {"source": "othello.rules.solver.Solver (pure Python)", "seed": 2026,
              "positions": positions, **git}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {OUT} ({len(positions)} positions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
