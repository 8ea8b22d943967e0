"""The feature browser's data files, per dataset folder `<out>/<dataset>/`:

    net.json + net.bin        the network's weights (float32, little-endian) for the page's live
                              forward pass; net.json names each tensor's offset and shape
    positions.bin             the boards every example refers to, by dataset row (see
                              othello.interp.vis.positions_table), packed (`pack_positions`):
                              the page reads only the rows it shows, with no JSON to parse
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


POSITIONS_MAGIC, POSITIONS_VERSION = b"OPOS", 1
NO_VALUE = -128  # `value` of a board the oracle did not solve (above the empties threshold)
_SQUARE_CODE = {".": 0, "X": 1, "O": 2}


def pack_positions(table: dict) -> bytes:
    """positions.bin: a 16-byte header (magic OPOS, version, count, board size, oracle
    threshold), then column arrays over the rows in ascending order: int32 row, the board at 2
    bits a square (0 empty, 1 X = black, 2 O = white; square s in byte s // 4 at bit 2 (s % 4)),
    uint8 black to move, int8 last move (-1: none), int8 oracle value (-128: not solved) and the
    oracle's best moves as a bit set (move s: byte s // 8, bit s % 8; move n * n is the
    pass). All little-endian. About
    a third of the JSON's size, and the page decodes only the boards it draws."""
    n, count = table["size"], len(table["row"])
    rows = np.asarray(table["row"], dtype="<i4")
    if count and not (np.diff(rows) > 0).all():
        raise ValueError("positions rows must be strictly ascending")
    squares = n * n
    codes = np.zeros((count, 4 * math.ceil(squares / 4)), dtype=np.uint8)
    for i, board in enumerate(table["board"]):
        codes[i, :squares] = [_SQUARE_CODE[c] for c in board]
    quads = codes.reshape(count, -1, 4)
    boards = (quads[..., 0] | quads[..., 1] << 2 | quads[..., 2] << 4 | quads[..., 3] << 6)
    best = np.zeros((count, 8 * math.ceil((squares + 1) / 8)), dtype=bool)  # + the pass
    for i, moves in enumerate(table["best"]):
        best[i, moves or []] = True
    value = np.array([NO_VALUE if v is None else v for v in table["value"]], dtype=np.int8)
    header = POSITIONS_MAGIC + np.array([POSITIONS_VERSION, count], dtype="<u4").tobytes() + \
        bytes([n, table["max_empties"], 0, 0])
    return b"".join([header, rows.tobytes(), boards.astype(np.uint8).tobytes(),
                     np.asarray(table["black"], dtype=np.uint8).tobytes(),
                     np.asarray(table["last"], dtype=np.int8).tobytes(), value.tobytes(),
                     np.packbits(best, axis=1, bitorder="little").tobytes()])


def unpack_positions(blob: bytes) -> dict:
    """The table `pack_positions` packed (ValueError for a file that is not one)."""
    if len(blob) < 16 or blob[:4] != POSITIONS_MAGIC:
        raise ValueError("not a positions file (no OPOS header)")
    version, count = np.frombuffer(blob, dtype="<u4", count=2, offset=4).tolist()
    n, max_empties = blob[12], blob[13]
    if version != POSITIONS_VERSION:
        raise ValueError(f"positions file version {version}, expected {POSITIONS_VERSION}")
    board_bytes, best_bytes = math.ceil(n * n / 4), math.ceil((n * n + 1) / 8)
    if len(blob) != 16 + count * (4 + board_bytes + 3 + best_bytes):
        raise ValueError(f"positions file of {len(blob)} bytes does not hold {count} rows")
    at = 16

    def take(dtype: str, width: int = 1) -> np.ndarray:
        nonlocal at
        arr = np.frombuffer(blob, dtype=dtype, count=count * width, offset=at)
        at += arr.nbytes
        return arr.reshape(count, width) if width > 1 else arr
    rows, packed = take("<i4"), take("u1", board_bytes)
    black, last, value, best = take("u1"), take("i1"), take("i1"), take("u1", best_bytes)
    codes = np.stack([(packed >> (2 * k)) & 3 for k in range(4)], axis=2).reshape(count, -1)
    bits = np.unpackbits(best, axis=1, bitorder="little")[:, :n * n + 1]
    return {"size": n, "max_empties": max_empties, "row": rows.tolist(),
            "board": ["".join(".XO"[c] for c in b[:n * n]) for b in codes],
            "black": black.tolist(), "last": last.tolist(),
            "best": [None if v == NO_VALUE else np.nonzero(b)[0].tolist()
                     for v, b in zip(value, bits, strict=True)],
            "value": [None if v == NO_VALUE else int(v) for v in value]}


def read_positions(path: Path, max_empties: int) -> dict | None:
    """A positions table written before with the same oracle threshold (None otherwise)."""
    if not path.is_file():
        return None
    try:
        old = unpack_positions(path.read_bytes())
    except (OSError, ValueError):
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
    blob = pack_positions(table)
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
