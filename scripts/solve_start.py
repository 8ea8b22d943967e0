"""Prove the perfect-play value of the start position (6x6: White wins 20-16, margin -4 for
Black; 4x4: White 11-3, margin -8) and print a perfect-play line.

Two null-window proofs: value >= V and not value >= V + 1, where V is the expected value (if a
proof fails, the search goes on from the bound it found until the value is exact). With one
worker (the default) they run one after the other in one table, which the perfect line then
reuses; `--workers 2` runs them in two processes (only worth it on two real cores: this
machine's 2 vCPUs share one core's throughput). Proven bounds of sub-positions go to the
sqlite cache as they are found, so an interrupted run resumes; `--fresh` starts from an empty
cache.

    python scripts/solve_start.py --size 4                  # seconds
    python scripts/solve_start.py --size 6 --fresh   # writes results/oracle/solve_6x6.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tqdm import tqdm

from common.config import checked_type, positive
from common.io import results_version
from othello.rules.board import Position, move_name
from othello.rules.cache import BoundCache, CacheCorruptError
from othello.rules.oracle import ROOT, Oracle, default_cache_path

EXPECTED = {4: -8, 6: -4}  # published values (margin for Black, the side to move)


def git_state() -> dict:
    """Commit and whether the tree had uncommitted changes (results must come from clean)."""
    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain"))}


def open_oracle(size: int, cache: str, table_bits: int, split: int, store_min: int) -> Oracle:
    return Oracle(size, cache_path=cache, seed_paths=[], table_bits=table_bits,
                  split_empties=split, store_min_empties=store_min)


def prove(size: int, cache: str, table_bits: int, split: int, store_min: int,
          cut: int) -> tuple[bool, int, float, float]:
    """One null-window proof at the start in its own oracle: (value >= cut, nodes, wall
    seconds, CPU seconds)."""
    start, cpu = time.perf_counter(), time.process_time()
    with open_oracle(size, cache, table_bits, split, store_min) as oracle:
        result = oracle.at_least(Position.start(size), cut)
        return (result, oracle.engine.nodes, time.perf_counter() - start,
                time.process_time() - cpu)


def prove_both(oracle: Oracle, cuts: list[int]) -> list[tuple[bool, int, float, float]]:
    """The proofs one after the other in one oracle, so that the second (and the perfect line
    after them) starts from the first one's table: its best moves order the search."""
    out = []
    for cut in cuts:
        start, cpu, nodes = time.perf_counter(), time.process_time(), oracle.engine.nodes
        result = oracle.at_least(Position.start(oracle.size), cut)
        out.append((result, oracle.engine.nodes - nodes, time.perf_counter() - start,
                    time.process_time() - cpu))
    return out


def export(cache: Path, out: Path, size: int, min_empties: int) -> int:
    """Copy the proven bounds of positions with at least `min_empties` empties (the top of the
    proof tree, what `perfect` needs to play from the start) into a small single-file sqlite,
    written to a temporary name and renamed into place. Returns the number of rows."""
    rows = BoundCache(cache, read_only=True).rows()
    keep = []
    for _, me, opp, lower, upper, move in rows:
        me, opp = int(me) % (1 << 64), int(opp) % (1 << 64)
        if size * size - (me | opp).bit_count() >= min_empties:
            keep.append((Position(size, me, opp, True), int(lower), int(upper), int(move)))
    tmp = out.with_name(out.name + ".tmp")
    for suffix in ("", "-wal", "-shm"):
        tmp.with_name(tmp.name + suffix).unlink(missing_ok=True)
    db = BoundCache(tmp)
    db.put_many(keep)
    db.db.execute("PRAGMA journal_mode=DELETE")
    db.close()
    tmp.replace(out)
    return len(keep)


