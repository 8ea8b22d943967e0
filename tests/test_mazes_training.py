"""PPO on the tiny corridor maze (a 3x3 grid: four cells, always one corridor) for both
architectures, exact resume, the refusal of another architecture's checkpoints, the trajectory
report (one GIF frame per checkpoint) and the entry point's CLI."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import imageio.v2 as imageio
import pytest
import torch

from common.io import CheckpointError
from mazes.env import MazeConfig
from mazes.fields import field_logits, net_policy, probe_mazes, softmax
from mazes.net import NetConfig
from mazes.ppo import (
    PPOConfig,
    RunConfig,
    checkpoint_updates,
    evaluate,
    fresh_state,
    load_state,
    read_config,
    start_reach,
    train,
)
from mazes.report import is_maze_run, write_maze_report

TINY = RunConfig(maze=MazeConfig(size=3, corner=1, max_steps=20), net=NetConfig(passes=6),
                 ppo=replace(PPOConfig(), envs=32, rollout=32, updates=8, checkpoints=5,
                             eval_mazes=64))
# the conv net learns the corridor more slowly, with the conv recipe's curriculum
TINY_CONV = replace(TINY, net=NetConfig(arch="conv", channels=8, iterations=3),
                    ppo=replace(TINY.ppo, updates=20, curriculum=0.5))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default architecture (vin) trained on the corridor."""
    run = tmp_path_factory.mktemp("maze") / "tiny"
    train(TINY, run, progress=False)
    return run


@pytest.fixture(scope="module")
def tiny_conv_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("maze") / "tiny-conv"
    train(TINY_CONV, run, progress=False)
    return run


def test_checkpoint_updates_are_log_spaced_from_zero() -> None:
    assert checkpoint_updates(100, 4) == [0, 1, 10, 100]
    assert checkpoint_updates(3, 16) == [0, 1, 2, 3]


def test_curriculum_widens_the_start_from_one_move_to_anywhere() -> None:
    cfg = replace(RunConfig(), ppo=replace(PPOConfig(), updates=100, curriculum=0.5))
    reach = [start_reach(u, cfg) for u in range(100)]
    assert reach[0] == 1 and reach[25] == 1 + 47 // 2 and reach[49] == 48 - 1
    assert reach[50:] == [None] * 50  # 9x9: 25 cells, 49 open squares, paths of up to 48
    assert all(a <= b for a, b in zip(reach[:48], reach[1:49], strict=True))
    none = replace(cfg, ppo=replace(cfg.ppo, curriculum=0.0))
    assert start_reach(0, none) is None


@pytest.mark.parametrize("arch", ["vin", "conv"])
def test_ppo_learns_the_corridor(arch: str, request: pytest.FixtureRequest) -> None:
    run, cfg = ((request.getfixturevalue("tiny_run"), TINY) if arch == "vin"
                else (request.getfixturevalue("tiny_conv_run"), TINY_CONV))
    first = json.loads((run / "metrics.jsonl").read_text().splitlines()[0])
    before = first["snapshot"]["held_out_success"]
    state = fresh_state(cfg)
    assert state.net.arch == arch
    state.net.load_state_dict(torch.load(run / "state.pt", weights_only=True)["model"])
    after = evaluate(state.net, cfg.maze, 200, seed=5)
    assert before < 0.8 and after.success.mean() > 0.95
    # and the field points along the corridor: most mass on the move towards the cheese
    probe = probe_mazes(cfg.maze, 1)[0]
    probs = softmax(field_logits(net_policy(state.net), probe))
    assert (probs * probe.best_moves()).sum(1).min() > 0.7


@pytest.mark.parametrize("tiny", [TINY, TINY_CONV], ids=["vin", "conv"])
def test_resume_repeats_the_uninterrupted_run(tmp_path: Path, tiny: RunConfig) -> None:
    cfg = replace(tiny, ppo=replace(tiny.ppo, updates=4, checkpoints=3))
    straight = train(cfg, tmp_path / "straight", progress=False)
    train(cfg, tmp_path / "resumed", progress=False, stop_after=2)
    resumed = train(cfg, tmp_path / "resumed", progress=False, resume=True)
    assert resumed.update == straight.update == 4
    for a, b in zip(straight.net.state_dict().values(), resumed.net.state_dict().values(),
                    strict=True):
        assert torch.equal(a, b)
    assert _untimed(tmp_path / "straight") == _untimed(tmp_path / "resumed")


def _untimed(run: Path) -> list[dict]:
    """The run's metrics without the wall-clock seconds, which differ between two runs."""
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        for key in ("train_seconds", "train_cpu_seconds"):
            row.get("snapshot", {}).pop(key, None)
    return rows


