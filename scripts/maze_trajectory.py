"""Maze policies over training, and goal misgeneralisation, for two architectures.

Trains four PPO agents on procedurally generated mazes: a value-iteration net (`vin`, the
maze's moves built in) and a recurrent conv net (`conv`, everything learned), each once with the
cheese anywhere and once with the cheese always in the top-right corner region (after Langosco
et al. 2022). For each it writes vector-field GIFs (an arrow per open square: x = p(right) -
p(left), y = p(up) - p(down), one frame per checkpoint beside the return and loss curves), the
logits at decision squares, curves and a PCA of the fields into <out>/<arch>-<cheese>/; then it
tests all four with the cheese outside the corner and writes success rates, how often the mouse
heads for the corner instead, and the final fields side by side (misgeneralisation.png). The
PPO flags (--updates, --curriculum, ...) set the vin agent's recipe; the conv agents take the
same flags except their own --conv-updates, --conv-corner-updates and --conv-curriculum. Runs
go to runs/mazes/<name>-<arch>-<cheese>/ (a finished run with the same config is reused).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from common.config import (
    add_config_flags,
    add_run_flags,
    at_least,
    config_dict,
    config_from_args,
    knob,
    probability,
)
from common.io import (
    REPO_ROOT,
    CheckpointError,
    results_version,
    say_reused,
    write_json,
)
from common.process import setup_process
from common.runs import RunFolderError, check_writable, open_run
from mazes.net import ARCHS
from mazes.ppo import PPOConfig, RunConfig


@dataclass(frozen=True)
class MazeTrajectoryConfig:
    """The training runs (each arch with the cheese anywhere and in the corner) and the
    misgeneralisation test; `run` is the vin agent's recipe, the conv fields override it."""

    run: RunConfig = RunConfig()
    archs: tuple[str, ...] = knob(ARCHS, "architectures to train", choices=ARCHS)
    corner_updates: int = knob(8, "PPO updates of the corner-trained vin agent",
                               check=at_least(1))
    conv_updates: int = knob(30, "PPO updates of the conv agent (cheese anywhere)",
                             check=at_least(1))
    conv_corner_updates: int = knob(20, "PPO updates of the corner-trained conv agent",
                                    check=at_least(1))
    conv_curriculum: float = knob(0.5, "curriculum of the conv agents (as --curriculum)",
                                  check=probability)
    test_mazes: int = knob(1000, "fresh test mazes per condition", check=at_least(1))


DEFAULT = MazeTrajectoryConfig()
QUICK = replace(DEFAULT, corner_updates=1, conv_updates=2, conv_corner_updates=1, test_mazes=200,
                run=replace(DEFAULT.run, ppo=replace(PPOConfig(), updates=2, checkpoints=3,
                                                     eval_mazes=32)))


def agent_runs(cfg: MazeTrajectoryConfig) -> dict[str, RunConfig]:
    """'<arch>-anywhere' and '<arch>-corner' for every arch in `cfg.archs`, with that arch's
    updates and curriculum."""
    recipes = {"vin": (cfg.run.ppo.updates, cfg.corner_updates, cfg.run.ppo.curriculum),
               "conv": (cfg.conv_updates, cfg.conv_corner_updates, cfg.conv_curriculum)}
    runs = {}
    for arch in cfg.archs:
        anywhere, corner, curriculum = recipes[arch]
        for cheese, updates in (("anywhere", anywhere), ("corner", corner)):
            runs[f"{arch}-{cheese}"] = replace(
                cfg.run, maze=replace(cfg.run.maze, cheese=cheese),
                net=replace(cfg.run.net, arch=arch),
                ppo=replace(cfg.run.ppo, updates=updates, curriculum=curriculum))
    return runs


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, MazeTrajectoryConfig]:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_flags(p, out="default results/trajectories/maze; --quick: runs/mazes/quick-report",
                  quick="a minute or two: vin 2 + 1 updates, conv 2 + 1, 3 checkpoints, "
                        "200 test mazes",
                  device=True)
    p.add_argument("--run-name", default=None,
                   help="runs/mazes/<name>-<arch>-<cheese> (default 'default'; --quick 'quick')")
    p.add_argument("--runs", type=Path, default=REPO_ROOT / "runs" / "mazes",
                   help="folder of the run folders (default runs/mazes)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from its last saved state")
    add_config_flags(p, MazeTrajectoryConfig, presets={"quick": QUICK}, skip=("cheese", "arch"))
    args = p.parse_args(argv)
    cfg, _ = config_from_args(args, MazeTrajectoryConfig, QUICK if args.quick else DEFAULT)
    if cfg.run.maze.corner > cfg.run.maze.size:
        p.error(f"--corner ({cfg.run.maze.corner}) must not exceed --size ({cfg.run.maze.size})")
    name = args.run_name or ("quick" if args.quick else "default")
    if not name or "/" in name:
        p.error(f"--run-name must be a plain folder name, got {name!r}")
    args.run_name = name
    cfg = replace(cfg, archs=tuple(dict.fromkeys(cfg.archs)))
    args.out = args.out or REPO_ROOT / ("runs/mazes/quick-report" if args.quick
                                        else "results/trajectories/maze")
    return args, cfg


