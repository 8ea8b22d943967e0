"""Training trajectories: probe selection, per-checkpoint outputs, figures and the script, on a
tiny synthetic AlphaZero run (four snapshots of a small network) and a tiny toy-model sweep."""

import json
import math
from dataclasses import asdict
from pathlib import Path

import imageio.v2 as imageio
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.patches import Circle, Rectangle

from common.io import REPO_ROOT, save_checkpoint
from common.trajectory import entropy, kl_divergence, pca_with_baselines
from othello.az.evaluation import move_margins
from othello.az.model import NetConfig, PolicyValueNet
from othello.interp.draw import draw_board
from othello.interp.probes import Probe, default_probes, position_from_moves, probes_from_records
from othello.interp.trajectory import evaluate_run, snapshot_paths
from othello.interp.trajectory_plots import loss_series, write_probe_gif
from othello.players.match import play_game, random_position, write_records
from othello.rules.board import Position, move_name, parse_move
from othello.rules.solver import Solver
from scripts import policy_trajectory
from toymodels.tms.critical import find_kgon
from toymodels.tms.inits import kgon
from toymodels.tms.model import loss
from toymodels.tms.population import one_active
from toymodels.tms.sweep import SparsitySweepConfig, make_data, make_init
from toymodels.tms.train import TiedTrainConfig, train_many
from toymodels.tms.trajectory import merge_levels, write_toy_report

STEPS = [0, 10, 30, 70]


def small_net(seed: int, uniform: bool = False) -> PolicyValueNet:
    torch.manual_seed(seed)
    net = PolicyValueNet(NetConfig(size=6, width=16, blocks=1))
    if uniform:  # zero policy head: the masked softmax is uniform over legal moves
        torch.nn.init.zeros_(net.policy_head.weight)
        torch.nn.init.zeros_(net.policy_head.bias)
    return net.eval()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    lines = []
    for i, steps in enumerate(STEPS):
        net = small_net(i)
        losses = (None, None) if i == 0 else (3.0 - 0.5 * i, 1.0 - 0.2 * i)
        save_checkpoint(run / "checkpoints" / f"iter_{i:04d}.pt",
                        {"config": asdict(net.config), "model": net.state_dict(), "iteration": i,
                         "steps": steps, "policy_loss": losses[0], "value_loss": losses[1]})
        if i:
            lines.append(json.dumps({"iteration": i, "steps": steps, "policy_loss": losses[0],
                                     "value_loss": losses[1]}))
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    return run


@pytest.fixture(scope="module")
def probes():
    """The opening and a solved 10-empties position where some legal move is not best."""
    solver, rng = Solver(6), np.random.default_rng(7)
    while True:
        pos = random_position(6, 10, rng)
        margins = move_margins(solver, pos)
        if len(set(margins.values())) > 1:
            return [Probe("opening", "opening", Position.start(6)),
                    Probe("late", "endgame", pos, margins)]


def test_snapshots_sorted_and_one_frame_per_checkpoint(tiny_run, probes, tmp_path):
    paths = snapshot_paths(tiny_run)
    assert [p.name for p in paths] == [f"iter_{i:04d}.pt" for i in range(len(STEPS))]
    traj = evaluate_run(paths, probes, progress=False)
    assert traj.steps.tolist() == STEPS and traj.iterations.tolist() == [0, 1, 2, 3]
    assert math.isnan(traj.policy_loss[0]) and traj.policy_loss[2] == pytest.approx(2.0)
    losses = loss_series(traj, [])  # without metrics.jsonl: the snapshots' own losses
    assert losses["policy_loss"][0].tolist() == [10.0, 30.0, 70.0]
    frames = write_probe_gif(tmp_path / "p.gif", probes[1], traj, 1, losses, dpi=30)
    assert frames == len(STEPS)
    assert len(imageio.mimread(tmp_path / "p.gif")) == len(STEPS)


def test_probabilities_sum_to_one_over_legal_moves(tiny_run, probes):
    traj = evaluate_run(snapshot_paths(tiny_run), probes, progress=False)
    for i, probe in enumerate(probes):
        legal = np.zeros(37, bool)
        legal[probe.position.legal_moves()] = True
        np.testing.assert_allclose(traj.probs[:, i, legal].sum(-1), 1.0, atol=1e-9)
        assert (traj.probs[:, i, ~legal] == 0).all()
        assert (traj.probs[:, i, legal] > 0).all()
    assert (np.abs(traj.value) <= 1).all()


def test_final_kl_to_itself_is_zero(tiny_run, probes):
    traj = evaluate_run(snapshot_paths(tiny_run), probes, progress=False)
    assert np.abs(traj.kl_to_final[-1]).max() < 1e-12
    assert (traj.kl_to_final[:-1] > 1e-6).all()  # different random networks differ


