"""Ablations at equal CPU time: train listed variants of the recipe, score each against a player.

    python bench/bench_ablation.py --variant base: --variant exact:--exact-empties=14 \\
        --cpu-budget-s 420 --games 40 --out results/alphazero/ablations/targets.json

A variant is `name:flags`, its flags (comma-separated, `--flag=value` or `--flag`) typed on top
of the common training command: `train_alphazero.py --out <runs>/<name> --cpu-budget-s B
--seed S --eval-games 0 --endgames 0`, so every variant trains for the same CPU seconds of
self-play and training (`TrainConfig.cpu_budget_s`: its learning rate decays over the budget)
from the same seed. Each trained network is then scored by `bench/bench_alphazero_strength.py`
against --opponent over --games games (--games / 2 distinct openings, both colours, Wilson 95%
intervals) and, with --judged-games, by whole-game move accuracy judged by the oracle. Every
stage runs as its own process (CPU seconds are per process) and is skipped when its output is
already there, so a killed ablation resumes. Prints a table and writes JSON (--out).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from common.config import one_line_errors
from common.io import REPO_ROOT, command_line, results_version, write_json

RUNS = REPO_ROOT / "runs" / "ablation"
OUT = REPO_ROOT / "bench" / "ablation.json"


def parse_variant(text: str) -> tuple[str, list[str]]:
    """`name:--a=1,--b` -> ("name", ["--a=1", "--b"])."""
    name, sep, flags = text.partition(":")
    if not sep or not name or not name.replace("-", "").replace("_", "").isalnum():
        raise argparse.ArgumentTypeError(f"expected NAME:--flag=value,..., got {text!r}")
    out = [f for f in flags.split(",") if f]
    bad = [f for f in out if not f.startswith("--")]
    if bad:
        raise argparse.ArgumentTypeError(f"variant {name}: flags start with --, got {bad[0]!r}")
    return name, out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--variant", type=parse_variant, action="append", required=True,
                   help="NAME:FLAGS, the training flags of one variant (repeat the option)")
    p.add_argument("--cpu-budget-s", type=float, default=420.0,
                   help="CPU seconds of self-play and training per variant (default 420)")
    p.add_argument("--seed", type=int, default=0, help="training seed of every variant")
    p.add_argument("--games", type=int, default=40,
                   help="scoring games per variant (games / 2 openings x both colours)")
    p.add_argument("--opponent", default="alphabeta:4", help="player spec scored against")
    p.add_argument("--simulations", type=int, default=50, help="MCTS simulations when scoring")
    p.add_argument("--judged-games", type=int, default=0,
                   help="scoring games whose every agent move the oracle judges (slow)")
    p.add_argument("--runs", type=Path, default=RUNS, help="where the variants' runs go")
    p.add_argument("--out", type=Path, default=OUT, help="JSON of the table")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    one_line_errors(p)
    return p


def _run(cmd: list[str]) -> None:
    print("$ " + " ".join(cmd[1:]), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO_ROOT)


def train(name: str, flags: list[str], args: argparse.Namespace) -> Path:
    run = args.runs / name
    cmd = [sys.executable, str(REPO_ROOT / "train_alphazero.py"), "--out", str(run),
           "--cpu-budget-s", str(args.cpu_budget_s), "--seed", str(args.seed),
           "--eval-games", "0", "--endgames", "0", *flags]
    if (run / "checkpoint.pt").exists():
        cmd.append("--resume")  # a finished run just reports
    if args.no_progress:
        cmd.append("--no-progress")
    _run(cmd)
    return run


def score(run: Path, args: argparse.Namespace) -> dict:
    out = run / f"strength_{args.opponent.replace(':', '')}_{args.games}_{args.judged_games}.json"
    if not out.exists():
        _run([sys.executable, str(REPO_ROOT / "bench" / "bench_alphazero_strength.py"),
              "--checkpoint", str(run / "checkpoint.pt"), "--opponents", args.opponent,
              "--eval-games", str(args.games), "--endgames", "0",
              "--judged-games", str(args.judged_games), "--simulations", str(args.simulations),
              "--out", str(out), *(["--no-progress"] if args.no_progress else [])])
    return json.loads(out.read_text())


def row(name: str, flags: list[str], run: Path, strength: dict, opponent: str) -> dict:
    metrics = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    last = metrics[-1]
    wins, draws, losses = strength["wdl"][opponent]
    accuracy = strength.get("move_accuracy") or {}
    return {"variant": name, "flags": flags, "iterations": last["iteration"],
            "cpu_seconds": last.get("cpu_seconds"),
            "selfplay_games": sum(m["selfplay_games"] for m in metrics),
            "selfplay_positions": sum(m["selfplay_positions"] for m in metrics),
            "train_steps": last["steps"], "games": wins + draws + losses,
            "wdl": [wins, draws, losses], "score": strength["scores"][f"score_vs_{opponent}"],
            "wilson95": strength["wilson95"][opponent],
            "keeps_outcome": accuracy.get("keeps_outcome"),
            "discs_given_away_per_game": accuracy.get("discs_given_away_per_game")}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    names = [n for n, _ in args.variant]
    if len(set(names)) != len(names):
        print("error: --variant names must differ", file=sys.stderr)
        return 2
    version = results_version(args.out.parent)
    start = time.perf_counter()
    rows = []
    try:
        for name, flags in args.variant:
            run = train(name, flags, args)
            rows.append(row(name, flags, run, score(run, args), args.opponent))
    except subprocess.CalledProcessError as exc:
        print(f"error: a stage failed with exit code {exc.returncode}: "
              f"{' '.join(map(str, exc.cmd[1:]))}", file=sys.stderr)
        return 1
    print(f"\n{'variant':14s} {'CPU s':>7s} {'iters':>5s} {'games':>7s} "
          f"{'score vs ' + args.opponent:>20s} {'95% CI':>13s} {'keeps outcome':>13s}")
    for r in rows:
        keeps = "" if r["keeps_outcome"] is None else f"{r['keeps_outcome']:.3f}"
        print(f"{r['variant']:14s} {r['cpu_seconds']:7.0f} {r['iterations']:5d} "
              f"{r['selfplay_games']:7d} {r['score']:20.3f} "
              f"{r['wilson95'][0]:6.3f}-{r['wilson95'][1]:.3f} {keeps:>13s}")
    write_json(args.out, {"rows": rows, "cpu_budget_s": args.cpu_budget_s, "seed": args.seed,
                          "opponent": args.opponent, "games": args.games,
                          "simulations": args.simulations, "judged_games": args.judged_games,
                          "code_version": version, "command": command_line(__file__, argv),
                          "seconds": time.perf_counter() - start})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