def trained(cfg: RunConfig, run_dir: Path, resume: bool, progress: bool, device: str):
    """A finished run in `run_dir`: reused when its config matches, resumed with --resume,
    trained otherwise; refuses to mix configs in one folder."""
    from mazes.ppo import read_config, train

    if (run_dir / "state.pt").is_file():
        stored = read_config(run_dir)
        if stored != cfg:
            changed = [k for k, v in config_dict(cfg).items() if config_dict(stored)[k] != v]
            raise SystemExit(f"error: {run_dir} was trained with other settings "
                             f"({', '.join(changed)} differ); pass --run-name for a new run")
        from mazes.ppo import load_state

        state, finished = load_state(run_dir, cfg)
        if finished:
            say_reused("maze run", run_dir)
            return state
        if not resume:
            raise SystemExit(f"error: {run_dir} holds an unfinished run: pass --resume to "
                             "continue it, or --run-name for a new one")
        print(f"resuming {run_dir} from update {state.update}", flush=True)
    return train(cfg, run_dir, progress, resume=True, device=device)


def main(argv: list[str] | None = None) -> int:
    args, cfg = parse_args(argv)
    setup_process()
    try:
        version = results_version(args.out)
        check_writable(args.out)
    except RunFolderError as e:  # (a DirtyTreeError ends the run with its own one line)
        print(f"error: {e}", file=sys.stderr)
        return 2
    from common.device import resolve_device

    device = str(resolve_device(args.device))
    runs = {label: (run_cfg, args.runs / f"{args.run_name}-{label}")
            for label, run_cfg in agent_runs(cfg).items()}
    with contextlib.ExitStack() as locks:
        try:  # one writer per run folder: a second run into the same folders is refused
            for _, run_dir in runs.values():
                locks.enter_context(open_run(run_dir, "maze", own_files=("state.pt",)))
        except RunFolderError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        return _run(args, cfg, runs, version, device, sys.argv[1:] if argv is None else argv)


def _run(args: argparse.Namespace, cfg: MazeTrajectoryConfig, runs: dict, version: str,
         device: str, argv: list[str]) -> int:
    """Train (or reuse) every run, then write the fields, curves and misgeneralisation."""
    from mazes.fields import field_logits, net_policy, probe_mazes
    from mazes.misgeneralisation import corner_test, rate
    from mazes.plots import plot_fields
    from mazes.ppo import evaluate
    from mazes.report import write_maze_report

    meta = {"config": config_dict(cfg), "seed": cfg.run.seed, "quick": args.quick,
            "code_version": version, "argv": argv}
    probes = probe_mazes(cfg.run.maze, cfg.run.seed)
    summary, nets = {}, {}
    start = time.perf_counter()
    for label, (run_cfg, run_dir) in runs.items():
        try:
            state = trained(run_cfg, run_dir, args.resume, not args.no_progress, device)
        except CheckpointError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        net = state.net.cpu().eval()
        nets[label] = net
        test = evaluate(net, run_cfg.maze, cfg.test_mazes, run_cfg.seed)
        summary[label] = {"run": str(run_dir), "updates": state.update,
                          "env_steps": state.env_steps,
                          "train_seconds": round(state.seconds, 1),
                          "train_cpu_seconds": round(state.cpu_seconds, 1),
                          "held_out_success": rate(test.success),
                          "held_out_mean_steps": round(float(test.steps.mean()), 2)}
        report = write_maze_report(run_dir, args.out / label, probes, {**meta, "agent": label},
                                   not args.no_progress)
        summary[label]["frames"] = report["frames"]
        print(f"{label:>13} agent: held-out success {test.success.mean():.1%} of "
              f"{cfg.test_mazes} mazes (cheese {run_cfg.maze.cheese}), trained "
              f"{state.cpu_seconds:.0f} CPU s ({state.seconds:.0f} s wall) for "
              f"{state.env_steps:,} steps", flush=True)
    summary["misgeneralisation"] = {label: corner_test(net, cfg.run.maze, cfg.test_mazes,
                                                       cfg.run.seed)
                                    for label, net in nets.items()}
    panels = [(f"{label} agent, probe {probe.name}", probe,
               _probs(field_logits(net_policy(nets[label]), probe)))
              for probe in (probes[1], probes[2]) for label in sorted(nets)]
    plot_fields(args.out / "misgeneralisation.png", panels, cfg.run.maze.corner,
                columns=len(nets))
    write_json(args.out / "summary.json", summary)
    write_json(args.out / "meta.json", {**meta, "runs": {k: str(v[1]) for k, v in runs.items()}})
    for label, test in summary["misgeneralisation"].items():
        s, c = test["success_cheese_elsewhere"], test["elsewhere_corner_before_cheese"]
        print(f"{label:>13} agent, cheese outside the corner: success {s['share']:.1%} "
              f"{s['wilson95']}, corner before cheese {c['share']:.1%} {c['wilson95']}; "
              f"cheese in the corner: success "
              f"{test['success_cheese_in_corner']['share']:.1%}")
    print(f"wrote {args.out} in {time.perf_counter() - start:.0f} s")
    return 0


def _probs(logits):
    from mazes.fields import softmax

    return softmax(logits)


if __name__ == "__main__":
    sys.exit(main())
