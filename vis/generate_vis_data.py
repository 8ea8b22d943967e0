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

from common.config import add_config_flags, add_run_flags, config_dict, config_from_args
from common.io import REPO_ROOT, CheckpointError
from common.process import setup_process
from common.tracking import add_wandb_flags, maybe_wandb
from othello.interp.dataset import ActivationDataset, DatasetError, locate, open_dataset
from othello.interp.vis import DEFAULT, QUICK, VisConfig, feature_records
from sae.archs import load, saved
from sae.data import ActivationsError
from vis.export import sae_entry, write_index, write_sae


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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_process(plots=False)
    cfg, _ = config_from_args(args, VisConfig, QUICK if args.quick else DEFAULT)
    out = args.out or REPO_ROOT / "vis" / "data"
    run = maybe_wandb(args.wandb, "vis", {**config_dict(cfg), "out": str(out)},
                      mode=args.wandb_mode)
    entries, datasets = [], {}
    for folder in sae_folders(args):
        start = time.perf_counter()
        try:
            meta = json.loads((folder / "meta.json").read_text())
            acts = args.acts or Path(meta["data"]["acts"])
            found = locate(acts)
            if found is None:
                raise SystemExit(f"{acts}: not a collected activation set (needs net.pt, "
                                 "boards.npy, legal.npy)")
            if found[0] not in datasets:
                datasets[found[0]] = open_dataset(found[0])
            ds: ActivationDataset = datasets[found[0]]
            layer = ds.layer(meta["data"].get("layer", found[1]))
            sae = load(folder)
        except (OSError, KeyError, json.JSONDecodeError, ActivationsError, CheckpointError,
                DatasetError) as exc:
            raise SystemExit(f"{folder}: cannot read the SAE or its activations ({exc})") from None
        records = feature_records(sae, ds, layer, cfg, progress=not args.no_progress)
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
    print(f"browse: cd {out.parent} && python -m http.server  (then open "
          "http://localhost:8000/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
