"""Sweep bookkeeping: k-gon classification, correlations, resumable stages, the CLI."""

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import torch

from toymodels.tms.critical import find_kgon
from toymodels.tms.llc import SGLDConfig
from toymodels.tms.sweep import (
    DEFAULT,
    QUICK,
    SparsitySweepConfig,
    classify,
    kgon_table,
    pearson,
    run_sweep,
    summarise,
)
from toymodels.tms.train import TiedTrainConfig

ROOT = Path(__file__).resolve().parent.parent


def test_classify_critical_points():
    points = [find_kgon(6), find_kgon(5, 6, 1), find_kgon(4, 6, 2), find_kgon(4)]
    W = torch.stack([p.W for p in points])
    b = torch.stack([p.b for p in points])
    assert classify(W, b) == ["6", "5+", "4++", "4"]


def test_pearson():
    x = torch.arange(10.0)
    assert pearson(x, 3 * x + 1) == 1.0
    assert abs(pearson(x, -x) + 1) < 1e-12
    assert math.isnan(pearson(x, torch.ones(10)))


def test_sweep_resumes_from_its_stages(tmp_path):
    cfg = SparsitySweepConfig(sparsities=(0.5, 0.95), models=3, samples=200,
                      train=TiedTrainConfig(steps=50, batch_size=32, checkpoints=4),
                      sgld=SGLDConfig(draws=20, chains=2))
    first = run_sweep(cfg, tmp_path, progress=False)
    assert first.llc.shape == first.loss.shape == (len(first.steps), 2 * 2 * 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["llc_0.pt", "llc_1.pt", "train.pt"]
    (tmp_path / "llc_1.pt").unlink()  # as if interrupted during the second sparsity
    again = run_sweep(cfg, tmp_path, progress=False)
    assert torch.equal(first.W, again.W) and torch.equal(first.llc, again.llc)
    summary = summarise(again, cfg)
    assert [g["init"] for g in summary["groups"]] == ["hexagon", "4-gon"] * 2
    assert sum(sum(g["final_kgons"].values()) for g in summary["groups"]) == 12
    assert kgon_table(summary).count("\n") == 4


def test_cli_rejects_bad_values_in_one_line():
    result = subprocess.run([sys.executable, "scripts/sweep_sparsity.py", "--models", "0"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "--models" in result.stderr.splitlines()[-1]


def test_script_quarantines_a_truncated_stage_and_redoes_it(tmp_path, capsys):
    from scripts import sweep_sparsity

    argv = ["--sparsities", "0.9", "--models", "3", "--inits", "hexagon", "--samples", "200",
            "--steps", "20", "--checkpoints", "3", "--llc-draws", "10", "--llc-chains", "2",
            "--run-dir", str(tmp_path / "run"), "--out", str(tmp_path / "out"), "--no-progress"]
    assert sweep_sparsity.main(argv) == 0
    first = (tmp_path / "out" / "summary.json").read_text()
    train = tmp_path / "run" / "train.pt"
    train.write_bytes(train.read_bytes()[:200])  # as if the disk filled up mid-write
    capsys.readouterr()
    assert sweep_sparsity.main(argv) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "train.pt" in warnings[0] and "redoing" in warnings[0]
    assert (tmp_path / "run" / "train.pt.bad").is_file()
    summary, again = json.loads(first), json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["groups"] == again["groups"]  # the redone stage gives the same result


def test_flags_come_from_the_config_and_quick_is_a_preset():
    from scripts import sweep_sparsity

    args, cfg = sweep_sparsity.parse_args(["--quick", "--models", "50", "--llc-draws", "30"])
    assert cfg == replace(QUICK, models=50, sgld=replace(QUICK.sgld, draws=30))
    _, cfg = sweep_sparsity.parse_args([])
    assert cfg == DEFAULT and cfg.sgld == SGLDConfig() and cfg.train == TiedTrainConfig()
