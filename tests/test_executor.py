"""The task executor in-process (no Ray needed): results in task order, written once and
reused by a rerun only under the same key, numpy values kept exactly, corrupt files redone;
batched matches merged like one match; self-play shares; no entry point imports ray."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from alphazero.arena import ArenaResult, merge_results
from alphazero.distributed import shares
from common.executor import LocalExecutor, Task, run_tasks
from tests.ray_helpers import executions, powers, slow_tasks

ROOT = Path(__file__).resolve().parent.parent


def test_results_come_in_order_and_a_rerun_runs_only_what_is_missing(tmp_path):
    ex = tmp_path / "ex"
    first = run_tasks(LocalExecutor(), slow_tasks(ex), tmp_path / "out", progress=False)
    assert [r["x"] for r in first] == list(range(6))
    assert first[3]["powers"].dtype == np.int64 and first[3]["powers"].tolist() == [0, 1, 8, 27]
    assert first[2]["root"] == 2 ** 0.5
    (tmp_path / "out" / "t4.pt").unlink()
    (tmp_path / "out" / "t1.pt").write_bytes(b"torn")  # a corrupt file is redone, with a word
    again = run_tasks(LocalExecutor(), slow_tasks(ex), tmp_path / "out", progress=False)
    assert executions(ex) == {f"t{x}": 2 if x in (1, 4) else 1 for x in range(6)}
    for a, b in zip(first, again, strict=True):
        assert a["rng"] == b["rng"] and np.array_equal(a["powers"], b["powers"])


def test_a_changed_key_or_a_failed_check_reruns_the_task_and_ids_must_be_unique(tmp_path):
    def tasks(key):
        return [Task("a", powers, (2, tmp_path / "ex"), key=key)]
    run_tasks(LocalExecutor(), tasks({"lr": 1}), tmp_path / "out", progress=False)
    run_tasks(LocalExecutor(), tasks({"lr": 1}), tmp_path / "out", progress=False)
    run_tasks(LocalExecutor(), tasks({"lr": 2}), tmp_path / "out", progress=False)
    assert executions(tmp_path / "ex") == {"t2": 2}
    lost = [Task("a", powers, (2, tmp_path / "ex"), key={"lr": 2}, check=lambda: False)]
    run_tasks(LocalExecutor(), lost, tmp_path / "out", progress=False)  # its outputs are gone
    assert executions(tmp_path / "ex") == {"t2": 3}
    with pytest.raises(ValueError, match="repeat"):
        run_tasks(LocalExecutor(), tasks(1) + tasks(1), tmp_path / "out", progress=False)


def _result(first: list[int], second: list[int]) -> ArenaResult:
    a_result = np.array(first + second)
    moves = [(g, np.array([g, 0], np.uint64), 10 + g) for g in range(len(a_result))]
    return ArenaResult(wins=int((a_result > 0).sum()), draws=int((a_result == 0).sum()),
                       losses=int((a_result < 0).sum()),
                       a_first=np.array([True] * len(first) + [False] * len(second)),
                       a_result=a_result, a_moves=moves)


def test_merged_batches_are_numbered_like_one_match():
    # openings 0, 1 in one batch and 2 in the next: A first in games 0-2, second in 3-5
    merged = merge_results([_result([1, -1], [0, 1]), _result([1], [-1])])
    assert merged.a_result.tolist() == [1, -1, 1, 0, 1, -1]
    assert merged.a_first.tolist() == [True] * 3 + [False] * 3
    assert (merged.wins, merged.draws, merged.losses) == (3, 1, 2)
    # part 0's games 0,1,2,3 -> 0,1,3,4; part 1's games 0,1 -> 2,5
    assert [(g, int(s[0]), a) for g, s, a in merged.a_moves] == \
        [(0, 0, 10), (1, 1, 11), (3, 2, 12), (4, 3, 13), (2, 0, 10), (5, 1, 11)]
    assert merged.final_states is None


def test_selfplay_shares_split_the_games_evenly():
    assert shares(10, 3) == [4, 3, 3] and shares(2, 2) == [1, 1] and sum(shares(7, 4)) == 7


def test_no_entry_point_imports_ray_unless_asked():
    code = ("import sys, train_alphazero, train_sae, scripts.sweep_sparsity, scripts.persian_rug, "
            "common.executor, alphazero.distributed; "
            "import bench.bench_alphazero_strength; train_sae.main(['--help'])")
    done = subprocess.run([sys.executable, "-c", code + "\n"], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0 and "--executor" in done.stdout, done.stderr[-500:]
    check = code.replace("train_sae.main(['--help'])", "print('ray' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.stdout.strip() == "False", done.stderr[-500:]


def test_without_ray_the_ray_executor_is_one_line(tmp_path):
    (tmp_path / "ray").mkdir()  # a `ray` that is not there, as without the extra
    (tmp_path / "ray" / "__init__.py").write_text("raise ModuleNotFoundError('ray', name='ray')\n")
    code = ("from common.executor import ExecutorConfig, make_executor\n"
            "with make_executor(ExecutorConfig(executor='ray')): pass\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == ("error: --executor ray: Ray is not installed: pip install -e "
                                   "'.[ray]' (the optional `ray` extra)")
