"""A grid of SAEs on one activations dataset: train, save, evaluate, summarise; resumable.

Each SAE goes to `<out>/<name>/` (sae.pt, meta.json with its config, data and code version,
metrics.json); a rerun skips every SAE whose metrics.json was written for the same config,
dataset and split.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch

from common.io import write_json
from sae.data import Split
from sae.evaluate import Dataset, evaluate
from sae.train import TrainConfig, train_sae

WIDTHS = (256, 512, 1024, 2048, 4096)
L1S = (1.0, 2.0, 3.0, 4.0, 5.0)
KS = (8, 16, 32, 64)
STEPS = 700  # x 1024 rows: about 0.75 epoch of 1M positions; the grid takes about 55 min
QUICK = {"widths": (256, 512), "l1s": (2.0, 5.0), "ks": (8, 32), "steps": 150, "holdout": 0.2}


def grid(archs: Iterable[str], widths: Iterable[int], l1s: Iterable[float], ks: Iterable[int],
         **train_kwargs) -> list[TrainConfig]:
    """ReLU SAEs over widths x l1, TopK over widths x k (k < width), cheapest first."""
    cfgs = []
    for arch in archs:
        knobs = [{"l1": v} for v in l1s] if arch == "relu" else [{"k": v} for v in ks]
        for width in widths:
            cfgs += [TrainConfig(arch=arch, n_features=width, **knob, **train_kwargs)
                     for knob in knobs if knob.get("k", 0) < width]
    return sorted(cfgs, key=lambda c: c.n_features)


def run_one(cfg: TrainConfig, data: Dataset, split: Split, out: Path, data_info: dict,
            progress: bool = True, log: Callable[[dict], None] | None = None,
            code: str = "unknown") -> dict:
    """Train and evaluate one SAE (or reuse a finished one); returns its metrics.json content."""
    folder = out / cfg.name
    done = folder / "metrics.json"
    if done.is_file() and (folder / "sae.pt").is_file():
        old = json.loads(done.read_text())
        if old.get("config") == cfg.to_dict() and old.get("data") == data_info:
            return old
    torch.set_num_threads(1)
    start = time.perf_counter()
    sae, history = train_sae(cfg, data.acts, split, progress=progress, log=log)
    seconds = time.perf_counter() - start
    sae.save(folder / "sae.pt", train_config=cfg.to_dict())
    write_json(folder / "meta.json", {"config": cfg.to_dict(), "sae": sae.config(),
                                       "data": data_info, "seed": cfg.seed, "code_version": code})
    result = {"config": cfg.to_dict(), "data": data_info, "train_seconds": seconds,
              "tokens_per_s": cfg.steps * cfg.batch_size / seconds, "history": history,
              **evaluate(sae, data, split.test, seed=cfg.seed)}
    write_json(done, result)
    return result


def flat(result: dict) -> dict:
    """One summary row (the numbers the plots use) from a metrics.json dict."""
    cfg = result["config"]
    row = {"name": cfg["name"], "arch": cfg["arch"], "width": cfg["n_features"],
           "l1": cfg["l1"] if cfg["arch"] == "relu" else None,
           "k": cfg["k"] if cfg["arch"] != "relu" else None,
           "train_seconds": result["train_seconds"], "tokens_per_s": result["tokens_per_s"],
           **result["reconstruction"]}
    for key, value in result.get("splice", {}).items():
        row[key] = value
    for group, scores in result.get("concepts", {}).items():
        row[f"coverage_{group}"] = scores["coverage"]
        row[f"reconstruction_{group}"] = scores["reconstruction"]
    return row
