"""Process-wide settings that only entry points may change (library code never does).

The two vCPUs of the target laptop share about one core's throughput, and torch with two threads
is erratic there, so CPU-bound entry points run torch on one thread and batch their work instead.
"""

from __future__ import annotations


def setup_process(threads: int = 1, plots: bool = True) -> None:
    """Call once at the top of an entry point's main(): torch threads, headless matplotlib."""
    import torch

    torch.set_num_threads(threads)
    if plots:
        import matplotlib

        matplotlib.use("Agg")
