"""Where torch runs: `--device cpu|cuda|auto` resolved once by an entry point; library code then
follows its module (inputs go to the parameters' device, results come back to the CPU)."""

from __future__ import annotations

import torch


class DeviceError(SystemExit):
    """A device that is not there: a one-line exit, like the other argument errors."""


def resolve_device(choice: str) -> torch.device:
    """cpu, cuda (refused when torch sees no GPU) or auto (cuda when present, else cpu)."""
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise DeviceError("error: --device cuda, but torch sees no CUDA device")
    if choice not in ("cpu", "cuda"):
        raise DeviceError(f"error: unknown device {choice!r} (cpu, cuda or auto)")
    return torch.device(choice)


def module_device(module: torch.nn.Module) -> torch.device:
    """The device of a module's parameters (cpu for a module without any)."""
    return next((p.device for p in module.parameters()), torch.device("cpu"))
