"""`python -m toymodels.persian_rug --r 0.25 --p 0.045`: the semi-analytic optimum of the
permutation-symmetric untied toy model and the optimal linear baseline at one (r, p)."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from common.config import add_config_flags, config_from_args, knob
from toymodels.persian_rug.theory import symmetric_optimum


def unit_interval(v: float) -> str | None:
    """Value check: a number in (0, 1]."""
    return None if math.isfinite(v) and 0 < v <= 1 else "expected a value in (0, 1]"


@dataclass(frozen=True)
class OptimumConfig:
    """The one point whose optimum is printed."""

    r: float = knob(0.25, "ratio m/n of hidden units to features, in (0, 1]", check=unit_interval)
    p: float = knob(0.045, "probability that a feature is active, in (0, 1]", check=unit_interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m toymodels.persian_rug",
                                     description=__doc__.split("\n\n")[0].replace("\n", " "))
    add_config_flags(parser, OptimumConfig)
    cfg, _ = config_from_args(parser.parse_args(argv), OptimumConfig, OptimumConfig())
    opt = symmetric_optimum(cfg.r, cfg.p)
    print(f"r = {opt.r:g}, p = {opt.p:g}")
    print(f"semi-analytic optimum loss : {opt.loss:.6g}  ({opt.loss / opt.zero_baseline:.4f} "
          "of the zero predictor p/3)")
    print(f"  scale a                  : {opt.scale:.6g}")
    print(f"  bias a*mu (incl. mean)   : {opt.bias:.6g}   (mu = {opt.mu:.6g})")
    print(f"  noise std sigma          : {opt.sigma:.6g}   (sigma^2 = (1/r - 1) Var(x))")
    print(f"optimal linear baseline    : {opt.linear_baseline:.6g}  ((1 - r)(p/3 - p^2/4); "
          f"paper's (p/3)(1 - r) = {opt.zero_baseline * (1 - opt.r):.6g})")
    print(f"zero predictor p/3         : {opt.zero_baseline:.6g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
