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

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.cli import maybe_wandb, positive_int  # noqa: E402
from common.io import REPO_ROOT, CheckpointError  # noqa: E402
from sae.data import ActivationsError  # noqa: E402
from sae.evaluate import open_dataset  # noqa: E402
from sae.models import load  # noqa: E402
from sae.vis_data import VisConfig, feature_records, sae_entry, write_index, write_sae  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sae", type=Path, nargs="+",
                   help="SAE folders (with sae.pt and meta.json); default: all under --sae-dir")
    p.add_argument("--sae-dir", type=Path, default=None,
                   help="folder of SAE folders (default runs/sae/agent, --quick: agent-quick)")
    p.add_argument("--acts", type=Path, default=None,
                   help="activation folder (default: the one in each SAE's meta.json)")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "vis" / "data")
    p.add_argument("--rows", type=positive_int, default=VisConfig.rows,
                   help="activation rows sampled for the statistics")
    p.add_argument("--top-k", type=positive_int, default=VisConfig.top_k)
    p.add_argument("--shard-size", type=positive_int, default=VisConfig.shard_size)
    p.add_argument("--quick", action="store_true", help="runs/sae/agent-quick, 20k rows")
    p.add_argument("--seed", type=int, default=0)
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
    torch.set_num_threads(1)
    cfg = VisConfig(rows=20_000 if args.quick and args.rows == VisConfig.rows else args.rows,
                    top_k=args.top_k, shard_size=args.shard_size, seed=args.seed)
    run = maybe_wandb(args.wandb, "vis", vars(args) | {"config": str(cfg)})
    entries, datasets = [], {}
    for folder in sae_folders(args):
        start = time.perf_counter()
        try:
            meta = json.loads((folder / "meta.json").read_text())
            acts = args.acts or Path(meta["data"]["acts"])
            if acts not in datasets:
                datasets[acts] = open_dataset(acts)
            data = datasets[acts]
            if not data.has_game_facts:
                raise SystemExit(f"{acts}: not a collected activation set (needs net.pt, "
                                 "boards.npy, legal.npy)")
            sae = load(folder / "sae.pt")
        except (OSError, KeyError, json.JSONDecodeError, ActivationsError, CheckpointError) as exc:
            raise SystemExit(f"{folder}: cannot read the SAE or its activations ({exc})") from None
        dataset = data.folder.name
        records = feature_records(sae, data, cfg, progress=True)
        sizes = write_sae(records, args.out / dataset / folder.name, cfg.shard_size)
        entry = sae_entry(folder, dataset, sizes)
        entries.append(entry)
        print(f"{entry['id']}: {len(records)} features, {entry['bytes'] / 1e6:.2f} MB, largest "
              f"file {entry['largest_shard'] / 1e3:.0f} kB, {time.perf_counter() - start:.1f} s")
        if run:
            run.log({"bytes": entry["bytes"], "largest": entry["largest_shard"]})
    write_index(args.out, entries, cfg)
    total = sum(e["bytes"] for e in entries)
    largest = max(e["largest_shard"] for e in entries)
    print(f"{len(entries)} SAEs: {total / 1e6:.2f} MB in all, largest file {largest / 1e3:.0f} kB "
          f"-> {args.out}")
    print(f"browse: cd {args.out.parent} && python -m http.server  (then open "
          "http://localhost:8000/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
