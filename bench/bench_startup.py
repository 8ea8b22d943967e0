"""How fast every entry point answers --help (import time: what a user waits for before the
first line), against a bare `python -c pass` and `import torch` measured in the same run.

    python bench/bench_startup.py [--repeats 3]   # prints a table, writes bench/startup.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).with_name("startup.json")


def seconds(command: list[str], repeats: int) -> float:
    """Best wall time of `repeats` runs (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="runs per command (the best counts)")
    args = p.parse_args(argv)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    paths = sorted({t.split(":")[0].replace(".", "/") + ".py" for t in scripts.values()})
    base = {"python -c pass": seconds([sys.executable, "-c", "pass"], args.repeats),
            "import torch": seconds([sys.executable, "-c", "import torch"], args.repeats)}
    rows = {path: seconds([sys.executable, path, "--help"], args.repeats) for path in paths}
    for name, s in {**base, **rows}.items():
        print(f"{name:<36s} {s:6.2f} s  ({s / base['import torch']:.2f} x import torch)")
    OUT.write_text(json.dumps({"baseline_s": base, "help_s": rows, "repeats": args.repeats},
                              indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
