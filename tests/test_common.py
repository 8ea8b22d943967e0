"""Shared helpers: atomic checkpoints with clear errors, argparse types."""


import subprocess
import sys
from pathlib import Path

import pytest
import torch

from common.io import CheckpointError, load_checkpoint, save_checkpoint, write_json

ROOT = Path(__file__).resolve().parent.parent


def test_checkpoint_round_trip_and_no_temp_files(tmp_path):
    path = tmp_path / "sub" / "ckpt.pt"
    save_checkpoint(path, {"w": torch.arange(3.0), "step": 7})
    loaded = load_checkpoint(path, required=("w", "step"))
    assert loaded["step"] == 7 and torch.equal(loaded["w"], torch.arange(3.0))
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.pt"]


def test_bad_checkpoints_raise_one_line_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        load_checkpoint(corrupt)
    partial = tmp_path / "partial.pt"
    save_checkpoint(partial, {"w": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="lacks step"):
        load_checkpoint(partial, required=("w", "step"))
    not_dict = tmp_path / "list.pt"
    torch.save([1, 2], not_dict)
    with pytest.raises(CheckpointError, match="does not hold a dict"):
        load_checkpoint(not_dict)


def test_write_json_is_sorted_and_complete(tmp_path):
    write_json(tmp_path / "m.json", {"b": 1, "a": [1, 2]})
    assert (tmp_path / "m.json").read_text().startswith('{\n  "a"')


def test_results_from_a_dirty_tree_are_refused(tmp_path, monkeypatch) -> None:
    import subprocess

    from common import io

    repo = tmp_path / "repo"
    (repo / "results").mkdir(parents=True)
    (repo / "code.py").write_text("x = 1\n")
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "c"], cwd=repo, check=True)
    monkeypatch.setattr(io, "REPO_ROOT", repo)
    monkeypatch.delenv("ALLOW_DIRTY_RESULTS", raising=False)
    clean = io.results_version(repo / "results" / "x")
    assert clean and not clean.endswith("+dirty")
    (repo / "code.py").write_text("x = 2\n")
    with pytest.raises(io.DirtyTreeError, match="uncommitted"):
        io.results_version(repo / "results" / "x")
    assert io.results_version(tmp_path / "elsewhere").endswith("+dirty")  # outside results/
    monkeypatch.setenv("ALLOW_DIRTY_RESULTS", "1")
    assert io.results_version(repo / "results" / "x").endswith("+dirty")


def test_atomic_writes_follow_the_umask(tmp_path) -> None:
    import os

    old = os.umask(0o022)
    try:
        write_json(tmp_path / "a.json", {"x": 1})
        save_checkpoint(tmp_path / "b.pt", {"x": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.pt").stat().st_mode & 0o777 == 0o644


def test_wandb_mode_comes_from_the_flag_then_wandb_mode_then_offline(monkeypatch):
    import types

    from common.tracking import maybe_wandb

    calls = []
    fake = types.SimpleNamespace(init=lambda **kw: calls.append(kw["mode"]) or "run")
    monkeypatch.setitem(sys.modules, "wandb", fake)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    assert maybe_wandb(False, "p", {}) is None and calls == []
    assert maybe_wandb(True, "p", {}) == "run"
    monkeypatch.setenv("WANDB_MODE", "online")
    maybe_wandb(True, "p", {})
    maybe_wandb(True, "p", {}, mode="offline")
    assert calls == ["offline", "online", "offline"]


def test_entry_points_do_not_import_wandb_unless_asked():
    code = ("import sys, train_alphazero, train_sae, othello.collect_activations, "
            "vis.generate_vis_data, scripts.sweep_sparsity, scripts.persian_rug, "
            "scripts.policy_trajectory; print('wandb' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "False"
