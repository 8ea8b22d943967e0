"""Bad inputs through the real entry points (subprocesses, tiny sizes): each ends with its exit
code and one line on stderr naming the problem, never a traceback, and never changes results/.

The fixtures (a bare activation array, a two-block dataset, a trained SAE, an AlphaZero run)
are made once per session in a temporary folder and only read by the cases.
"""

from __future__ import annotations

import json
import platform
import shutil
import signal
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from common.io import save_checkpoint
from othello.az.model import NetConfig, PolicyValueNet
from othello.interp.activations import collect_dataset
from othello.players.match import read_records
from tests.bad_inputs import assert_refused, results_hash, run, start

TINY_AZ = ("--size", 4, "--net-width", 8, "--net-blocks", 1, "--iterations", 2,
           "--games-per-iteration", 4, "--concurrent-games", 4, "--simulations", 4,
           "--eval-games", 0, "--endgames", 0, "--batch-size", 16, "--no-progress")
TINY_SAE = ("--arch", "topk", "--features", 16, "--k", 4, "--steps", 5, "--batch-size", 32,
            "--no-progress")


@pytest.fixture(scope="module", autouse=True)
def results_unchanged():
    """No case may touch the committed results/."""
    before = results_hash()
    yield
    assert results_hash() == before, "a bad-input case changed results/"


@pytest.fixture(scope="module")
def fx(tmp_path_factory):
    """Shared tiny inputs: bare arrays (good and broken), a dataset, an SAE, a run, a file."""
    root = tmp_path_factory.mktemp("bad_inputs")
    rng = np.random.default_rng(0)
    arrays = {"good": rng.standard_normal((300, 8)),
              "nan": rng.standard_normal((300, 8)), "inf": rng.standard_normal((300, 8)),
              "zeros": np.zeros((300, 8)), "empty": np.zeros((0, 8))}
    arrays["nan"][17, 3] = np.nan
    arrays["inf"][5, 0] = np.inf
    for name, a in arrays.items():
        np.save(root / f"{name}.npy", a.astype(np.float32))
    torch.manual_seed(0)
    collect_dataset(PolicyValueNet(NetConfig(size=6, width=16, blocks=2)).eval(),
                    {"checkpoint": "test"}, root / "ds", 300, [1, 2], seed=0, progress=False)
    assert run("train_sae.py", "--acts", root / "good.npy", *TINY_SAE, "--out", root / "sae",
               "--results", root / "sae_results").returncode == 0
    assert run("train_sae.py", "--acts", root / "ds", "--layer", 2, *TINY_SAE, "--out",
               root / "sae_ds", "--results", root / "sae_ds_results").returncode == 0
    assert run("train_alphazero.py", "--out", root / "az", *TINY_AZ).returncode == 0
    (root / "a_file").write_text("not a folder\n")
    return root


def copy_dataset(fx, name: str):
    shutil.copytree(fx / "ds", fx / name)
    return fx / name


# ---- run folders: --restart, outputs that are files or cannot be written ---------------------
@pytest.mark.parametrize("out", [".", "..", "{root}"])
def test_restart_deletes_only_a_run(fx, out):
    keep = fx / "keep.txt"
    keep.write_text("precious\n")
    line = assert_refused(run("train_alphazero.py", "--restart", "--out", out.format(root=fx),
                              *TINY_AZ, cwd=fx), "refusing to delete", code=2)
    assert "does not hold a run" in line
    assert keep.read_text() == "precious\n" and (fx / "ds" / "meta.json").is_file()


def test_restart_of_a_new_folder_starts_a_run(fx):
    done = run("train_alphazero.py", "--restart", "--out", fx / "az_new", *TINY_AZ)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (fx / "az_new" / "checkpoint.pt").is_file()


def test_restart_of_a_run_restarts_it(fx):
    run_dir = fx / "az_restart"
    shutil.copytree(fx / "az", run_dir)
    (run_dir / "checkpoints" / "iter_0001.pt").unlink()
    done = run("train_alphazero.py", "--restart", "--out", run_dir, *TINY_AZ)
    assert done.returncode == 0, done.stderr
    assert (run_dir / "checkpoints" / "iter_0001.pt").is_file()


@pytest.mark.parametrize("script,argv", [
    ("train_alphazero.py", ("--out", "{file}", *TINY_AZ)),
    ("train_sae.py", ("--acts", "{root}/good.npy", *TINY_SAE, "--out", "{file}")),
    ("othello/collect_activations.py", ("--checkpoint", "random", "--positions", 50,
                                        "--out", "{file}", "--no-progress")),
    ("vis/generate_vis_data.py", ("--sae", "{root}/sae/topk_f16_k4", "--out", "{file}")),
    ("scripts/sweep_sparsity.py", ("--quick", "--out", "{file}", "--run-dir", "{root}/sw")),
    ("scripts/persian_rug.py", ("--quick", "--out", "{file}", "--run-dir", "{root}/pr")),
])
def test_an_output_that_is_a_file_is_refused_before_the_work(fx, script, argv):
    argv = [str(a).format(root=fx, file=fx / "a_file") for a in argv]
    assert_refused(run(script, *argv), "a_file", "file")
    assert (fx / "a_file").read_text() == "not a folder\n"