def test_kl_and_entropy_hand_computed():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.75, 0.0])
    assert kl_divergence(p, q) == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3))
    assert entropy(np.array([0.25] * 4 + [0.0])) == pytest.approx(math.log(4))


def test_uniform_policy_gives_ln_legal_entropy_and_share_of_best_moves(tmp_path, probes):
    net = small_net(0, uniform=True)
    save_checkpoint(tmp_path / "checkpoints" / "iter_0000.pt",
                    {"config": asdict(net.config), "model": net.state_dict()})
    traj = evaluate_run(snapshot_paths(tmp_path), probes, progress=False)
    assert traj.entropy[0, 0] == pytest.approx(math.log(4))  # four opening moves
    late = probes[1]
    n_legal, n_best = len(late.position.legal_moves()), len(late.best_moves)
    assert n_legal > n_best >= 1
    assert traj.p_best[0, 1] == pytest.approx(n_best / n_legal)
    assert math.isnan(traj.p_best[0, 0])  # the opening is not solved


def test_best_moves_are_the_solver_optimum(probes):
    late = probes[1]
    margin, _ = Solver(6).solve(late.position)
    assert max(late.margins.values()) == margin
    assert all(late.margins[m] == margin for m in late.best_moves)


def test_default_probe_selection_is_deterministic():
    net = small_net(5)
    kwargs = {"solver_empties": 10, "candidates": 8, "unique_tries": 40}
    a = default_probes(net, 6, seed=1, **kwargs)
    b = default_probes(net, 6, seed=1, **kwargs)
    c = default_probes(net, 6, seed=2, **kwargs)
    assert [p.to_json() for p in a] == [p.to_json() for p in b]
    assert [p.position for p in a] != [p.position for p in c]
    kinds = [p.kind for p in a]
    assert kinds[:4] == ["opening", "midgame", "endgame", "confident"]
    assert a[0].position == Position.start(6)
    assert all(len(p.position.legal_moves()) >= 2 for p in a)
    assert a[2].margins is not None and a[1].margins is None  # solved only near the end
    unique = [p for p in a if p.kind == "unique-win"]
    assert unique, "no unique-win probe found in 40 tries"
    assert sum(v > 0 for v in unique[0].margins.values()) == 1


def test_probes_from_moves_and_records(tmp_path):
    assert position_from_moves("", 6) == Position.start(6)
    first = move_name(Position.start(6).legal_moves()[0], 6)
    assert position_from_moves(first, 6) == Position.start(6).play(parse_move(first, 6))
    with pytest.raises(ValueError, match="ply 2"):
        position_from_moves(f"{first} {first}", 6)
    from othello.players.registry import make_player
    rng = np.random.default_rng(0)
    rec = play_game(make_player("random", 6), make_player("greedy", 6), 6, rng)
    write_records(tmp_path / "g.jsonl", [rec])
    named = probes_from_records(tmp_path / "g.jsonl", [3, 5], 6)
    assert [n for n, _ in named] == ["game0-ply3", "game0-ply5"]
    expected = Position.start(6)
    for move in rec["moves"][:5]:
        expected = expected.play(parse_move(move, 6))
    assert named[1][1] == expected


def test_pca_of_a_straight_path():
    t = np.array([0.0, 1.0, 3.0, 4.0, 7.0])
    X = np.outer(t, [3.0, 4.0, 0.0])  # points on a line, in order
    pca = pca_with_baselines(X, shuffles=50, seed=0)
    assert pca.explained[0] == pytest.approx(1.0)
    assert pca.path_length == pytest.approx(7.0 * 5.0)  # monotone: the path is the span
    assert pca.shuffled_path_length > pca.path_length * 1.2
    assert pca.shuffled_explained[0] < 1.0 - 1e-6 or X.shape[1] == 1


def test_board_drawing_conventions():
    pos = Position.start(6)
    probs = np.zeros(37)
    probs[pos.legal_moves()[0]] = 1.0
    fig, ax = plt.subplots()
    draw_board(ax, pos, probs)
    discs = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(discs) == 4
    for disc in discs:  # c3 (row 3, column c) is White at the start: square 2*6+2
        col, row = disc.center
        colour = "white" if pos.white >> int(row * 6 + col) & 1 else "black"
        assert disc.get_facecolor()[:3] == pytest.approx(plt.matplotlib.colors.to_rgb(colour))
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # row 1 at the top
    assert [t.get_text() for t in ax.get_xticklabels()] == list("abcdef")
    heat = {int((p.get_y() + 0.5) * 6 + p.get_x() + 0.5): p for p in ax.patches
            if isinstance(p, Rectangle) and p.get_width() == p.get_height() == 1
            and p.get_xy() != (-0.5, -0.5)}
    assert sorted(heat) == pos.legal_moves()  # heat on the legal squares only, a1 = (0, 0)
    top = heat[pos.legal_moves()[0]].get_facecolor()
    assert all(sum(top[:3]) < sum(h.get_facecolor()[:3]) for m, h in heat.items()
               if m != pos.legal_moves()[0])  # probability 1 is the darkest
    plt.close(fig)


