"""The feature browser's data files: per SAE a summary.json (arrays over features, for sorting and
search) and shard_NNN.json files of full records, and one index.json of the SAEs."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from common.config import config_dict
from common.io import CorruptFileError, atomic_write_bytes, code_version, read_json, write_json
from sae.archs import ARCHS


def _dump(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def write_sae(records: list[dict], out: Path, shard_size: int) -> dict:
    """summary.json (per-feature arrays) and shard_NNN.json files; returns byte counts."""
    out.mkdir(parents=True, exist_ok=True)
    summary = {"n_features": len(records), "shard_size": shard_size,
               "n_shards": math.ceil(len(records) / shard_size),
               "freq": [r["freq"] for r in records], "mean_act": [r["mean_act"] for r in records],
               "concept": [r["concept"]["label"] for r in records],
               "f1": [r["concept"]["f1"] for r in records]}
    sizes = {"summary.json": len(_dump(summary))}
    atomic_write_bytes(out / "summary.json", _dump(summary))
    for s in range(summary["n_shards"]):
        part = records[s * shard_size:(s + 1) * shard_size]
        blob = _dump({"start": s * shard_size, "features": part})
        name = f"shard_{s:03d}.json"
        atomic_write_bytes(out / name, blob)
        sizes[name] = len(blob)
    return sizes


def sae_entry(sae_dir: Path, dataset: str, sizes: dict) -> dict:
    """The index row of one SAE: architecture, width, sparsity setting, metrics, file sizes."""
    meta = read_json(sae_dir / "meta.json")
    metrics_path = sae_dir / "metrics.json"
    metrics = read_json(metrics_path) if metrics_path.is_file() else {}
    cfg = meta.get("config", {})
    arch = cfg.get("arch", meta.get("sae", {}).get("arch", "?"))
    sparsity = cfg.get("sparsity")
    if sparsity is None:  # written before configs named their swept knobs
        knobs = ARCHS[arch].grid if arch in ARCHS else {}
        sparsity = {name: cfg.get(name, cfg.get("hyper", {}).get(name)) for name in knobs}
    return {"id": f"{dataset}/{sae_dir.name}", "dataset": dataset, "name": sae_dir.name,
            "arch": arch, "n_features": cfg.get("n_features"),
            "sparsity": sparsity,
            "metrics": {k: metrics[k] for k in ("reconstruction", "splice", "concepts")
                        if k in metrics},
            "bytes": sum(sizes.values()), "largest_shard": max(sizes.values())}


def write_index(out: Path, entries: list[dict], config) -> None:
    """index.json (merged with SAEs already there) and meta.json."""
    path = out / "index.json"
    try:
        old = read_json(path)["saes"] if path.is_file() else []
    except (CorruptFileError, KeyError, TypeError):
        print(f"warning: {path} is corrupt; rebuilding it from this run's SAEs only",
              file=sys.stderr)
        old = []
    ids = {e["id"] for e in entries}
    saes = sorted([e for e in old if e["id"] not in ids] + entries, key=lambda e: e["id"])
    write_json(path, {"saes": saes})
    write_json(out / "meta.json", {"config": config_dict(config), "seed": config.seed,
                                   "code_version": code_version()})