def test_an_unwritable_output_is_refused(fx):
    assert_refused(run("train_alphazero.py", "--out", fx / "a_file" / "run", *TINY_AZ),
                   "cannot write", "a_file")


# ---- results/ is written only by the documented default runs ---------------------------------
def test_a_custom_sae_run_writes_its_results_beside_its_outputs(fx):
    done = run("train_sae.py", "--acts", fx / "good.npy", *TINY_SAE, "--out", fx / "sae_custom")
    assert done.returncode == 0, done.stderr
    assert (fx / "sae_custom" / "results" / "summary.json").is_file()  # results/ checked by fixture


# ---- non-finite and oversized settings -----------------------------------------------------
@pytest.mark.parametrize("script,flag,value", [
    ("train_alphazero.py", "--lr", "nan"), ("train_alphazero.py", "--c-puct", "inf"),
    ("train_alphazero.py", "--dirichlet-alpha", "nan"), ("train_sae.py", "--lr", "inf"),
    ("scripts/sweep_sparsity.py", "--init-bias", "nan"),
    ("othello/collect_activations.py", "--temperature", "nan"),
])
def test_non_finite_settings_are_refused(script, flag, value):
    assert_refused(run(script, flag, value), flag, "finite", code=2)


def test_an_sae_too_wide_for_memory_is_refused_before_allocating(fx):
    assert_refused(run("train_sae.py", "--acts", fx / "good.npy", "--arch", "topk", "--features",
                       99_999_999, "--k", 4, "--batch-size", 32, "--out", fx / "sae_huge"),
                   "memory", code=2)
    assert not (fx / "sae_huge" / "topk_f99999999_k4").exists()


def test_vis_top_k_too_big_for_memory_is_refused(fx):
    assert_refused(run("vis/generate_vis_data.py", "--sae", fx / "sae" / "topk_f16_k4",
                       "--acts", fx / "ds", "--top-k", 10**12, "--out", fx / "vis_huge"),
                   "memory")


# ---- broken activations and datasets --------------------------------------------------------
@pytest.mark.parametrize("name,words", [("nan", ("non-finite", "row 17")),
                                        ("inf", ("non-finite", "row 5")),
                                        ("zeros", ("every value is zero",)), ("empty", ("empty",))])
def test_broken_activation_files_are_refused(fx, name, words):
    assert_refused(run("train_sae.py", "--acts", fx / f"{name}.npy", *TINY_SAE,
                       "--out", fx / f"sae_{name}"), f"{name}.npy", *words, code=2)


def test_datasets_that_disagree_with_their_meta_are_refused(fx):
    corrupt = copy_dataset(fx, "ds_corrupt")
    (corrupt / "meta.json").write_text('{"count": 3')
    stale = copy_dataset(fx, "ds_stale")
    meta = json.loads((stale / "meta.json").read_text())
    (stale / "meta.json").write_text(json.dumps({**meta, "count": 1000}))
    unfinished = copy_dataset(fx, "ds_unfinished")
    (unfinished / "meta.json").unlink()
    for folder, words in ((corrupt, ("meta.json", "corrupt")), (stale, ("300 rows", "1000")),
                          (unfinished, ("unfinished",))):
        assert_refused(run("train_sae.py", "--acts", folder, *TINY_SAE, "--out",
                           fx / f"sae_{folder.name}"), folder.name, *words, code=2)


def test_a_collection_never_replaces_a_folder_of_other_things(fx):
    (fx / "mine").mkdir()
    (fx / "mine" / "notes.txt").write_text("keep\n")
    assert_refused(run("othello/collect_activations.py", "--checkpoint", "random",
                       "--positions", 50, "--out", fx / "mine", "--no-progress"),
                   "refusing to replace", code=2)
    assert (fx / "mine" / "notes.txt").read_text() == "keep\n"


# ---- SAEs, networks and the browser ---------------------------------------------------------
def test_an_sae_of_another_width_is_refused_by_the_browser(fx):
    assert_refused(run("vis/generate_vis_data.py", "--sae", fx / "sae" / "topk_f16_k4",
                       "--acts", fx / "ds", "--out", fx / "vis_width", "--no-progress"),
                   "8-wide", "16 wide")


def test_corrupt_sae_metrics_and_browser_index_are_rebuilt(fx):
    sae = fx / "sae_rebuild"
    shutil.copytree(fx / "sae", sae)
    (sae / "topk_f16_k4" / "metrics.json").write_text("{torn")
    done = run("train_sae.py", "--acts", fx / "good.npy", *TINY_SAE, "--out", sae,
               "--results", fx / "sae_rebuild_results")
    assert done.returncode == 0 and "metrics.json is corrupt" in done.stderr
    assert json.loads((sae / "topk_f16_k4" / "metrics.json").read_text())["config"]


