"""Feature browser speed in headless Chromium, its data size, and the README screenshots.

    python bench/bench_vis.py [--data vis/data] [--sae ID]

Serves the page with the generated data, opens a deep link to feature 0 of the widest SAE (or
--sae) and times: load to first feature on screen (cold), switching to the next feature (same
shard, cached), jumping to a feature in a shard not loaded yet, opening the live position view
(network and encoder weights fetched), and a live position: a move list typed into the page to
its policy, value and active features on screen (measured in the page, from the move list to the
rendered list, and end to end through playwright). Targets of issue 16: first feature < 0.5 s,
live position < 100 ms, the default grid's data < 250 MB (every file under --data). The times are
also quoted as ratios to a baseline measured in the same run: the page with its index only (no
SAE chosen yet). Writes bench/vis.json and screenshots in results/vis/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.config import add_config_flags, add_run_flags, at_least, config_from_args, knob
from common.io import REPO_ROOT, results_version, write_json
from othello.rules.board import Position, move_name
from vis.browser import INSTALL_HINT, find_chromium, make_site, serve, wait_feature

ROOT = REPO_ROOT
LIVE_MOVES = "e4 e5 c2 f4 f5 e3 d5 b4 c5 b1"  # a legal opening, for the live screenshot


@dataclass(frozen=True)
class BenchConfig:
    data: Path = knob(ROOT / "vis" / "data", "the generated browser data")
    sae: str | None = knob(None, "SAE id (default: the one with most features)")
    screenshots: Path = knob(ROOT / "results" / "vis", "folder of the README screenshots")
    repeats: int = knob(5, "page loads measured (medians reported)", check=at_least(1))
    positions: int = knob(20, "live positions timed per page load", check=at_least(1))


def data_bytes(folder: Path) -> int:
    """Bytes of every file under the data folder (what a copy of the browser would ship)."""
    return sum(p.stat().st_size for p in folder.resolve().rglob("*") if p.is_file())


def move_lists(count: int, size: int, seed: int = 0) -> list[str]:
    """Move lists of random games, cut at random plies (passes written out)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        pos, moves = Position.start(size), []
        for _ in range(int(rng.integers(1, size * size - 4))):
            legal = pos.legal_moves()
            if not legal:
                break
            move = legal[int(rng.integers(len(legal)))]
            moves.append(move_name(move, size))
            pos = pos.play(move)
        out.append(" ".join(moves))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_config_flags(p, BenchConfig)
    add_run_flags(p, out="JSON file, default bench/vis.json")
    ns = p.parse_args(argv)
    args, _ = config_from_args(ns, BenchConfig, BenchConfig())
    out_json = ns.out or ROOT / "bench" / "vis.json"
    version = results_version(args.screenshots)
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit(INSTALL_HINT)
    index_path = args.data / "index.json"
    if not index_path.is_file():
        raise SystemExit(f"{index_path} not found: run python vis/generate_vis_data.py first")
    saes = json.loads(index_path.read_text())["saes"]
    sae = next((s for s in saes if s["id"] == args.sae), None) if args.sae else \
        max(saes, key=lambda s: (s["n_features"], s["id"]))
    if sae is None:
        raise SystemExit(f"no SAE {args.sae!r} in {index_path}")
    summary = json.loads((args.data / sae["id"] / "summary.json").read_text())
    from playwright.sync_api import sync_playwright

    index = json.loads(index_path.read_text())
    size = index.get("datasets", {}).get(sae["dataset"], {}).get("size", 6)
    lists = move_lists(args.positions * args.repeats, size)
    out = {"sae": sae["id"], "n_features": sae["n_features"], "bytes": sae["bytes"],
           "largest_file": sae["largest_shard"], "data_bytes": data_bytes(args.data),
           "data_saes": len(saes), "data_features": sum(s["n_features"] for s in saes)}
    with tempfile.TemporaryDirectory() as tmp, serve(make_site(Path(tmp) / "site",
                                                               args.data)) as url:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=["--no-sandbox"])
            first, base, switch, jump, live_open, live_page, live_e2e = ([] for _ in range(7))
            for _ in range(args.repeats):
                ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
                page = ctx.new_page()
                t = time.perf_counter()
                page.goto(url + "index.html#sae=__none__")
                page.wait_for_selector("#error:not([hidden])")  # index read, no SAE to show
                base.append(time.perf_counter() - t)
                page.goto("about:blank")
                t = time.perf_counter()
                page.goto(url + f"index.html#sae={sae['id']}&feature=0")
                wait_feature(page, 0, sae["id"])
                first.append(time.perf_counter() - t)
                for fid in range(1, min(6, sae["n_features"])):
                    t = time.perf_counter()
                    page.click("#next")
                    wait_feature(page, fid, sae["id"])
                    switch.append(time.perf_counter() - t)
                far = sae["n_features"] - 1
                t = time.perf_counter()
                page.fill("#feature-id", str(far))
                page.click("#go")
                wait_feature(page, far, sae["id"])
                jump.append(time.perf_counter() - t)
                t = time.perf_counter()
                page.click("#view-position")
                page.wait_for_selector('#live[data-state="ready"]')
                live_open.append(time.perf_counter() - t)
                for moves in lists[:args.positions]:
                    live_page.append(page.evaluate(
                        "async (m) => { const t = performance.now(); "
                        "document.getElementById('moves-input').value = m; await playMoves(m); "
                        "return (performance.now() - t) / 1000; }", moves))
                for moves in lists[args.positions:2 * args.positions] or lists[:args.positions]:
                    t = time.perf_counter()
                    page.fill("#moves-input", moves)
                    page.press("#moves-input", "Enter")
                    page.wait_for_selector(f'#live[data-moves="{moves}"][data-state="ready"]')
                    live_e2e.append(time.perf_counter() - t)
                lists = lists[args.positions:] + lists[:args.positions]
                ctx.close()
            out.update({"index_only_s": statistics.median(base),
                        "first_feature_s": statistics.median(first),
                        "switch_cached_s": statistics.median(switch),
                        "jump_new_shard_s": statistics.median(jump),
                        "live_open_s": statistics.median(live_open),
                        "live_position_s": statistics.median(live_page),
                        "live_position_max_s": max(live_page),
                        "live_position_end_to_end_s": statistics.median(live_e2e)})
            # screenshots: the feature with the best concept F1, and a concept search
            best = max(range(summary["n_features"]), key=lambda i: summary["f1"][i])
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(url + f"index.html#sae={sae['id']}&feature={best}")
            wait_feature(page, best, sae["id"])
            args.screenshots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.screenshots / "feature.png"), full_page=True)
            page.screenshot(path=str(args.screenshots / "feature_top.png"))
            page.select_option("#sort", "f1")
            page.fill("#search", "corner")
            page.screenshot(path=str(args.screenshots / "search.png"))
            page.goto(url + f"index.html#sae={sae['id']}&view=position&moves={LIVE_MOVES}")
            page.wait_for_selector('#live[data-state="ready"]')
            page.screenshot(path=str(args.screenshots / "live.png"))
            out["screenshot_feature"] = best
            browser.close()
    for k in ("first_feature_s", "switch_cached_s", "jump_new_shard_s", "live_position_s"):
        out[k.removesuffix("_s") + "_vs_index_only"] = out[k] / out["index_only_s"]
    print(f"{sae['id']} ({sae['n_features']} features, {sae['bytes'] / 1e6:.1f} MB, largest "
          f"file {sae['largest_shard'] / 1e3:.0f} kB), medians of {args.repeats}:")
    print(f"  index only (baseline)       {1e3 * out['index_only_s']:7.0f} ms")
    for k, label in (("first_feature_s", "first feature (cold)"),
                     ("switch_cached_s", "next feature (cached)"),
                     ("jump_new_shard_s", "jump to an unloaded shard"),
                     ("live_open_s", "open the live view (weights)"),
                     ("live_position_s", "live position (in the page)"),
                     ("live_position_end_to_end_s", "live position (playwright)")):
        print(f"  {label:30s} {1e3 * out[k]:7.1f} ms  "
              f"({out[k] / out['index_only_s']:.2f}x baseline)")
    print(f"  data: {out['data_bytes'] / 1e6:.1f} MB for {out['data_saes']} SAEs "
          f"({out['data_features']} features) under {args.data}")
    write_json(out_json, out)
    write_json(args.screenshots / "meta.json",
               {"config": {"data": str(args.data), "sae": sae["id"],
                           "feature": out["screenshot_feature"]},
                "seed": None, "code_version": version,
                "made_by": "python bench/bench_vis.py"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
