"""Train sparse autoencoders on residual-stream activations (or any [N, d] float array).

    python train_sae.py                                   # the default grid on the agent's block 2
    python train_sae.py --quick --checkpoint random       # a minute, random-weights network
    python train_sae.py --acts X.npy --arch topk --features 1024 --k 32 --out runs/sae/mine

Each SAE goes to <out>/<name>/ (cfg.json + sae_weights.safetensors in SAELens's layout, for
sae.load or sae_lens.SAE.load_from_disk; meta.json; metrics.json on the held-out split); the
grid's summary.json, meta.json and scaling plots go to results/sae/ for the default grid run with
no flags, else to <out>/results (or --results), so the committed results stay. A rerun skips
SAEs that are already done; two runs into one --out are refused (a lock).
Every architecture's hyper-parameters are flags (several values make a grid): see --help.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from common.config import (
    add_config_flags,
    add_run_flags,
    at_least,
    config_dict,
    config_from_args,
    knob,
)
from common.io import (
    REPO_ROOT,
    CheckpointError,
    code_version,
    results_version,
    say_reused,
    write_json,
)
from common.memory import MemoryRefusal, check_fits
from common.process import setup_process
from common.runs import RunFolderError, check_writable, open_run
from common.tracking import add_wandb_flags, maybe_wandb
from othello.az.config import PRETRAINED
from othello.interp.config import QUICK as COLLECT_QUICK
from othello.interp.config import QUICK_POSITIONS, dataset_name
from sae.grid import grid_config


@dataclass(frozen=True)
class SourceConfig:
    """Where the activations come from and where the grid's summary goes."""

    acts: Path | None = knob(None, "activations: a [N, d] .npy file or a dataset folder from "
                             "othello/collect_activations.py (default runs/activations/"
                             "<checkpoint stem>[-quick])")
    checkpoint: str = knob(str(PRETRAINED), "names the default --acts; with --quick its "
                           "activations are collected first if missing ('random': random "
                           "weights)")
    layer: int | None = knob(None, "which stored layer of a dataset folder (default its first)",
                             check=at_least(0))
    results: Path | None = knob(None, "plots and summary (default: results/sae for the "
                                "default grid with no flags, else <out>/results)")


def default_acts(source: SourceConfig, quick: bool, seed: int, progress: bool,
                 version: str) -> Path:
    """runs/activations/<stem>[-quick]; in quick mode (re)collected first when missing or made
    from another checkpoint file or seed."""
    from othello.interp.activations import collect_dataset, load_source
    from othello.interp.dataset import locate, open_dataset

    acts = REPO_ROOT / "runs" / "activations" / dataset_name(source.checkpoint, quick)
    if not quick:
        return acts
    net, info = load_source(source.checkpoint, seed)
    old = open_dataset(acts).meta if locate(acts) else {}
    if (not old or old.get("checkpoint_sha256") != info.get("checkpoint_sha256")
            or old.get("seed") != seed):
        cfg = replace(COLLECT_QUICK, checkpoint=source.checkpoint, seed=seed,
                      positions=QUICK_POSITIONS)
        print(f"collecting {cfg.positions} positions into {acts}", flush=True)
        collect_dataset(net, info, acts, cfg.positions, cfg.layers, cfg.seed, cfg.temperature,
                        progress=progress, code=version)
    else:
        say_reused("activations collected from the same checkpoint and seed", acts)
    return acts


def concept_plots(baseline: dict) -> tuple:
    """The board-concept plots (sae.plots.plot_all `extra`), with the raw-neuron baselines."""
    return (("coverage_board", "board coverage (mine/theirs)", "coverage_vs_l0.png",
             {"raw neurons": baseline["board"]["coverage"]}),
            ("reconstruction_board", "board reconstruction F1 (mine/theirs)",
             "board_reconstruction_vs_l0.png",
             {"raw neurons": baseline["board"]["reconstruction"]}))


