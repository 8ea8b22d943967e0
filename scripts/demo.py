"""`make demo`: run every stage of the project on its quick settings, one after another.

Each stage is one of the project's own entry points, called exactly as the README shows it, so
the demo also proves that those commands work. A stage that skips work it finds already done says
so on a line starting with "reusing" (see `common.io.say_reused`); the demo collects those lines
into its closing summary, next to each stage's time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    argv: tuple[str, ...]
    writes: str  # what the stage leaves behind, for the summary


STAGES: tuple[Stage, ...] = (
    Stage("play", "Othello: a short match between classic players",
          ("othello/play.py", "--games", "4", "--p1", "alphabeta:3", "--p2", "greedy",
           "--seed", "0"), "the match result (printed)"),
    Stage("oracle", "Perfect play: the whole 4x4 game proven from scratch (White wins 11-3)",
          ("scripts/solve_start.py", "--size", "4", "--fresh", "--export", "none",
           "--cache", "runs/oracle/demo_4x4.sqlite", "--out", "runs/oracle/solve_4x4.json"),
          "runs/oracle/solve_4x4.json"),
    Stage("alphazero", "AlphaZero: a quick training run (batched self-play, training, evaluation)",
          ("train_alphazero.py", "--quick", "--restart"), "runs/alphazero/quick/"),
    Stage("trajectories", "Trajectories: the quick run's policy on probe positions across its "
          "checkpoints", ("scripts/policy_trajectory.py", "--quick"),
          "runs/trajectories/quick/"),
    Stage("agent", "AlphaZero: the pretrained agent (MCTS, 50 simulations) against alpha-beta "
          "depth 3", ("othello/play.py", "--games", "4", "--p1", "alphazero", "--p2",
                      "alphabeta:3", "--seed", "0"), "the match result (printed)"),
    Stage("toymodels", "Toy models: quick sparsity sweep (training, LLC, polygon GIFs)",
          ("scripts/sweep_sparsity.py", "--quick"), "runs/toymodels/quick/, quick_run/"),
    Stage("persian-rug", "Persian rug: untied toy models vs the symmetric semi-analytic optimum",
          ("scripts/persian_rug.py", "--quick"), "runs/persian_rug/quick/"),
    Stage("mazes", "Mazes: PPO agents, policy vector fields over training, goal misgeneralisation",
          ("scripts/maze_trajectory.py", "--quick"), "runs/mazes/quick*, runs/mazes/quick-report/"),
    Stage("sae", "SAEs: the agent's block-2 activations (20k positions), a small grid, "
          "held-out metrics", ("train_sae.py", "--quick"),
          "runs/activations/agent-quick/, runs/sae/agent-quick/"),
    Stage("vis", "Feature browser: vis data for the quick SAEs (then browse with the printed "
          "command)", ("vis/generate_vis_data.py", "--quick"),
          "vis/data/ (git-ignored; serve vis/)"),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Run every stage of the project on its quick settings (what `make demo` "
                    "runs); a stage that finds its work done reuses it and says so.",
        epilog="stages: " + ", ".join(s.name for s in STAGES))
    p.add_argument("--only", nargs="+", metavar="STAGE", choices=[s.name for s in STAGES],
                   help="run only these stages (in the demo's order)")
    p.add_argument("--list", action="store_true", help="list the stages and their commands")
    return p.parse_args(argv)


def run_stage(stage: Stage) -> tuple[int, list[str]]:
    """Run one stage, echoing its output; return its exit code and its "reusing" lines."""
    proc = subprocess.Popen([sys.executable, *stage.argv], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, bufsize=1)
    reused = []
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
        if line.lower().startswith("reusing"):
            reused.append(line.strip())
    return proc.wait(), reused


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stages = [s for s in STAGES if not args.only or s.name in args.only]
    if args.list:
        for s in stages:
            print(f"{s.name:13} python {' '.join(s.argv)}")
        return 0
    summary = []
    try:
        for stage in stages:
            print(f"\n=== {stage.title}\n$ python {' '.join(stage.argv)}", flush=True)
            start = time.perf_counter()
            code, reused = run_stage(stage)
            seconds = time.perf_counter() - start
            if code != 0:
                print(f"demo stage '{stage.name}' failed with exit code {code}", file=sys.stderr)
                return code
            print(f"--- done in {seconds:.1f} s", flush=True)
            summary.append((stage, seconds, reused))
    except KeyboardInterrupt:
        print("\ndemo interrupted (finished stages keep their outputs)", file=sys.stderr)
        return 130
    print("\n=== Summary")
    for stage, seconds, reused in summary:
        note = f"; {len(reused)} reused: " + " | ".join(reused) if reused else ""
        print(f"{stage.name:13} {seconds:6.1f} s  wrote {stage.writes}{note}")
    print(f"total {sum(s for _, s, _ in summary):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
