"""What the network's width and depth cost: CPU microseconds per position of a forward pass at
the self-play batch and of a training step, for a few (width, blocks) shapes, in one process.

    python bench/bench_network_size.py [--shapes 128x4 256x4 256x6 384x4] [--repeats 30]

Forward passes run in inference mode at batch --batch (self-play evaluates 256 leaves at once);
training steps are `alphazero.trainer.train_step` at batch 256 with a margin head when asked.
CPU seconds of this process (`time.process_time`, one thread), the median of --repeats, shapes
interleaved so that a change in the machine's load hits all of them alike. Ratios are against
the first shape. Writes JSON (default results/alphazero/network_size.json).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from common.config import one_line_errors
from common.io import REPO_ROOT, command_line, results_version, write_json
from common.process import setup_process

OUT = REPO_ROOT / "results" / "alphazero" / "network_size.json"


def shape(text: str) -> tuple[int, int]:
    width, sep, blocks = text.partition("x")
    if not sep or not width.isdigit() or not blocks.isdigit() or int(width) < 1:
        raise argparse.ArgumentTypeError(f"expected WIDTHxBLOCKS such as 256x4, got {text!r}")
    return int(width), int(blocks)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", type=shape, nargs="+",
                   default=[(256, 4), (128, 4), (256, 2), (256, 6), (384, 4)],
                   help="WIDTHxBLOCKS shapes; the first is the baseline (default 256x4 128x4 "
                        "256x2 256x6 384x4)")
    p.add_argument("--batch", type=int, default=256, help="forward-pass batch (default 256)")
    p.add_argument("--repeats", type=int, default=30, help="timed repeats per shape")
    p.add_argument("--margin-head", action="store_true", help="with the margin head")
    p.add_argument("--out", type=Path, default=OUT, help="JSON file of the results")
    one_line_errors(p)
    args = p.parse_args(argv)
    setup_process(plots=False)
    import torch

    from alphazero.trainer import train_step
    from othello.az.config import NetConfig
    from othello.az.game import OthelloGame
    from othello.az.model import PolicyValueNet

    version = results_version(args.out.parent)
    game = OthelloGame(6)
    rng = np.random.default_rng(0)
    states = game.initial_states(args.batch)
    planes = torch.from_numpy(game.encode(states))
    batch = (game.encode(states[:256]), np.full((min(256, args.batch), 37), 1 / 37, np.float32),
             rng.uniform(-1, 1, min(256, args.batch)).astype(np.float32),
             rng.uniform(-1, 1, min(256, args.batch)).astype(np.float32))
    torch.manual_seed(0)
    nets = [PolicyValueNet(NetConfig(width=w, blocks=b, margin_head=args.margin_head))
            for w, b in args.shapes]
    optimizers = [torch.optim.AdamW(n.parameters(), lr=1e-4) for n in nets]
    forward = [[] for _ in nets]
    train = [[] for _ in nets]
    weight = 0.5 if args.margin_head else 0.0
    for repeat in range(args.repeats + 1):  # the first round warms up
        for k, (net, opt) in enumerate(zip(nets, optimizers, strict=True)):
            net.eval()
            t0 = time.process_time()
            with torch.inference_mode():
                net(planes)
            t1 = time.process_time()
            net.train()
            train_step(net, opt, *batch, margin_weight=weight)
            t2 = time.process_time()
            if repeat:
                forward[k].append((t1 - t0) / args.batch)
                train[k].append((t2 - t1) / len(batch[0]))
    rows = []
    print(f"{'shape':>8s} {'weights':>9s} {'forward us/pos':>15s} {'ratio':>6s} "
          f"{'train us/pos':>13s} {'ratio':>6s}")
    for (w, b), net, f, t in zip(args.shapes, nets, forward, train, strict=True):
        row = {"width": w, "blocks": b, "weights": sum(x.numel() for x in net.parameters()),
               "forward_us_per_position": 1e6 * float(np.median(f)),
               "train_us_per_position": 1e6 * float(np.median(t))}
        rows.append(row)
    for row in rows:
        row["forward_ratio"] = row["forward_us_per_position"] / rows[0]["forward_us_per_position"]
        row["train_ratio"] = row["train_us_per_position"] / rows[0]["train_us_per_position"]
        print(f"{row['width']:>4d}x{row['blocks']:<3d} {row['weights']:9d} "
              f"{row['forward_us_per_position']:15.2f} {row['forward_ratio']:6.2f} "
              f"{row['train_us_per_position']:13.2f} {row['train_ratio']:6.2f}")
    write_json(args.out, {"rows": rows, "batch": args.batch, "repeats": args.repeats,
                          "margin_head": args.margin_head, "cpu": "time.process_time",
                          "code_version": version, "command": command_line(__file__, argv)})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
