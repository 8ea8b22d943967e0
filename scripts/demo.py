"""`make demo`: run every stage of the project on its quick settings, one after another.

Each stage is one of the project's own entry points, called exactly as the README shows it, so
the demo also proves that those commands work. Later stages append themselves to STAGES.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STAGES: list[tuple[str, list[str]]] = [
    ("Othello: a short match between classic players",
     ["othello/play.py", "--games", "4", "--p1", "alphabeta:3", "--p2", "greedy", "--seed", "0"]),
    ("AlphaZero: a quick training run (batched self-play, training, evaluation)",
     ["train_alphazero.py", "--quick", "--restart"]),
    ("Trajectories: the quick run's policy on probe positions across its checkpoints",
     ["scripts/policy_trajectory.py", "--quick"]),
    ("AlphaZero: the pretrained agent (MCTS, 50 simulations) against alpha-beta depth 3",
     ["othello/play.py", "--games", "4", "--p1", "alphazero", "--p2", "alphabeta:3",
      "--seed", "0"]),
    ("Toy models: quick sparsity sweep (training, LLC, polygon GIFs)",
     ["scripts/sweep_sparsity.py", "--quick"]),
    ("Persian rug: untied toy models vs the symmetric semi-analytic optimum",
     ["scripts/persian_rug.py", "--quick"]),
    ("SAEs: the agent's block-2 activations (20k positions), a small grid, held-out metrics",
     ["train_sae.py", "--quick"]),
    ("Feature browser: vis data for the quick SAEs (then browse with the printed command)",
     ["vis/generate_vis_data.py", "--quick"]),
]


def main() -> int:
    for title, argv in STAGES:
        print(f"\n=== {title}\n$ python {' '.join(argv)}", flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, *argv], cwd=ROOT)
        if result.returncode != 0:
            print(f"demo stage failed ({title}), exit code {result.returncode}", file=sys.stderr)
            return result.returncode
        print(f"--- done in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
