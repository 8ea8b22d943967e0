"""Collect the network's residual stream on many distinct positions, for SAE training.

    python othello/collect_activations.py                       # the agent, block 2, 1M positions
    python othello/collect_activations.py --checkpoint random --quick   # seeded random weights

Writes runs/activations/<name>/ (the format: othello/interp/dataset.py) with a meta.json that
names the source checkpoint and its SHA-256, the layers, the count per source and the seed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.config import add_config_flags, add_run_flags, config_dict, config_from_args
from common.io import REPO_ROOT, code_version
from common.process import setup_process
from common.runs import RunFolderError
from common.tracking import add_wandb_flags, maybe_wandb
from othello.interp.config import DEFAULT, QUICK, CollectConfig, dataset_name


def default_out(config: CollectConfig, quick: bool) -> Path:
    """runs/activations/<checkpoint stem ('random' for random weights)>[-quick]."""
    return REPO_ROOT / "runs" / "activations" / dataset_name(config.checkpoint, quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_config_flags(parser, CollectConfig, presets={"quick": QUICK})
    add_run_flags(parser, out="default runs/activations/<checkpoint stem>[-quick]",
                  quick=f"{QUICK.positions} positions (seconds)", device=True)
    add_wandb_flags(parser, "the counts")
    args = parser.parse_args(argv)
    setup_process(plots=False)
    config, _ = config_from_args(args, CollectConfig, QUICK if args.quick else DEFAULT)
    out = args.out or default_out(config, args.quick)
    run = maybe_wandb(args.wandb, "collect_activations", {**config_dict(config), "out": str(out)},
                      mode=args.wandb_mode)
    from common.device import resolve_device
    from common.io import CheckpointError
    from othello.interp.activations import collect

    try:
        meta = collect(config, out, progress=not args.no_progress, code=code_version(),
                       device=resolve_device(args.device))
    except (CheckpointError, ValueError, RunFolderError) as e:
        parser.exit(2, f"error: {e}\n")
    if run is not None:
        run.log({"count": meta["count"], "seconds": meta["seconds"], **meta["per_source"]})
        run.finish()
    counts = ", ".join(f"{k} {v}" for k, v in meta["per_source"].items())
    print(f"wrote {meta['count']} positions ({counts}) to {out} in {meta['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
