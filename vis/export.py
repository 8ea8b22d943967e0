"""The feature browser's data files, per dataset folder `<out>/<dataset>/`:

    net.json + net.bin        the network's weights (float32, little-endian) for the page's live
                              forward pass; net.json names each tensor's offset and shape
    positions.json            the boards every example refers to, by dataset row (see
                              othello.interp.vis.positions_table)
    <sae>/summary.json        arrays over features (for sorting, search and filters), square-map
                              base rates, the encoder's description
    <sae>/encoder.bin         the SAE's encoder (float32) for the live features
    <sae>/shard_NNN.json      full feature records, `shard_size` features per file

and one index.json of the SAEs (merged with those already there) and meta.json."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

from common.config import config_dict
from common.io import CorruptFileError, atomic_write_bytes, code_version, read_json, write_json
from othello.az.model import PolicyValueNet
from sae.archs import ARCHS, SAE


def _dump(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def write_tensors(path: Path, tensors: dict[str, torch.Tensor]) -> dict:
    """Concatenated float32 little-endian arrays; returns {name: {offset, shape}} (offsets in
    floats) for the page to cut the file with Float32Array views."""
    index, parts, offset = {}, [], 0
    for name, t in tensors.items():
        arr = np.ascontiguousarray(t.detach().cpu().numpy(), dtype="<f4")
        index[name] = {"offset": offset, "shape": list(arr.shape)}
        parts.append(arr.tobytes())
        offset += arr.size
    atomic_write_bytes(path, b"".join(parts))
    return index


def write_net(net: PolicyValueNet, out: Path) -> int:
    """net.json and net.bin of the network; returns their bytes."""
    out.mkdir(parents=True, exist_ok=True)
    tensors = write_tensors(out / "net.bin", dict(net.state_dict()))
    cfg = net.config
    desc = {"size": cfg.size, "width": cfg.width, "blocks": cfg.blocks, "layer_norm_eps":
            net.final_norm.eps, "file": "net.bin", "tensors": tensors}
    atomic_write_bytes(out / "net.json", _dump(desc))
    return (out / "net.json").stat().st_size + (out / "net.bin").stat().st_size


def encoder_desc(sae: SAE, layer: int, out: Path) -> dict:
    """encoder.bin (enc_weight [d, F], enc_bias [F], dec_bias [d], training units) and what the
    page needs to apply it: encode(x) = act((x * scale - [dec_bias]) @ enc_weight + enc_bias)."""
    tensors = {"enc_weight": sae.enc_weight, "enc_bias": sae.enc_bias, "dec_bias": sae.dec_bias}
    return {"arch": sae.arch, "k": getattr(sae, "k", None), "scale": float(sae.scale),
            "subtract_dec_bias": sae.subtract_dec_bias, "layer": layer, "d": sae.d,
            "n_features": sae.n_features, "file": "encoder.bin",
            "tensors": write_tensors(out / "encoder.bin", tensors)}


def write_sae(records: list[dict], base: dict, encoder: dict, out: Path, shard_size: int,
              thresholds: dict) -> dict:
    """summary.json (per-feature arrays) and shard_NNN.json files; returns byte counts (the
    encoder file included)."""
    out.mkdir(parents=True, exist_ok=True)

    def concept(r: dict, c: int, key: str):
        cs = r["concepts"]
        return cs[c][key] if len(cs) > c else ("none" if key == "label" else 0.0)
    summary = {"n_features": len(records), "shard_size": shard_size,
               "n_shards": math.ceil(len(records) / shard_size),
               "freq": [r["freq"] for r in records], "mean_act": [r["mean_act"] for r in records],
               "concept": [concept(r, 0, "label") for r in records],
               "f1": [concept(r, 0, "f1") for r in records],
               "concept2": [concept(r, 1, "label") for r in records],
               "f1_2": [concept(r, 1, "f1") for r in records],
               "base": base, "thresholds": thresholds, "encoder": encoder}
    sizes = {"summary.json": len(_dump(summary)),
             "encoder.bin": (out / "encoder.bin").stat().st_size}
    atomic_write_bytes(out / "summary.json", _dump(summary))
    for s in range(summary["n_shards"]):
        part = records[s * shard_size:(s + 1) * shard_size]
        blob = _dump({"start": s * shard_size, "features": part})
        name = f"shard_{s:03d}.json"
        atomic_write_bytes(out / name, blob)
        sizes[name] = len(blob)
    return sizes


def read_positions(path: Path, max_empties: int) -> dict | None:
    """A positions table written before with the same oracle threshold (None otherwise)."""
    if not path.is_file():
        return None
    try:
        old = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return old if old.get("max_empties") == max_empties else None


def merge_positions(old: dict | None, new: dict, size: int, max_empties: int) -> dict:
    """One table of the rows of both (new rows win), sorted by row."""
    cols = ("board", "black", "last", "best", "value")
    rows = {}
    for table in (old, new):
        if table:
            for i, r in enumerate(table["row"]):
                rows[r] = [table[c][i] for c in cols]
    order = sorted(rows)
    return {"size": size, "max_empties": max_empties, "row": order,
            **{c: [rows[r][k] for r in order] for k, c in enumerate(cols)}}


def write_positions(table: dict, path: Path) -> int:
    blob = _dump(table)
    atomic_write_bytes(path, blob)
    return len(blob)


def sae_entry(sae_dir: Path, dataset: str, sizes: dict, family: list[str]) -> dict:
    """The index row of one SAE: architecture, width, sparsity setting, metrics, file sizes, and
    the ids of the other widths of its grid family."""
    meta = read_json(sae_dir / "meta.json")
    metrics_path = sae_dir / "metrics.json"
    metrics = read_json(metrics_path) if metrics_path.is_file() else {}
    cfg = meta.get("config", {})
    arch = cfg.get("arch", meta.get("sae", {}).get("arch", "?"))
    return {"id": f"{dataset}/{sae_dir.name}", "dataset": dataset, "name": sae_dir.name,
            "arch": arch, "n_features": cfg.get("n_features"),
            "sparsity": sparsity_of(meta),
            "metrics": {k: metrics[k] for k in ("reconstruction", "splice", "concepts")
                        if k in metrics},
            "family": family,
            "bytes": sum(sizes.values()), "largest_shard": max(sizes.values())}


def sparsity_of(meta: dict) -> dict:
    """The swept knobs of an SAE's meta.json ({'k': 32})."""
    cfg = meta.get("config", {})
    sparsity = cfg.get("sparsity")
    if sparsity is None:  # written before configs named their swept knobs
        arch = cfg.get("arch", meta.get("sae", {}).get("arch", "?"))
        knobs = ARCHS[arch].grid if arch in ARCHS else {}
        sparsity = {name: cfg.get(name, cfg.get("hyper", {}).get(name)) for name in knobs}
    return sparsity


def write_index(out: Path, entries: list[dict], datasets: dict, config) -> None:
    """index.json (merged with SAEs and datasets already there) and meta.json."""
    path = out / "index.json"
    try:
        old = read_json(path) if path.is_file() else {}
        if not isinstance(old, dict) or not isinstance(old.get("saes", []), list):
            raise CorruptFileError(f"{path}: not an index")
    except CorruptFileError:
        print(f"warning: {path} is corrupt; rebuilding it from this run's SAEs only",
              file=sys.stderr)
        old = {}
    ids = {e["id"] for e in entries}
    saes = sorted([e for e in old.get("saes", []) if e["id"] not in ids] + entries,
                  key=lambda e: e["id"])
    write_json(path, {"saes": saes, "datasets": {**old.get("datasets", {}), **datasets}})
    write_json(out / "meta.json", {"config": config_dict(config), "seed": config.seed,
                                   "code_version": code_version()})
