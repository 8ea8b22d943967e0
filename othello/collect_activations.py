"""Collect the network's residual stream on many distinct positions, for SAE training.

    python othello/collect_activations.py                       # the agent, block 2, 1M positions
    python othello/collect_activations.py --checkpoint random --quick   # seeded random weights

Writes runs/activations/<name>/ (see othello/interp/activations.py for the files) with a
meta.json that names the source checkpoint and its SHA-256, the blocks, the count per source
and the seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if not __package__:  # run as a file: import the project, not sibling modules, by their full names
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import torch  # noqa: E402

from common.cli import maybe_wandb, nonnegative_int, positive_float, positive_int  # noqa: E402
from common.io import REPO_ROOT, CheckpointError, code_version  # noqa: E402
from othello.interp.activations import (  # noqa: E402
    DEFAULT_CHECKPOINT,
    QUICK_POSITIONS,
    collect_dataset,
    dataset_name,
    load_source,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT),
                        help="network checkpoint, or 'random' for seeded random weights "
                             "(default: %(default)s)")
    parser.add_argument("--blocks", type=nonnegative_int, nargs="+", default=[2],
                        help="residual stream after these blocks (0 = embedding; default 2)")
    parser.add_argument("--positions", type=positive_int, default=1_000_000,
                        help="distinct positions to collect (default %(default)s)")
    parser.add_argument("--temperature", type=positive_float, default=1.0,
                        help="softmax temperature of the network's moves in its games")
    parser.add_argument("--name", help="dataset name (default: the checkpoint's file stem, "
                                       "'random' for random weights; '-quick' added by --quick)")
    parser.add_argument("--out-root", type=Path, default=REPO_ROOT / "runs" / "activations",
                        help="parent folder of the dataset (default runs/activations)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_POSITIONS} positions (seconds)")
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.add_argument("--wandb", action="store_true", help="log the counts offline")
    args = parser.parse_args(argv)

    version = code_version()
    torch.set_num_threads(1)
    try:
        net, source = load_source(args.checkpoint, args.seed)
    except CheckpointError as e:
        parser.exit(2, f"error: {e}\n")
    if any(k > net.config.blocks for k in args.blocks):
        parser.exit(2, f"error: --blocks must be in 0..{net.config.blocks} for this network\n")
    positions = QUICK_POSITIONS if args.quick else args.positions
    out = args.out_root / (args.name or dataset_name(args.checkpoint, args.quick))
    config = {**vars(args), "out_root": str(args.out_root), "out": str(out)}
    run = maybe_wandb(args.wandb, "collect_activations", config)
    meta = collect_dataset(net, source, out, positions, args.blocks, args.seed,
                           args.temperature, progress=not args.no_progress, code=version)
    if run is not None:
        run.log({"count": meta["count"], "seconds": meta["seconds"], **meta["per_source"]})
        run.finish()
    counts = ", ".join(f"{k} {v}" for k, v in meta["per_source"].items())
    print(f"wrote {meta['count']} positions ({counts}) to {out} in {meta['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
