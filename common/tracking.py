"""Optional experiment tracking with wandb: imported only when asked for, off by default."""

from __future__ import annotations

import os


def maybe_wandb(enabled: bool, project: str, config: dict):
    """A wandb run when `enabled` (None otherwise), in the mode WANDB_MODE names.

    WANDB_MODE defaults to "offline" here, so that `--wandb` never needs the network unless the
    user asks for `WANDB_MODE=online`; wandb is imported only in this case.
    """
    if not enabled:
        return None
    try:
        import wandb
    except ImportError:
        raise SystemExit("error: --wandb needs the optional package: "
                         "pip install -e '.[wandb]'") from None
    return wandb.init(project=project, config=config,
                      mode=os.environ.get("WANDB_MODE", "offline"))