def test_checkpoints_of_another_or_no_architecture_are_refused(tiny_run: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture
                                                              ) -> None:
    """A run's config asks for one architecture; its checkpoints must hold that one. A maze run
    from before the arch knob (checkpoints without "arch") is refused in one line, not loaded
    into whichever net its old config.json now reads as."""
    with pytest.raises(CheckpointError, match="holds a vin net, but its run asks for a conv"):
        load_state(tiny_run, TINY_CONV)
    old = tmp_path / "old"
    shutil.copytree(tiny_run, old)
    for path in (old / "checkpoints").glob("*.pt"):
        ckpt = torch.load(path, weights_only=True)
        del ckpt["arch"]
        torch.save(ckpt, path)
    with pytest.raises(CheckpointError, match="records no architecture"):
        write_maze_report(old, tmp_path / "report", progress=False)
    from scripts import policy_trajectory

    code = policy_trajectory.main(["--run", str(old), "--out", str(tmp_path / "cli"),
                                   "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "records no architecture" in err[0]


def test_report_writes_one_gif_frame_per_checkpoint(tiny_run: Path, tmp_path: Path) -> None:
    assert is_maze_run(tiny_run) and not is_maze_run(tmp_path)
    summary = write_maze_report(tiny_run, tmp_path, meta={"test": True}, progress=False)
    checkpoints = len(checkpoint_updates(TINY.ppo.updates, TINY.ppo.checkpoints))
    assert summary["frames"] == checkpoints == len(summary["updates"])
    for name in summary["gifs"]:
        assert len(imageio.mimread(tmp_path / name)) == checkpoints
    for name in ("logits.png", "curves.png", "pca.png", "summary.json", "meta.json"):
        assert (tmp_path / name).is_file()
    towards = summary["probes"]["random"]["p_towards_cheese"]
    assert towards[-1] > towards[0] + 0.3  # the field turns towards the cheese over training


def test_cli_rejects_bad_values_in_one_line(capsys: pytest.CaptureFixture) -> None:
    from scripts.maze_trajectory import main

    for argv, words in ((["--size", "4"], "odd number"), (["--lr", "-1"], "> 0"),
                        (["--device", "tpu"], "invalid choice"),
                        (["--size", "3", "--corner", "5"], "must not exceed")):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert words in err[-1]


def test_entry_point_trains_reuses_and_tests_misgeneralisation(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture
                                                              ) -> None:
    from scripts.maze_trajectory import main

    argv = ["--size", "3", "--corner", "1", "--max-steps", "12", "--passes", "4",
            "--channels", "4", "--iterations", "1", "--envs", "8", "--rollout", "8",
            "--updates", "2", "--corner-updates", "1", "--conv-updates", "1",
            "--conv-corner-updates", "2", "--checkpoints", "2", "--eval-mazes", "4",
            "--test-mazes", "16", "--no-progress", "--out", str(tmp_path / "out"),
            "--runs", str(tmp_path / "runs")]
    assert main(argv) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    agents = {"vin-anywhere", "vin-corner", "conv-anywhere", "conv-corner"}
    assert set(summary) == agents | {"misgeneralisation"} == {*summary["misgeneralisation"],
                                                              "misgeneralisation"}
    assert summary["misgeneralisation"]["conv-corner"]["success_cheese_elsewhere"]["of"] == 16
    assert [summary[a]["updates"] for a in sorted(agents)] == [1, 2, 2, 1]  # each its recipe
    for agent in agents:
        run = read_config(tmp_path / "runs" / f"default-{agent}")
        assert f"{run.net.arch}-{run.maze.cheese}" == agent
        assert run.ppo.curriculum == (0.5 if agent.startswith("conv") else 0.0)
        assert (tmp_path / "out" / agent / "field_away-from-corner.gif").is_file()
    assert (tmp_path / "out" / "misgeneralisation.png").is_file()
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["config"]["run"]["ppo"]["updates"] == 2 and meta["seed"] == 0
    capsys.readouterr()
    assert main([*argv, "--archs", "conv"]) == 0  # one arch: its two finished runs reused
    assert capsys.readouterr().out.count("reusing maze run") == 2
    with pytest.raises(SystemExit) as e:
        main([*argv, "--updates", "3"])
    assert "other settings" in str(e.value)


@pytest.mark.parametrize("fixture, cfg", [("tiny_run", TINY), ("tiny_conv_run", TINY_CONV)],
                         ids=["vin", "conv"])
def test_policy_trajectory_accepts_a_maze_run(fixture: str, cfg: RunConfig, tmp_path: Path,
                                              request: pytest.FixtureRequest) -> None:
    """scripts/policy_trajectory.py --run takes a maze run of either architecture like an
    AlphaZero or toy-model run (a maze run also keeps checkpoints/, so it must not be read as
    an AlphaZero run)."""
    from scripts import policy_trajectory

    run = request.getfixturevalue(fixture)
    assert policy_trajectory.run_kind(run) == "maze"
    out = tmp_path / "report"
    assert policy_trajectory.main(["--run", str(run), "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == len(checkpoint_updates(cfg.ppo.updates, cfg.ppo.checkpoints))


def test_a_second_maze_run_into_the_same_folders_is_refused(tmp_path: Path, capsys) -> None:
    """While one process holds runs/<name>-conv-corner, another maze run into it stops with one
    line before training anything (it would otherwise overwrite the first run's checkpoints)."""
    from common.runs import open_run
    from scripts import maze_trajectory

    with open_run(tmp_path / "runs" / "x-conv-corner", "maze"):
        code = maze_trajectory.main(["--quick", "--runs", str(tmp_path / "runs"), "--run-name",
                                     "x", "--out", str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "in use by another process" in err[0]
    assert not (tmp_path / "runs" / "x-vin-anywhere" / "state.pt").exists()
