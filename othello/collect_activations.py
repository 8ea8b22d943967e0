"""Collect the network's residual stream on many distinct positions, for SAE training.

    python othello/collect_activations.py                       # the agent, block 2, 1M positions
    python othello/collect_activations.py --checkpoint random --quick   # seeded random weights

Writes runs/activations/<name>/ (see othello/activations.py for the files) with a meta.json that
names the source checkpoint and its SHA-256, the blocks, the count per source and the seed.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

if not __package__:  # run as a file: import the project, not sibling modules, by their full names
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from common.cli import maybe_wandb, nonnegative_int, positive_float, positive_int  # noqa: E402
from common.io import REPO_ROOT, CheckpointError, code_version, write_json  # noqa: E402
from othello.activations import DEFAULT_MIX, collect_positions, write_dataset  # noqa: E402
from othello.model import NetConfig, PolicyValueNet, load_model  # noqa: E402

DEFAULT_CHECKPOINT = REPO_ROOT / "results" / "alphazero" / "agent.pt"
RANDOM = "random"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_source(checkpoint: str, seed: int) -> tuple[PolicyValueNet, dict]:
    """The network to read, and how to describe it in meta.json."""
    if checkpoint == RANDOM:
        torch.manual_seed(seed)
        net = PolicyValueNet(NetConfig()).eval()
        return net, {"checkpoint": RANDOM, "note": f"random weights (torch seed {seed}), not a "
                                                   "trained agent"}
    path = Path(checkpoint)
    if not path.is_file():
        hint = (" (the pretrained agent comes with the AlphaZero stage; use --checkpoint random "
                "to try the pipeline on random weights)") if path == DEFAULT_CHECKPOINT else ""
        raise CheckpointError(f"checkpoint not found: {path}{hint}")
    net, _ = load_model(path)
    return net, {"checkpoint": str(path), "checkpoint_sha256": sha256(path)}


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
    parser.add_argument("--quick", action="store_true", help="20,000 positions (seconds)")
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
    positions = 20_000 if args.quick else args.positions
    name = args.name or (RANDOM if args.checkpoint == RANDOM else Path(args.checkpoint).stem)
    name += "-quick" if args.quick and not args.name else ""
    out = args.out_root / name
    run = maybe_wandb(args.wandb, "collect_activations", vars(args) | {"out": str(out)})
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    samples = collect_positions(net, positions, rng, temperature=args.temperature,
                                progress=not args.no_progress)
    counts = write_dataset(net, samples, args.blocks, out, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    meta = {**source, "blocks": sorted(set(args.blocks)), "count": len(samples),
            "per_source": counts, "mix": DEFAULT_MIX, "temperature": args.temperature,
            "seed": args.seed, "net_config": {
                "size": net.config.size, "width": net.config.width, "blocks": net.config.blocks},
            "net_sha256": sha256(out / "net.pt"), "seconds": seconds, "code_version": version,
            "script": "othello/collect_activations.py"}
    write_json(out / "meta.json", meta)
    if run is not None:
        run.log({"count": len(samples), "seconds": seconds, **counts})
        run.finish()
    print(f"wrote {len(samples)} positions ({', '.join(f'{k} {v}' for k, v in counts.items())}) "
          f"to {out} in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