def main(argv: list[str] | None = None) -> int:
    grid_cls, default, quick = grid_config()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_config_flags(parser, SourceConfig)
    add_config_flags(parser, grid_cls, presets={"quick": quick})
    add_run_flags(parser, out="SAE folder root (default runs/sae/<acts name>)",
                  quick="a small grid on a small dataset, about a minute", device=True)
    add_wandb_flags(parser, "the training losses")
    args = parser.parse_args(argv)
    setup_process()
    from common.device import resolve_device
    from othello.interp import sae_metrics
    from othello.interp.dataset import DatasetError, locate, open_dataset
    from sae.data import ActivationsError, open_acts, split_rows
    from sae.grid import expand
    from sae.train import training_bytes
    source, typed = config_from_args(args, SourceConfig, SourceConfig())
    grid, typed_grid = config_from_args(args, grid_cls, quick if args.quick else default)
    version = code_version()
    progress = not args.no_progress
    device = resolve_device(args.device)
    try:
        path = source.acts or default_acts(source, args.quick, grid.seed, progress, version)
        found = locate(path)
        if found is not None:
            ds = open_dataset(path)
            layer = ds.layer(source.layer if source.layer is not None else found[1])
            acts, name, acts_path = ds.acts(layer), ds.name, ds.acts_path(layer)
            downstream = sae_metrics.downstream(ds, layer, seed=grid.seed)
        else:
            ds = layer = downstream = None
            acts, name, acts_path = open_acts(path), Path(path).stem, Path(path)
    except (CheckpointError, ActivationsError, DatasetError, ValueError, RunFolderError) as e:
        hint = ("" if source.acts or args.quick else
                " (collect it first: python othello/collect_activations.py)")
        print(f"error: {e}{hint}", file=sys.stderr)
        return 2
    out = args.out or REPO_ROOT / "runs" / "sae" / name
    # only the documented default grid (no flags) writes the committed results/sae
    documented = not (args.quick or args.out or typed or typed_grid)
    results = source.results or (REPO_ROOT / "results" / "sae" if documented else out / "results")
    version = results_version(results)
    split = split_rows(len(acts), grid.holdout, grid.seed, max_test=50_000)
    if len(split.train) < grid.batch_size:
        print(f"error: {len(split.train)} training rows, fewer than --batch-size "
              f"{grid.batch_size}", file=sys.stderr)
        return 2
    cfgs = expand(grid)
    if not cfgs:
        print("error: no SAE to train (TopK needs k < --features)", file=sys.stderr)
        return 2
    try:
        check_fits(max(training_bytes(c, acts.shape[1], len(split.test)) for c in cfgs),
                   f"the widest SAE ({max(c.n_features for c in cfgs)} features)")
        lock = open_run(out, "sae")
        check_writable(results, "--results folder")
    except (MemoryRefusal, RunFolderError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with lock:
        return _train_grid(args, source, grid, cfgs, ds, layer, acts, acts_path, downstream,
                           split, out, results, version, device)


def _train_grid(args, source, grid, cfgs, ds, layer, acts, acts_path, downstream, split, out,
                results, version, device) -> int:
    from othello.interp import sae_metrics
    from sae.grid import flat, run_one
    from sae.plots import plot_all
    from sae.train import DivergedError

    progress = not args.no_progress
    data_info = {"acts": str(acts_path), "layer": layer, "rows": len(acts), "d": acts.shape[1],
                 "holdout": grid.holdout, "test_rows": len(split.test), "split_seed": grid.seed,
                 "source": ds.source_info if ds is not None else None}
    config = {"source": config_dict(source), "grid": config_dict(grid), "quick": args.quick,
              "out": str(out), "results": str(results)}
    run = maybe_wandb(args.wandb, "sae", {**config, **data_info},
                      mode=args.wandb_mode)
    print(f"{len(cfgs)} SAEs on {acts_path} ({len(acts)} x {acts.shape[1]}, "
          f"{len(split.test)} held out) -> {out}", flush=True)
    start = time.perf_counter()
    rows = []
    for cfg in cfgs:
        try:
            result = run_one(cfg, acts, split, out, data_info, downstream, progress=progress,
                             log=run.log if run is not None else None, code=version,
                             device=device)
        except DivergedError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        rows.append(flat(result))
        r = rows[-1]
        extra = (f" policy-KL recovered (mean abl.) {r['policy_kl_recovered_vs_mean']:.3f}"
                 f" board coverage {r['coverage_board']:.3f}"
                 if "coverage_board" in r else "")
        print(f"{cfg.name:>22s}: L0 {r['l0']:7.1f} FVU {r['fvu']:.4f} nMSE {r['nmse']:.4f} "
              f"dead {r['dead_fraction']:.3f} dense {r['dense_fraction']:.3f}{extra}",
              flush=True)
    baseline = (sae_metrics.neuron_baseline(ds, layer, split.test, seed=grid.seed)
                if ds is not None else None)
    if baseline:
        print(f"raw neurons: board coverage {baseline['board']['coverage']:.3f} "
              f"reconstruction {baseline['board']['reconstruction']:.3f}")
    plots = plot_all(rows, results, extra=concept_plots(baseline) if baseline else ())
    seconds = time.perf_counter() - start
    write_json(results / "summary.json", {"rows": rows, "neuron_baseline": baseline,
                                          "data": data_info, "seconds": seconds})
    write_json(results / "meta.json", {"config": config, "data": data_info, "seed": grid.seed,
                                       "code_version": version, "script": "train_sae.py"})
    print(f"wrote {len(rows)} SAEs to {out}; plots {', '.join(p.name for p in plots)} in {results}")
    if run is not None:
        run.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
