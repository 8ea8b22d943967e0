"""Optional experiment tracking with wandb: imported only when asked for, off by default."""

from __future__ import annotations

import argparse
import os


def add_wandb_flags(parser: argparse.ArgumentParser, what: str) -> None:
    """--wandb (log `what`) and --wandb-mode, the same on every entry point that offers wandb."""
    parser.add_argument("--wandb", action="store_true", help=f"log {what} to wandb")
    parser.add_argument("--wandb-mode", choices=("online", "offline"), default=None,
                        help="wandb mode (default: $WANDB_MODE, else offline: no network)")


def maybe_wandb(enabled: bool, project: str, config: dict, mode: str | None = None):
    """A wandb run when `enabled` (None otherwise), in `mode`, else the mode WANDB_MODE names,
    else "offline", so that `--wandb` never needs the network unless the user asks for online;
    wandb is imported only when enabled."""
    if not enabled:
        return None
    try:
        import wandb
    except ImportError:
        raise SystemExit("error: --wandb needs the optional package: "
                         "pip install -e '.[wandb]'") from None
    return wandb.init(project=project, config=config,
                      mode=mode or os.environ.get("WANDB_MODE", "offline"))
