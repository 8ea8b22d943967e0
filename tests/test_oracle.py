"""The oracle (proof driver + sqlite cache), the perfect player, the solve CLI and the start
proof script, checked against naive minimax and the old pure-Python solver."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from othello.players.match import random_position
from othello.players.registry import make_player
from othello.rules import naive
from othello.rules.board import Position, move_name
from othello.rules.cache import BoundCache, CacheCorruptError, canonical
from othello.rules.engine import Engine
from othello.rules.oracle import Oracle
from othello.rules.solver import Solver
from othello.rules.symmetry import transform_move, transform_position
from othello.solve import main as solve_main
from scripts.solve_start import main as solve_start_main
from tests.othello_helpers import moves_to, to_grid

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "data" / "oracle_reference_6x6.json"


def small_oracle(size: int, path=None, split: int = 8) -> Oracle:
    """An oracle that sends positions with more than `split` empties through the driver."""
    return Oracle(size, cache_path=path, seed_paths=[], table_bits=16, split_empties=split,
                  store_min_empties=split - 2)


def test_driver_solves_the_whole_4x4_game(tmp_path):
    with small_oracle(4, tmp_path / "c.sqlite", split=4) as oracle:
        start = Position.start(4)
        assert oracle.value(start) == naive.minimax_margin(naive.start(4), naive.BLACK) == -8
        line = oracle.principal_variation(start)
    pos = start
    for m in line:
        pos = pos.play(m)
    assert pos.is_over() and pos.counts() == (3, 11)


@pytest.mark.parametrize("empties,count", [(5, 20), (7, 16), (9, 3)])
def test_driver_matches_minimax(empties, count):
    rng = np.random.default_rng(300 + empties)
    with small_oracle(6, split=4) as oracle:
        for _ in range(count):
            pos = random_position(6, empties, rng)
            want = naive.minimax_margin(*to_grid(pos))
            assert oracle.value(pos) == want
            value, move = oracle.best_move(pos)
            assert value == want and -Solver(6).solve(pos.play(move))[0] == want


@pytest.mark.parametrize("empties,count", [(11, 15), (13, 10), (15, 4)])
def test_driver_matches_old_solver(empties, count):
    rng = np.random.default_rng(400 + empties)
    with small_oracle(6, split=9) as oracle:
        for _ in range(count):
            pos = random_position(6, empties, rng)
            assert oracle.value(pos) == Solver(6).solve(pos)[0]


def test_reference_positions_17_to_20_empties():
    """Values the old solver computed once (scripts/oracle_reference.py), too slow to redo here."""
    data = json.loads(REFERENCE.read_text())
    assert data["positions"]
    with Oracle(6, cache_path=None, seed_paths=[], table_bits=20) as oracle:
        for item in data["positions"]:
            pos = Position(6, item["me"], item["opp"], item["black_to_move"])
            assert pos.empties() == item["empties"]
            assert oracle.value(pos) == item["value"]


def test_move_values_and_batches_match_old_solver():
    rng = np.random.default_rng(8)
    positions = [random_position(6, 11, rng) for _ in range(3)]
    with small_oracle(6, split=9) as oracle:
        table = oracle.batch_move_values(positions)
        values = oracle.values(positions)
    for pos, row, value in zip(positions, table, values, strict=True):
        for m in range(37):
            if m in pos.legal_moves():
                assert row[m] == -Solver(6).solve(pos.play(m))[0]
            else:
                assert np.isnan(row[m])
        assert np.nanmax(row) == value == Solver(6).solve(pos)[0]


def test_cache_persists_and_is_shared_by_symmetric_positions(tmp_path):
    path = tmp_path / "c.sqlite"
    rng = np.random.default_rng(9)
    positions = [random_position(6, 13, rng) for _ in range(4)]
    with small_oracle(6, path, split=9) as oracle:
        want = [oracle.value(p) for p in positions]
    with small_oracle(6, path, split=9) as oracle:
        for k, pos in enumerate(positions):
            image = transform_position(pos, k + 3)
            assert canonical(image)[:2] == canonical(pos)[:2]
            assert oracle.bounds(image)[:2] == (want[k], want[k])
            cached = oracle.bounds(image)[2]  # the stored move, moved to image's frame
            assert cached in image.legal_moves()
            assert -Engine(16).value(image.play(cached)) == want[k]
            value, move = oracle.best_move(image)
            assert value == want[k] and move in image.legal_moves()
            assert -Engine(16).value(image.play(move)) == want[k]
        assert oracle.engine.nodes < 50_000  # answered from the cache, not searched again
    assert transform_move(36, 6, 5) == 36


def test_corrupt_cache_is_rebuilt_or_reported(tmp_path):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CacheCorruptError, match="not a readable oracle cache"):
        Oracle(6, cache_path=path, rebuild_corrupt=False)
    with Oracle(6, cache_path=path, seed_paths=[], table_bits=12) as oracle:
        assert len(oracle.notes) == 1 and "moved it to" in oracle.notes[0]
        pos = random_position(6, 8, np.random.default_rng(1))
        assert oracle.value(pos) == Solver(6).solve(pos)[0]
    assert (tmp_path / "c.sqlite.corrupt").exists() and len(BoundCache(path)) == 0


def test_wrong_size_position_is_refused():
    with Oracle(6, cache_path=None, table_bits=10) as oracle:
        with pytest.raises(ValueError, match="the oracle is for 6x6"):
            oracle.value(Position.start(4))


WRITER = """
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
import othello.rules.oracle as O
from othello.players.match import random_position
O.FLUSH_SECONDS = 0.0
rng = np.random.default_rng(0)
oracle = O.Oracle(6, cache_path=sys.argv[2], seed_paths=[], table_bits=16, split_empties=7,
                  store_min_empties=5)
