"""Write the feature browser's data (vis/data/) for trained SAEs.

    python vis/generate_vis_data.py                      # every SAE under runs/sae/agent
    python vis/generate_vis_data.py --quick              # the demo's SAEs (runs/sae/agent-quick)
    python vis/generate_vis_data.py --sae runs/sae/agent/topk_f1024_k32 --rows 50000

Each SAE's activation set is the one named in its meta.json (or --acts). Then browse with
`cd vis && python -m http.server` and open http://localhost:8000/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from common.config import add_config_flags, add_run_flags, config_dict, config_from_args
from common.io import REPO_ROOT, CheckpointError, CorruptFileError, read_json
from common.memory import check_fits
from common.process import setup_process
from common.runs import RunFolderError, check_writable
from common.tracking import add_wandb_flags, maybe_wandb
from othello.interp.dataset import ActivationDataset, DatasetError, locate, open_dataset
from othello.interp.vis import (
    DEFAULT,
    QUICK,
    VisConfig,
    feature_records,
    positions_table,
    records_bytes,
)
from sae.archs import load, saved
from sae.data import ActivationsError
from sae.features import decoder_matches
from vis.export import (
    encoder_desc,
    merge_positions,
    read_positions,
    sae_entry,
    sparsity_of,
    write_index,
    write_net,
    write_positions,
    write_sae,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sae", type=Path, nargs="+",
                   help="SAE folders (cfg.json or sae.pt; meta.json); default: all under --sae-dir")
    p.add_argument("--sae-dir", type=Path, default=None,
                   help="folder of SAE folders (default runs/sae/agent, --quick: agent-quick)")
    p.add_argument("--acts", type=Path, default=None,
                   help="activation dataset folder (default: the one in each SAE's meta.json)")
    add_config_flags(p, VisConfig, presets={"quick": QUICK})
    add_run_flags(p, out="default vis/data", quick="runs/sae/agent-quick, 20k rows")
    add_wandb_flags(p, "the sizes")
    return p.parse_args(argv)


def sae_folders(args: argparse.Namespace) -> list[Path]:
    if args.sae:
        return args.sae
    root = args.sae_dir or REPO_ROOT / "runs" / "sae" / ("agent-quick" if args.quick else "agent")
    found = sorted(p for p in root.glob("*") if saved(p))
    if not found:
        hint = (" (after `make demo`, the quick ones: add --quick)"
                if not args.quick and args.sae_dir is None else "")
        raise SystemExit(f"no SAEs (*/cfg.json) under {root}: train some with train_sae.py "
                         f"first{hint}")
    return found


def load_saes(args: argparse.Namespace, cfg: VisConfig) -> list[dict]:
    """Every SAE of the run with its meta, its dataset (opened once each) and its layer."""
    datasets, out = {}, []
    for folder in sae_folders(args):
        try:
            meta = read_json(folder / "meta.json")
            acts = args.acts or Path(meta["data"]["acts"])
            found = locate(acts)
            if found is None:
                raise SystemExit(f"{acts}: not a collected activation set (needs net.pt, "
                                 "boards.npy, legal.npy)")
            if found[0] not in datasets:
                datasets[found[0]] = open_dataset(found[0])
            ds: ActivationDataset = datasets[found[0]]
            layer = ds.layer(meta["data"].get("layer", found[1]))  # the block it was trained on
            sae = load(folder)
            check_fits(records_bytes(sae.n_features, sae.d, ds.size ** 2 + 1, cfg),
                       f"the browser data of {folder.name} ({sae.n_features} features, "
                       f"--top-k {cfg.top_k})")
        except (OSError, KeyError, CorruptFileError, ActivationsError, CheckpointError,
                DatasetError) as exc:
            raise SystemExit(f"error: {folder}: cannot read the SAE or its activations ({exc})"
                             ) from None
        except ValueError as exc:  # too big to fit in memory
            raise SystemExit(f"error: {folder}: {exc}") from None
        out.append({"folder": folder, "id": f"{ds.name}/{folder.name}", "ds": ds, "layer": layer,
                    "sae": sae, "key": (ds.name, layer, sae.arch,
                                        json.dumps(sparsity_of(meta), sort_keys=True))})
    return out


def families(runs: list[dict], count: int) -> dict[str, list]:
    """Per SAE id, (other id, ids, cosines) of the closest decoder directions in every other
    width of its grid family (same dataset, layer, architecture and sparsity setting)."""
    out = {}
    for run in runs:
        others = sorted((o for o in runs if o["key"] == run["key"]
                         and o["sae"].n_features != run["sae"].n_features),
                        key=lambda o: o["sae"].n_features)
        out[run["id"]] = [(o["id"], *decoder_matches(run["sae"], o["sae"], count))
                          for o in others]
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_process(plots=False)
    cfg, _ = config_from_args(args, VisConfig, QUICK if args.quick else DEFAULT)
    out = args.out or REPO_ROOT / "vis" / "data"
    try:
        check_writable(out, "--out folder")
    except RunFolderError as e:
        raise SystemExit(f"error: {e}") from None
    run = maybe_wandb(args.wandb, "vis", {**config_dict(cfg), "out": str(out)},
                      mode=args.wandb_mode)
    runs = load_saes(args, cfg)
    fams = families(runs, cfg.family)
    entries, used = [], {}
    thresholds = {"dense": cfg.dense, "unexplained": cfg.unexplained}
    for r in runs:
        start = time.perf_counter()
        ds, sae, folder = r["ds"], r["sae"], r["folder"]
        try:
            records, base, rows = feature_records(sae, ds, r["layer"], cfg, fams[r["id"]],
                                                  progress=not args.no_progress)
        except ValueError as exc:  # the SAE's width does not match the activations
            raise SystemExit(f"error: {folder}: {exc}") from None
        used.setdefault(ds.name, (ds, []))[1].append(rows)
        sae_out = out / ds.name / folder.name
        sae_out.mkdir(parents=True, exist_ok=True)
        encoder = encoder_desc(sae, r["layer"], sae_out)
        sizes = write_sae(records, base, encoder, sae_out, cfg.shard_size, thresholds)
        entry = sae_entry(folder, ds.name, sizes, [o[0] for o in fams[r["id"]]])
        entries.append(entry)
        print(f"{entry['id']}: {len(records)} features, {entry['bytes'] / 1e6:.2f} MB, largest "
              f"file {entry['largest_shard'] / 1e3:.0f} kB, {time.perf_counter() - start:.1f} s")
        if run:
            run.log({"bytes": entry["bytes"], "largest": entry["largest_shard"]})
    datasets = {}
    for name, (ds, rows) in used.items():
        path = out / name / "positions.json"
        old = read_positions(path, cfg.oracle_empties)
        wanted = np.unique(np.concatenate(rows))
        known = set(old["row"]) if old else set()
        new = positions_table(ds, np.array([x for x in wanted if int(x) not in known], dtype=int),
                              cfg.oracle_empties, progress=not args.no_progress)
        table = merge_positions(old, new, ds.size, cfg.oracle_empties)
        datasets[name] = {"positions_bytes": write_positions(table, path),
                          "net_bytes": write_net(ds.net, out / name), "size": ds.size}
        print(f"{name}: {len(table['row'])} example boards, "
              f"{sum(b is not None for b in table['best'])} solved by the oracle")
    write_index(out, entries, datasets, cfg)
    total = sum(e["bytes"] for e in entries) + sum(
        d["positions_bytes"] + d["net_bytes"] for d in datasets.values())
    largest = max(e["largest_shard"] for e in entries)
    print(f"{len(entries)} SAEs: {total / 1e6:.2f} MB in all, largest file {largest / 1e3:.0f} kB "
          f"-> {out}")
    if (out.parent / "index.html").is_file() and out.name == "data":
        print(f"browse: cd {out.parent} && python -m http.server  (then open "
              "http://localhost:8000/)")
    else:  # the page reads data/ beside its index.html
        print(f"browse: the page reads vis/data/, so link this folder there first: "
              f"ln -sfn {out.resolve()} {REPO_ROOT / 'vis' / 'data'} && cd {REPO_ROOT / 'vis'} "
              "&& python -m http.server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
