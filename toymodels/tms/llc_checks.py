"""LLC checks against theory at k-gon critical points, including points NOT used for tuning.

The SGLD settings (`SGLDConfig`: lr 1e-4, localization 10, n_beta = n / ln n, 4 chains x 4000
draws, batch 100) were chosen at the hexagon and the negative-bias pentagon with n = 5000
(`TUNED`), so agreement there is partly circular. `HELD_OUT` are critical points or settings that
played no part in the choice: the pentagon whose dead column has a positive bias (theory 8.5),
the hexagon and pentagon at n = 10000, and the hexagon at localization 5. Each is estimated on
its own fresh dataset (seed 1001 onwards, the tuning data used seed 0).

Tolerance, from the spread over chains: a production run reports the mean over its 4 chains
with standard error se_run = sd_chains / sqrt(4). The check averages R independent replicas of
that run (removing most of the run-to-run noise) and passes when the theory lies within three
such standard errors, |mean - theory| < 3 se_run sqrt(1 + 1/R): the estimator's systematic error
is then hidden inside the error bar a single run reports. `KNOWN_BAD` are settings where it is
not (the hexagon at n = 2000 and at localization 20 come out 16-19% low, about 5 se_run): they
show the check can fail, and where the defaults stop holding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from toymodels.tms.critical import find_kgon
from toymodels.tms.llc import SGLDConfig, llc_batched, llc_devinterp
from toymodels.tms.population import one_active


@dataclass(frozen=True)
class LLCCheck:
    """A k-gon ('6', '5', '5+') with the data size and localization of the check."""

    kgon: str
    samples: int
    localization: float
    theory: float

    @property
    def name(self) -> str:
        return f"{self.kgon} n={self.samples} loc={self.localization:g}"

    def point(self) -> tuple[torch.Tensor, torch.Tensor]:
        k = int(self.kgon.rstrip("+"))
        p = find_kgon(k, 6, len(self.kgon) - len(self.kgon.rstrip("+")))
        return p.W.float(), p.b.float()

    def sgld(self, base: SGLDConfig, seed: int) -> SGLDConfig:
        return replace(base, localization=self.localization, seed=seed)

    def data(self, seed: int) -> torch.Tensor:
        return one_active(self.samples, 6, torch.Generator().manual_seed(seed))


TUNED = (LLCCheck("6", 5000, 10.0, 8.5), LLCCheck("5", 5000, 10.0, 7.0))
HELD_OUT = (LLCCheck("5+", 5000, 10.0, 8.5), LLCCheck("6", 10000, 10.0, 8.5),
            LLCCheck("5", 10000, 10.0, 7.0), LLCCheck("6", 5000, 5.0, 8.5))
KNOWN_BAD = (LLCCheck("6", 2000, 10.0, 8.5), LLCCheck("6", 5000, 20.0, 8.5))
DEFAULT_SGLD = SGLDConfig()
DATA_SEED = 1001  # held-out data: the tuning data were drawn with seed 0


@dataclass(frozen=True)
class CheckResult:
    name: str
    theory: float
    estimate: float  # mean over replicas (each the mean of its chains)
    replica_sd: float  # run-to-run spread of one run's estimate
    chain_sd: float  # spread over the chains of one run (mean over replicas)
    run_se: float  # chain_sd / sqrt(chains): the standard error one run reports
    tolerance: float  # 3 run_se sqrt(1 + 1/R)
    coverage: float  # fraction of replicas whose mean +- 2 run_se holds the theory
    replicas: int

    @property
    def error(self) -> float:
        return self.estimate - self.theory

    @property
    def passed(self) -> bool:
        return abs(self.error) < self.tolerance

    def as_dict(self) -> dict:
        return {**self.__dict__, "relative_error": self.error / self.theory,
                "error_in_run_se": self.error / self.run_se, "passed": self.passed}


def run_check(check: LLCCheck, base: SGLDConfig = DEFAULT_SGLD, replicas: int = 16,
              data_seed: int = DATA_SEED, sgld_seed: int = 1) -> CheckResult:
    """`replicas` independent production runs (batched) of the check's point on fresh data."""
    W, b = check.point()
    cfg = check.sgld(base, sgld_seed)
    est = llc_batched(W.expand(replicas, -1, -1), b.expand(replicas, -1), check.data(data_seed),
                      cfg)
    chain_sd = est.per_chain.std(0)  # (replicas,), unbiased over the chains of each run
    run_se = chain_sd / math.sqrt(cfg.chains)
    cover = ((est.mean - check.theory).abs() < 2 * run_se).double().mean()
    se = float(run_se.mean())
    return CheckResult(check.name, check.theory, float(est.mean.mean()), float(est.mean.std()),
                       float(chain_sd.mean()), se, 3 * se * math.sqrt(1 + 1 / replicas),
                       float(cover), replicas)


def run_check_devinterp(check: LLCCheck, base: SGLDConfig = DEFAULT_SGLD,
                        data_seed: int = DATA_SEED, sgld_seed: int = 0) -> dict:
    """One devinterp run (the production estimator) at the check's point: mean, chain sd."""
    W, b = check.point()
    est = llc_devinterp(W, b, check.data(data_seed), check.sgld(base, sgld_seed))
    chains = est.per_chain.flatten()
    sd = float(chains.std())
    se = sd / math.sqrt(len(chains))
    mean = float(est.mean)
    return {"name": check.name, "theory": check.theory, "estimate": mean, "chain_sd": sd,
            "run_se": se, "relative_error": (mean - check.theory) / check.theory,
            "error_in_run_se": (mean - check.theory) / se,
            "within_2_se": abs(mean - check.theory) < 2 * se,
            "within_15_percent": abs(mean - check.theory) < 0.15 * check.theory}
