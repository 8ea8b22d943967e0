"""Write the feature browser's data (vis/data/) for trained SAEs.

    python vis/generate_vis_data.py                      # every SAE under runs/sae/agent
    python vis/generate_vis_data.py --quick              # the demo's SAEs (runs/sae/agent-quick)
    python vis/generate_vis_data.py --sae runs/sae/agent/topk_f1024_k32 --rows 50000

Each SAE's activation set is the one named in its meta.json (or --acts). Then browse with
`cd vis && python -m http.server` and open http://localhost:8000/.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common.config import add_config_flags, add_run_flags, config_dict, config_from_args
from common.io import REPO_ROOT, CheckpointError, CorruptFileError, read_json
from common.memory import check_fits
from common.process import setup_process
from common.runs import RunFolderError, check_writable
from common.tracking import maybe_wandb
from othello.interp.dataset import ActivationDataset, DatasetError, locate, open_dataset
from othello.interp.vis import DEFAULT, QUICK, VisConfig, feature_records, records_bytes
from sae.archs import load
from sae.data import ActivationsError
from vis.export import sae_entry, write_index, write_sae


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sae", type=Path, nargs="+",
                   help="SAE folders (with sae.pt and meta.json); default: all under --sae-dir")
    p.add_argument("--sae-dir", type=Path, default=None,
                   help="folder of SAE folders (default runs/sae/agent, --quick: agent-quick)")
    p.add_argument("--acts", type=Path, default=None,
                   help="activation dataset folder (default: the one in each SAE's meta.json)")
    add_config_flags(p, VisConfig, presets={"quick": QUICK})
    add_run_flags(p, out="default vis/data", quick="runs/sae/agent-quick, 20k rows")
    p.add_argument("--wandb", action="store_true", help="log sizes to wandb (offline)")
    return p.parse_args(argv)


def sae_folders(args: argparse.Namespace) -> list[Path]:
    if args.sae:
        return args.sae
    root = args.sae_dir or REPO_ROOT / "runs" / "sae" / ("agent-quick" if args.quick else "agent")
    found = sorted(p for p in root.glob("*") if (p / "sae.pt").is_file())
    if not found:
        raise SystemExit(f"no SAEs (*/sae.pt) under {root}: train some with train_sae.py first")
    return found


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_process(plots=False)
    cfg, _ = config_from_args(args, VisConfig, QUICK if args.quick else DEFAULT)
    out = args.out or REPO_ROOT / "vis" / "data"
    try:
        check_writable(out, "--out folder")
    except RunFolderError as e:
        raise SystemExit(f"error: {e}") from None
    run = maybe_wandb(args.wandb, "vis", {**config_dict(cfg), "out": str(out)})
    entries, datasets = [], {}
    for folder in sae_folders(args):
        start = time.perf_counter()
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
            sae = load(folder / "sae.pt")
            check_fits(records_bytes(sae.n_features, sae.d, ds.size ** 2 + 1, cfg),
                       f"the browser data of {folder.name} ({sae.n_features} features, "
                       f"--top-k {cfg.top_k})")
            records = feature_records(sae, ds, layer, cfg, progress=not args.no_progress)
        except (OSError, KeyError, CorruptFileError, ActivationsError, CheckpointError,
                DatasetError) as exc:
            raise SystemExit(f"error: {folder}: cannot read the SAE or its activations ({exc})"
                             ) from None
        except ValueError as exc:  # a width mismatch, or too big to fit in memory
            raise SystemExit(f"error: {folder}: {exc}") from None
        sizes = write_sae(records, out / ds.name / folder.name, cfg.shard_size)
        entry = sae_entry(folder, ds.name, sizes)
        entries.append(entry)
        print(f"{entry['id']}: {len(records)} features, {entry['bytes'] / 1e6:.2f} MB, largest "
              f"file {entry['largest_shard'] / 1e3:.0f} kB, {time.perf_counter() - start:.1f} s")
        if run:
            run.log({"bytes": entry["bytes"], "largest": entry["largest_shard"]})
    write_index(out, entries, cfg)
    total = sum(e["bytes"] for e in entries)
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