def test_script_on_tiny_run(tiny_run, tmp_path, capsys):
    out = tmp_path / "out"
    code = policy_trajectory.main(["--run", str(tiny_run), "--out", str(out), "--quick",
                                   "--no-progress", "--no-default-probes", "--moves", "",
                                   "c2 b2"])
    assert code == 0
    for name in ("grid.png", "curves.png", "pca.png", "probes.json", "summary.json", "meta.json",
                 "probe_moves0.gif", "probe_moves1.gif"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == STEPS
    assert summary["probes"]["moves0"]["kl_to_final"][-1] == 0.0
    assert policy_trajectory.main(["--run", str(tmp_path / "nothing")]) == 2
    with pytest.raises(SystemExit):
        policy_trajectory.main(["--record-plies", "0"])


def test_kgon_losses_on_one_active_data_match_population_values():
    gen = torch.Generator().manual_seed(0)
    x = one_active(40000, 6, gen).double()
    empirical = find_kgon(6, loss_fn=lambda W, b: loss(W, b, x)).loss
    assert empirical == pytest.approx(find_kgon(6).loss, rel=0.02)  # 0.0482 (Chen et al.)
    assert merge_levels({"4": 1.0, "4+": 1.005, "5": 0.5}) == {"5": 0.5, "4, 4+": 1.0}


def test_toy_report_on_tiny_sweep(tmp_path):
    cfg = SparsitySweepConfig(sparsities=(0.9,), models=2, samples=300,
                              train=TiedTrainConfig(steps=60, checkpoints=5))
    W0, b0 = make_init(cfg)
    traj = train_many(W0, b0, make_data(cfg), cfg.train)
    save_checkpoint(tmp_path / "run" / "train.pt",
                    {"config": asdict(cfg), "steps": traj.steps, "W": traj.W, "b": traj.b,
                     "loss": traj.loss, "seconds": 0.0})
    summary = write_toy_report(tmp_path / "run", tmp_path / "out", 1, {})
    assert summary["model"] == 1 and summary["init"] == "hexagon"
    assert summary["frames"] == len(traj.steps)
    assert len(imageio.mimread(tmp_path / "out" / "polygons.gif")) == len(traj.steps)
    assert set(summary["kgon_losses"]) == {"4", "4+", "4++", "5", "5+", "6"}
    assert summary["loss"] == pytest.approx(traj.loss[:, 1].tolist())
    # The best regular hexagon is at least as good as the unit hexagon with zero bias
    x = make_data(cfg)[1].double()
    x = x[:, torch.argsort((x * x).sum(0), descending=True)]
    W, b = kgon(6, 6, 1.0, 0.0, dtype=torch.float64)
    assert summary["kgon_losses"]["6"] <= float(loss(W, b, x)) + 1e-12


def test_only_documented_runs_with_default_settings_write_results(tmp_path: Path) -> None:
    """Following some other run, or the default run with typed settings, must not overwrite the
    committed results/trajectories figures."""
    out = policy_trajectory.default_out
    results = REPO_ROOT / "results" / "trajectories"
    assert out(policy_trajectory.DEFAULT_RUN, "alphazero", False, {"--run": "x"}) == \
        results / "alphazero"
    assert out(REPO_ROOT / "runs/toymodels/sweep", "toymodel", False, {}) == results / "toymodel"
    assert out(REPO_ROOT / "runs/mazes/default-conv-corner", "maze", False, {}) == \
        results / "maze" / "conv-corner"  # where scripts/maze_trajectory.py writes that agent
    assert out(REPO_ROOT / "runs/mazes/default-corner", "maze", False, {}) == \
        REPO_ROOT / "runs/mazes/default-corner" / "trajectory"  # a run of the old layout
    assert out(policy_trajectory.DEFAULT_RUN, "alphazero", False, {"--seed": 3}) == \
        policy_trajectory.DEFAULT_RUN / "trajectory"
    assert out(tmp_path, "alphazero", False, {}) == tmp_path / "trajectory"
    assert out(REPO_ROOT / "runs/mazes/tiny", "maze", False, {}) == \
        REPO_ROOT / "runs/mazes/tiny/trajectory"
    assert out(tmp_path, "alphazero", True, {}).is_relative_to(REPO_ROOT / "runs")
