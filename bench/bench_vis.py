"""Feature browser speed in headless Chromium, and the README screenshots.

    python bench/bench_vis.py [--data vis/data] [--sae ID]

Serves the page with the generated data, opens a deep link to feature 0 of the widest SAE (or
--sae) and times: load to first feature on screen (cold), switching to the next feature (same
shard, cached), and jumping to a feature in a shard not loaded yet. The goal of the issue is a
first feature under 1 s; the figures are also quoted as ratios to a baseline measured in the same
run: the page with its index only (no SAE chosen yet). Writes bench/vis.json and screenshots in
results/vis/.
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

from common.config import add_config_flags, add_run_flags, at_least, config_from_args, knob
from common.io import REPO_ROOT, results_version, write_json
from vis.browser import INSTALL_HINT, find_chromium, make_site, serve, wait_feature

ROOT = REPO_ROOT


@dataclass(frozen=True)
class BenchConfig:
    data: Path = knob(ROOT / "vis" / "data", "the generated browser data")
    sae: str | None = knob(None, "SAE id (default: the one with most features)")
    screenshots: Path = knob(ROOT / "results" / "vis", "folder of the README screenshots")
    repeats: int = knob(5, "page loads measured (medians reported)", check=at_least(1))


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

    out = {"sae": sae["id"], "n_features": sae["n_features"], "bytes": sae["bytes"],
           "largest_file": sae["largest_shard"]}
    with tempfile.TemporaryDirectory() as tmp, serve(make_site(Path(tmp) / "site",
                                                               args.data)) as url:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                         args=["--no-sandbox"])
            first, base, switch, jump = [], [], [], []
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
                for fid in range(1, 6):
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
                ctx.close()
            out.update({"index_only_s": statistics.median(base),
                        "first_feature_s": statistics.median(first),
                        "switch_cached_s": statistics.median(switch),
                        "jump_new_shard_s": statistics.median(jump)})
            # screenshots: the feature with the best concept F1, and a concept search
            best = max(range(summary["n_features"]), key=lambda i: summary["f1"][i])
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(url + f"index.html#sae={sae['id']}&feature={best}")
            wait_feature(page, best, sae["id"])
            args.screenshots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.screenshots / "feature.png"), full_page=True)
            page.select_option("#sort", "f1")
            page.fill("#search", "legal")
            page.screenshot(path=str(args.screenshots / "search.png"))
            out["screenshot_feature"] = best
            browser.close()
    for k in ("first_feature_s", "switch_cached_s", "jump_new_shard_s"):
        out[k.replace("_s", "_vs_index_only")] = out[k] / out["index_only_s"]
    print(f"{sae['id']} ({sae['n_features']} features, {sae['bytes'] / 1e6:.1f} MB, largest "
          f"file {sae['largest_shard'] / 1e3:.0f} kB), medians of {args.repeats}:")
    print(f"  index only (baseline)       {1e3 * out['index_only_s']:7.0f} ms")
    for k, label in (("first_feature_s", "first feature (cold)"),
                     ("switch_cached_s", "next feature (cached)"),
                     ("jump_new_shard_s", "jump to an unloaded shard")):
        print(f"  {label:27s} {1e3 * out[k]:7.0f} ms  "
              f"({out[k] / out['index_only_s']:.2f}x baseline)")
    write_json(out_json, out)
    write_json(args.screenshots / "meta.json",
               {"config": {"data": str(args.data), "sae": sae["id"],
                           "feature": out["screenshot_feature"]},
                "seed": None, "code_version": version,
                "made_by": "python bench/bench_vis.py"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
