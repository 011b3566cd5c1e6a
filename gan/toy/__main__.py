"""The toy GAN's command line.

    python -m gan.toy recover --target 0.7 0.9 0.1 0.6 --dim 8 --seed 0 --json
    python -m gan.toy report      # rerun the course report's three experiments
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from typing import Callable

import torch

from gan.toy.model import as_matrix
from gan.toy.optim import D_OPTIMIZERS, G_OPTIMIZERS
from gan.toy.symmetries import closest_equivalent, near_singular_note, singular_ratio
from gan.toy.training import LOSS_NAMES, LOSSES, MAX_N, REGIMES, Diverged, ToyConfig, train, validate

REPORT_EXPERIMENTS = {
    # name: (what the report did, settings)
    "D only": ("G frozen at a random A; D learns real vs fake (BCE)", dict(regime="discriminator", steps=300)),
    "G only": ("D trained on the initial G for 200 steps, then frozen; G learns against it (Adam lr 0.01, MSE)",
               dict(regime="generator", loss="lsq", g_opt="adam", lr_g=0.01, pretrain=200, steps=800)),
    "joint": ("D and G trained together", dict(regime="joint")),
}


def get_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = ToyConfig()
    p = argparse.ArgumentParser(prog="python -m gan.toy", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("recover", help="train a GAN to recover a target matrix W")
    r.add_argument("--target", type=float, nargs=4, default=defaults.target, metavar=("W00", "W01", "W10", "W11"))
    r.add_argument("--init", type=float, nargs=4, metavar=("A00", "A01", "A10", "A11"),
                   help="initial A (default: random by seed)")
    r.add_argument("--dim", type=int, default=2 ** defaults.n, help="N, a power of two from 2 to 1024")
    r.add_argument("--regime", choices=REGIMES, default=defaults.regime)
    r.add_argument("--loss", choices=LOSSES, default=defaults.loss)
    r.add_argument("--d-opt", choices=D_OPTIMIZERS, default=defaults.d_opt)
    r.add_argument("--g-opt", choices=G_OPTIMIZERS, default=defaults.g_opt, help="adam-full: Adam with a full 4x4 "
                   "second-moment matrix (default)")
    r.add_argument("--lr-d", type=float, default=defaults.lr_d)
    r.add_argument("--lr-g", type=float, default=defaults.lr_g)
    r.add_argument("--k-d", type=int, default=defaults.k_d, help="D steps per iteration")
    r.add_argument("--k-g", type=int, default=defaults.k_g, help="G steps per iteration")
    r.add_argument("--batch", type=int, default=defaults.batch)
    r.add_argument("--hidden", type=int, default=defaults.hidden, help="D's width")
    r.add_argument("--pretrain", type=int, default=defaults.pretrain, help="generator regime: D steps before D freezes")
    r.add_argument("--steps", type=int, default=defaults.steps, help="iterations")
    r.add_argument("--ema", type=float, default=defaults.ema,
                   help="decay of the running average of A that the run reports (0: the last A)")
    r.add_argument("--seed", type=int, default=defaults.seed)
    r.add_argument("--json", action="store_true", help="print one JSON object instead of a progress log")
    s = sub.add_parser("report", help="rerun the course report's experiments on its target")
    s.add_argument("--seed", type=int, default=defaults.seed)
    return p.parse_args(argv)


def dim_to_n(dim: int) -> int:
    if dim < 2 or dim > 2 ** MAX_N or dim & (dim - 1):
        raise ValueError(f"--dim must be a power of two from 2 to {2 ** MAX_N}, got {dim}")
    return dim.bit_length() - 1


def config_from_args(args: argparse.Namespace) -> ToyConfig:
    cfg = ToyConfig(target=tuple(args.target), init=tuple(args.init) if args.init else None, n=dim_to_n(args.dim),
                    regime=args.regime, loss=args.loss, d_opt=args.d_opt, g_opt=args.g_opt,
                    lr_d=args.lr_d, lr_g=args.lr_g, k_d=args.k_d, k_g=args.k_g, batch=args.batch,
                    hidden=args.hidden, pretrain=args.pretrain, steps=args.steps, ema=args.ema, seed=args.seed)
    validate(cfg)
    return cfg


def fmt(A: torch.Tensor) -> str:
    return "[[{:.3f}, {:.3f}], [{:.3f}, {:.3f}]]".format(*A.flatten().tolist())


def log_every(total: int) -> Callable[[dict], None]:
    """A progress printer for about 10 lines per run."""
    every = max(1, total // 10)

    def log(r: dict) -> None:
        if r["step"] % every == 0 or r["step"] == total:
            print(f"step {r['step']:5d}  d_loss {r['d_loss']:.4f}  g_loss {r['g_loss']:.5f}  "
                  f"D(real) {r['d_real']:.3f}  D(fake) {r['d_fake']:.3f}  "
                  f"A [[{r['a00']:.3f}, {r['a01']:.3f}], [{r['a10']:.3f}, {r['a11']:.3f}]]  error {r['error']:.3f}")
    return log


def recover(cfg: ToyConfig, as_json: bool) -> None:
    if not as_json:
        print(f"target W = {fmt(as_matrix(cfg.target))}, N = {2 ** cfg.n}, {cfg.regime} regime, "
              f"{LOSS_NAMES[cfg.loss]} loss, {cfg.steps} iterations")
    run, seconds = train(cfg, None if as_json else log_every(cfg.steps))
    A = run.weights()
    match, _, error = closest_equivalent(A, run.W, cfg.n)
    if as_json:
        print(json.dumps(dict(weights=A.tolist(), error=error, matched=match, steps=run.step_count,
                              seconds=round(seconds, 4), initial=run.A0.tolist(), last=run.A.detach().tolist(),
                              singular_ratio=singular_ratio(run.W), config=asdict(cfg))))
    else:
        print(f"initial A {fmt(run.A0)} -> recovered A {fmt(A)} (the running average; the last A "
              f"{fmt(run.A.detach())}); matched {match}; "
              f"symmetric error {error:.4f} in {seconds:.2f} s")
        note = near_singular_note(run.W)
        if note:
            print(note)


def report(seed: int) -> None:
    base = ToyConfig(seed=seed)
    print(f"target W = {fmt(as_matrix(base.target))}, N = {2 ** base.n}, seed {seed}")
    for name, (what, overrides) in REPORT_EXPERIMENTS.items():
        run, seconds = train(replace(base, **overrides))
        last, A = run.history[-1], run.weights()
        match, _, error = closest_equivalent(A, run.W, run.cfg.n)
        print(f"\n{name}: {what}\n  {run.step_count} iterations in {seconds:.1f} s; "
              f"D(real) {last['d_real']:.3f}, D(fake) {last['d_fake']:.3f}, d_loss {last['d_loss']:.4f}, "
              f"g_loss {last['g_loss']:.5f}\n  A {fmt(run.A0)} -> {fmt(A)} (running average), "
              f"symmetric error {error:.4f} (matched {match})")


def main(argv: list[str] | None = None) -> int:
    args = get_args(argv)
    torch.set_num_threads(1)  # the tensors are tiny: threads cost more than they give
    try:
        if args.command == "recover":
            recover(config_from_args(args), args.json)
        else:
            report(args.seed)
    except (ValueError, Diverged) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