def watch(cache: str, stop: threading.Event) -> None:
    """tqdm counter of the bounds stored so far (the proof's progress)."""
    with tqdm(desc="proven sub-positions", unit="", leave=False) as bar:
        while not stop.wait(5.0):
            try:
                db = BoundCache(cache, read_only=True)
                bar.n = len(db)
                db.close()
                bar.refresh()
            except CacheCorruptError:  # not created yet
                pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=6, choices=sorted(EXPECTED))
    parser.add_argument("--workers", type=int, default=1, choices=(1, 2),
                        help="2: the two proofs in two processes")
    parser.add_argument("--cache", default=None,
                        help="sqlite cache (default runs/oracle/NxN.sqlite)")
    parser.add_argument("--fresh", action="store_true", help="delete the cache first")
    parser.add_argument("--table-bits", type=checked_type(int, positive), default=23,
                        help="transposition table of 2^B entries (24 bytes each) per process")
    parser.add_argument("--split-empties", type=checked_type(int, positive), default=28,
                        help="sub-positions with at most this many empties go to the compiled "
                             "search in one piece")
    parser.add_argument("--export", default=None,
                        help="small committed cache of the top of the proof tree (default "
                             "results/oracle/NxN.sqlite); 'none' to skip")
    parser.add_argument("--export-min-empties", type=checked_type(int, positive), default=None,
                        help="export positions with at least this many empties (default: "
                             "--split-empties)")
    parser.add_argument("--out", default=None,
                        help="JSON record (default results/oracle/solve_NxN.json)")
    args = parser.parse_args(argv)
    if not 8 <= args.table_bits <= 30:
        parser.exit(2, "error: --table-bits must be 8-30\n")
    size = args.size
    cache = Path(args.cache) if args.cache else default_cache_path(size)
    out = Path(args.out) if args.out else ROOT / "results" / "oracle" / f"solve_{size}x{size}.json"
    results_version(out.parent)  # committed results come from committed code
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            cache.with_name(cache.name + suffix).unlink(missing_ok=True)
    try:
        BoundCache(cache).close()
    except CacheCorruptError as e:
        parser.exit(2, f"error: {e} (use --fresh to start over)\n")
    rows_before = len(BoundCache(cache, read_only=True))
    expected = EXPECTED[size]
    git = git_state()
    store_min = min(18, size * size // 2)
    tasks = [(size, str(cache), args.table_bits, args.split_empties, store_min, cut)
             for cut in (expected, expected + 1)]
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(str(cache), stop), daemon=True)
    watcher.start()
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    oracle = open_oracle(*tasks[0][:5])
    if args.workers == 2:
        with mp.get_context("spawn").Pool(2) as pool:
            proofs = pool.starmap(prove, tasks)
    else:
        proofs = prove_both(oracle, [t[5] for t in tasks])
    stop.set()
    seconds = time.perf_counter() - t0
    # exact value (from the two bounds, or more proofs if the expected value was wrong) and a
    # line: with one worker, from the proofs' own table
    with oracle:
        nodes, line_cpu = oracle.engine.nodes, time.process_time()
        value = oracle.value(Position.start(size))
        line = oracle.principal_variation(Position.start(size))
        extra_nodes = oracle.engine.nodes - nodes
        line_cpu = time.process_time() - line_cpu
    total = time.perf_counter() - t0
    pos = Position.start(size)
    for m in line:
        pos = pos.play(m)
    black, white = pos.counts()
    record = {
        "size": size, "value_for_black": value, "final_black": black, "final_white": white,
        "expected": expected, "value_ge_expected": proofs[0][0],
        "value_ge_expected_plus_1": proofs[1][0],
        "perfect_line": " ".join(move_name(m, size) for m in line),
        "proof_nodes": [p[1] for p in proofs], "proof_seconds": [round(p[2], 1) for p in proofs],
        "proof_cpu_seconds": [round(p[3], 1) for p in proofs], "line_nodes": extra_nodes,
        "line_cpu_seconds": round(line_cpu, 1), "wall_seconds": round(total, 1),
        "proof_wall_seconds": round(seconds, 1), "workers": args.workers,
        "table_bits": args.table_bits, "table_mib_per_process": 24 * 2**args.table_bits / 2**20,
        "split_empties": args.split_empties, "cache": str(cache),
        "cache_rows_before": rows_before, "cache_rows_after": len(BoundCache(cache, True)),
        "resumed": rows_before > 0, "load_average_before": load_before,
        "load_average_after": os.getloadavg(), **git,
        "command": "python scripts/solve_start.py " + " ".join(sys.argv[1:] if argv is None
                                                                else argv),
    }
    if args.export != "none":
        target = Path(args.export) if args.export else ROOT / "results" / "oracle" / \
            f"{size}x{size}.sqlite"
        target.parent.mkdir(parents=True, exist_ok=True)
        min_e = args.export_min_empties or args.split_empties
        record["export"] = {"path": str(target), "min_empties": min_e,
                            "rows": export(cache, target, size, min_e),
                            "bytes": target.stat().st_size}
    print(f"{size}x{size} start: value {value} for Black (Black {black} - White {white})")
    print(f"perfect line: {record['perfect_line']}")
    print(f"proofs: >= {expected}: {proofs[0][0]}, >= {expected + 1}: {proofs[1][0]}; "
          f"nodes {sum(record['proof_nodes']):,}; {seconds:.1f} s on {args.workers} worker(s); "
          f"table 2^{args.table_bits}; cache {record['cache_rows_after']} rows")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")
    return 0 if value == expected else 1


if __name__ == "__main__":
    sys.exit(main())
