"""Refuse work that cannot fit in memory before allocating it, with one line instead of an
out-of-memory kill (or a swap storm) minutes later."""

from __future__ import annotations

import os


class MemoryRefusal(ValueError):
    """The estimated memory of a piece of work exceeds what the machine has available."""


def available_bytes() -> int:
    """Memory available to a new allocation: MemAvailable from /proc/meminfo (Linux), else the
    physical memory from os.sysconf."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: never refuse


def check_fits(nbytes: float, what: str) -> None:
    """MemoryRefusal when `nbytes` (an estimate) exceeds the available memory."""
    free = available_bytes()
    if nbytes > free:
        raise MemoryRefusal(f"{what} needs about {_size(nbytes)} of memory, more than the "
                            f"{_size(free)} available; use smaller settings")


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