def test_a_network_with_nan_weights_does_not_play(fx):
    net = PolicyValueNet(NetConfig(size=6, width=8, blocks=1))
    state = net.state_dict()
    state[next(iter(state))].fill_(float("nan"))
    save_checkpoint(fx / "nan_net.pt", {"config": asdict(net.config), "model": state})
    assert_refused(run("othello/play.py", "--p1", f"alphazero:{fx / 'nan_net.pt'}:2", "--p2",
                       "random", "--games", 1, "--no-progress"), "non-finite", code=2)


# ---- game records -----------------------------------------------------------------------------
def test_a_record_path_that_is_a_folder_fails_before_any_game(fx):
    assert_refused(run("othello/play.py", "--p1", "random", "--p2", "random", "--games", 2,
                       "--record", fx, "--no-progress"), "is a folder", code=2)


def test_every_finished_game_is_recorded_and_a_torn_last_line_is_skipped(fx, capsys):
    path = fx / "games.jsonl"
    done = run("othello/play.py", "--p1", "random", "--p2", "greedy", "--games", 3, "--record",
               path, "--no-progress")
    assert done.returncode == 0
    text = path.read_text()
    path.write_text(text + text.splitlines()[0][:40])  # a writer killed mid-line
    assert len(list(read_records(path))) == 3
    assert "torn last line" in capsys.readouterr().err


def test_an_empty_records_file_is_refused(fx):
    (fx / "empty.jsonl").write_text("")
    assert_refused(run("scripts/policy_trajectory.py", "--run", fx / "az", "--records",
                       fx / "empty.jsonl", "--no-default-probes", "--out", fx / "traj",
                       "--no-progress"), "empty.jsonl", "no game records", code=2)



def test_resume_names_the_flags_it_ignores(fx):
    run_dir = fx / "az_resume"
    shutil.copytree(fx / "az", run_dir)
    done = run("train_alphazero.py", "--out", run_dir, "--resume", *TINY_AZ, "--lr", 0.5)
    assert done.returncode == 0 and "ignoring" in done.stdout and "--lr" in done.stdout


def test_the_browser_uses_the_block_the_sae_was_trained_on(fx, monkeypatch):
    import vis.generate_vis_data as gen

    class Seen(Exception):
        pass

    def spy(sae, ds, layer, cfg, *rest, progress=False):
        raise Seen(layer)

    monkeypatch.setattr(gen, "feature_records", spy)
    with pytest.raises(Seen) as seen:  # the dataset holds blocks 1 and 2; the SAE read block 2
        gen.main(["--sae", str(fx / "sae_ds" / "topk_f16_k4"), "--acts", str(fx / "ds"),
                  "--out", str(fx / "vis_spy"), "--no-progress"])
    assert seen.value.args == (2,)


def test_a_corrupt_browser_index_is_rebuilt_and_the_hint_fits_a_custom_out(fx):
    out = fx / "vis_custom"
    out.mkdir()
    (out / "index.json").write_text('{"saes": [')
    done = run("vis/generate_vis_data.py", "--sae", fx / "sae_ds" / "topk_f16_k4", "--out", out,
               "--rows", 200, "--concept-rows", 100, "--no-progress")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "index.json is corrupt" in done.stderr
    assert [s["name"] for s in json.loads((out / "index.json").read_text())["saes"]] == \
        ["topk_f16_k4"]
    hint = [line for line in done.stdout.splitlines() if line.startswith("browse")][0]
    assert f"ln -sfn {out}" in hint  # the page reads vis/data: a plain `cd` would show nothing


READ_SYSCALL = {"x86_64": "0", "aarch64": "63"}.get(platform.machine())


def wait_until_reading(pid: int, timeout: float = 120) -> None:
    """Until the process sits in read(2). A signal that lands between the prompt and the read
    only sets Python's flag, and the read then blocks with the flag unseen (the race a person
    at a terminal never hits: they press Ctrl-C again); on a loaded machine the test hit it."""
    syscall, deadline = Path(f"/proc/{pid}/syscall"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if syscall.read_text().split()[0] == READ_SYSCALL:
                return
        except (OSError, IndexError):  # no procfs: a second is plenty on a quiet machine
            time.sleep(1)
            return
        time.sleep(0.01)
    raise AssertionError(f"the game never waited for input within {timeout} s")


def test_ctrl_c_in_human_play_ends_with_one_line():
    # A background job of a non-interactive shell (as CI may be) inherits SIGINT ignored, and
    # Python then never raises KeyboardInterrupt; a terminal gives the default, so restore it.
    proc = start("othello/play.py", "--human", "--opponent", "random",
                 preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = ""
    while "your move" not in seen:
        char = proc.stdout.read(1)
        assert char, proc.communicate()[1][-2000:]
        seen += char
    wait_until_reading(proc.pid)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)  # before communicate(), which would close stdin (an EOF, not Ctrl-C)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert [line for line in err.splitlines() if line.strip()] == ["interrupted: game abandoned"]