print("ready", flush=True)
while True:
    oracle.value(random_position(6, 12, rng))
"""


def test_killed_writer_leaves_a_readable_cache_and_readers_never_block(tmp_path):
    path = tmp_path / "c.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(ROOT), str(path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if path.exists() and len(BoundCache(path, read_only=True)) > 50:
                break
        # a reader in the middle of the writer's work
        assert len(BoundCache(path, read_only=True)) > 50
    finally:
        proc.kill()
        proc.wait()
    cache = BoundCache(path)
    rows = cache.rows()
    assert len(rows) > 50 and cache.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    engine = Engine(18)
    for _, me, opp, lower, upper, _ in rows[:40]:
        pos = Position(6, int(me) % (1 << 64), int(opp) % (1 << 64), True)
        value = engine.value(pos)
        assert lower <= value <= upper


def test_perfect_players_reach_the_solved_value():
    rng = np.random.default_rng(12)
    black, white = make_player("perfect", 6), make_player("perfect", 6)
    for _ in range(3):
        pos = random_position(6, 14, rng)
        want = Solver(6).solve(pos)[0]
        mover_black = pos.black_to_move
        while not pos.is_over():
            pos = pos.play((black if pos.black_to_move else white).choose(pos, rng))
        b, w = pos.counts()
        assert (b - w if mover_black else w - b) == want


def run_cli(args, capsys):
    code = solve_main(args)
    return code, capsys.readouterr()


def test_cli_values_wld_and_all_moves(capsys, tmp_path):
    pos, moves = moves_to(6, 12, np.random.default_rng(13))
    base = ["--moves", " ".join(moves), "--cache", str(tmp_path / "c.sqlite")]
    margin, _ = Solver(6).solve(pos)
    _, out = run_cli(base + ["--all-moves"], capsys)
    lines = out.out.strip().splitlines()
    assert lines[0].startswith(f"margin {margin} best ")
    values = {m: -Solver(6).solve(pos.play(m))[0] for m in pos.legal_moves()}
    assert lines[1:] == [f"{move_name(m, 6)} {v}" for m, v in values.items()]
    _, out = run_cli(base + ["--wld"], capsys)
    word = "win" if margin > 0 else "draw" if margin == 0 else "loss"
    assert out.out.startswith(f"result {word} best ")


@pytest.mark.parametrize("args,needle", [
    (["--board", "X" * 30], "--board has 30 squares, a 6x6 board has 36"),
    (["--size", "4", "--board", "." * 36], "a 4x4 board has 16"),
    (["--board", "." * 35 + "Z"], "square 36 is 'Z'"),
    (["--moves", "c2 zz"], "ply 2"),
    (["--moves", "a1"], "not a legal move"),
    (["--table-bits", "40", "--max-empties", "40"], "--table-bits"),
])
def test_cli_bad_input_gives_one_line(args, needle, capsys):
    with pytest.raises(SystemExit) as exc:
        solve_main(args + ["--no-cache"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_cli_corrupt_cache_one_line_warning(tmp_path, capsys):
    path = tmp_path / "bad.sqlite"
    path.write_bytes(b"garbage" * 50)
    pos = random_position(6, 9, np.random.default_rng(2))
    board = "".join("X" if pos.black >> sq & 1 else "O" if pos.white >> sq & 1 else "."
                    for sq in range(36))
    to_move = "black" if pos.black_to_move else "white"
    solve_main(["--board", board, "--to-move", to_move, "--cache", str(path)])
    out = capsys.readouterr()
    assert len(out.err.strip().splitlines()) == 1 and "not a readable oracle cache" in out.err
    assert out.out.startswith(f"margin {Solver(6).solve(pos)[0]} best ")


def test_solve_start_4x4(tmp_path, capsys):
    out = tmp_path / "solve.json"
    code = solve_start_main(["--size", "4", "--cache", str(tmp_path / "c.sqlite"), "--fresh",
                             "--split-empties", "6", "--table-bits", "16", "--out", str(out),
                             "--export", str(tmp_path / "top.sqlite")])
    record = json.loads(out.read_text())
    assert record["export"]["rows"] == len(BoundCache(tmp_path / "top.sqlite", read_only=True))
    with Oracle(4, cache_path=None, seed_paths=[tmp_path / "top.sqlite"], table_bits=10) as o:
        assert o.bounds(Position.start(4))[:2] == (-8, -8)
    assert code == 0 and record["value_for_black"] == -8
    assert (record["final_black"], record["final_white"]) == (3, 11)
    assert record["value_ge_expected"] and not record["value_ge_expected_plus_1"]
    assert "value -8 for Black" in capsys.readouterr().out
    # a second run resumes from the cache: the proven bounds answer without search
    solve_start_main(["--size", "4", "--cache", str(tmp_path / "c.sqlite"), "--split-empties",
                      "6", "--table-bits", "16", "--out", str(out), "--export", "none"])
    again = json.loads(out.read_text())
    assert again["resumed"] and again["proof_nodes"] == [0, 0] and again["value_for_black"] == -8


def test_solve_start_one_worker_reuses_the_table(tmp_path):
    """One worker runs the second proof and the perfect line in the first proof's table: the
    same answers as two workers with a table each, for fewer nodes."""
    records = []
    for workers in (1, 2):
        out = tmp_path / f"solve{workers}.json"
        solve_start_main(["--size", "4", "--cache", str(tmp_path / f"c{workers}.sqlite"),
                          "--split-empties", "6", "--table-bits", "16", "--out", str(out),
                          "--export", "none", "--workers", str(workers)])
        records.append(json.loads(out.read_text()))
    one, two = records
    assert one["perfect_line"] == two["perfect_line"] and one["value_for_black"] == -8
    assert one["proof_nodes"][0] == two["proof_nodes"][0]
    assert one["proof_nodes"][1] < two["proof_nodes"][1]
    assert one["line_nodes"] < two["line_nodes"]


def test_entry_points_have_help():
    for args in (["-m", "othello.solve", "--help"], ["scripts/solve_start.py", "--help"]):
        out = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                             env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
        assert out.returncode == 0 and "usage" in out.stdout


def test_sqlite_rows_hold_no_pickles(tmp_path):
    with small_oracle(6, tmp_path / "c.sqlite", split=7) as oracle:
        oracle.value(random_position(6, 11, np.random.default_rng(4)))
    db = sqlite3.connect(tmp_path / "c.sqlite")
    types = {t for (t,) in db.execute("SELECT DISTINCT typeof(lower) || typeof(me) || "
                                      "typeof(move) FROM bounds")}
    assert types == {"integerintegerinteger"}


def test_committed_6x6_cache_answers_near_the_start():
    """The committed top of the start proof: exact value -4 (White 20-16), best moves found
    without search along the perfect line."""
    record = json.loads((ROOT / "results" / "oracle" / "solve_6x6.json").read_text())
    assert record["value_for_black"] == -4 and not record["dirty"]
    with Oracle(6, cache_path=None, table_bits=10) as oracle:
        pos = Position.start(6)
        assert oracle.bounds(pos)[:2] == (-4, -4)
        for ply in range(3):
            value, move = oracle.best_move(pos)
            assert value == (-4 if ply % 2 == 0 else 4) and move in pos.legal_moves()
            pos = pos.play(move)
        assert oracle.engine.nodes == 0
        player = make_player("perfect", 6)
        assert player.choose(Position.start(6), np.random.default_rng(0)) in \
            Position.start(6).legal_moves()


def test_cache_merges_bounds_from_several_writers(tmp_path):
    pos = random_position(6, 20, np.random.default_rng(5))
    image = transform_position(pos, 6)
    a, b = BoundCache(tmp_path / "c.sqlite"), BoundCache(tmp_path / "c.sqlite")
    a.put_many([(pos, -4, 10, pos.legal_moves()[0])])
    b.put_many([(image, -100, 100, -1)])  # a weaker claim changes nothing
    assert a.get(pos) == (-4, 10, pos.legal_moves()[0])
    b.put_many([(image, 0, 100, transform_move(pos.legal_moves()[-1], 6, 6))])
    assert a.get(pos) == (0, 10, pos.legal_moves()[-1])
