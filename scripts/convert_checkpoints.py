"""Convert torch-pickle checkpoints to the formats that load without executing code and that
other tools read: a network `.pt` to `.safetensors` (config in its header), an SAE `sae.pt` to
SAELens's folder layout (cfg.json + sae_weights.safetensors, beside it). The originals stay.

    python scripts/convert_checkpoints.py results/alphazero/agent.pt   # -> agent.safetensors
    python scripts/convert_checkpoints.py runs/sae/agent               # every */sae.pt under it
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common.io import CheckpointError, results_version


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("paths", type=Path, nargs="+",
                   help="network .pt files, SAE sae.pt files, or folders holding */sae.pt")
    return p.parse_args(argv)


def convert(path: Path) -> list[Path]:
    """Convert one path; the files written."""
    from othello.az.model import load_model, save_model
    from sae.archs import load as load_sae

    if path.is_dir():
        return [out for p in sorted(path.glob("**/sae.pt")) for out in convert(p)]
    if path.name == "sae.pt":
        load_sae(path).save(path.parent)
        return [path.parent / "cfg.json"]
    net, ckpt = load_model(path)
    out = path.with_suffix(".safetensors")
    results_version(out)  # a copy committed under results/ comes from committed code
    extra = {k: v for k, v in ckpt.items() if k not in ("kind", "config", "model")
             and isinstance(v, int | float | str)}
    save_model(out, net, **extra)
    return [out]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from common.process import setup_process

    setup_process(plots=False)
    for path in args.paths:
        if not path.exists():
            print(f"error: {path} does not exist", file=sys.stderr)
            return 2
        try:
            written = convert(path)
        except CheckpointError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{path}: wrote " + (", ".join(map(str, written)) or "nothing (no sae.pt found)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
