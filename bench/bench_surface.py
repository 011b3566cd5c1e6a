"""G's loss surface on the Weight recovery page: how close its noise set comes to G's expected loss, and its cost.

    python bench/bench_surface.py                 # 4 seeds x 3 moments of a default run, 6 draws of each set
    python bench/bench_surface.py --seeds 2       # a quick look

The page draws G's loss over a 13 x 13 grid of two entries of A, each cell averaged over one fixed set of noise
vectors. For the run's own surface (`LiveRun.scene`) at iterations 60, 150 and 300 of a default run, the same grid
is averaged over 16,384 random vectors (the reference) and over each candidate set: random vectors, or a scrambled
Sobol (quasi-random) set. Reported per set: the largest and the rms gap to the reference, as a share of the
reference's range (means over all states and draws), and the time of one surface (the best of three rounds at
every state).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from gan.serving import configure_torch  # noqa: E402
from gan.toy.live import LiveRun  # noqa: E402
from gan.toy.model import noise  # noqa: E402
from gan.toy.training import ToyConfig  # noqa: E402
from gan.toy.views import loss_surface  # noqa: E402

SETS = (("random", 48), ("random", 24), ("sobol", 24), ("sobol", 32), ("sobol", 64))
MOMENTS = (60, 150, 300)  # iterations into the run


def noise_set(kind: str, size: int, N: int, draw: int) -> torch.Tensor:
    if kind == "sobol":
        return torch.quasirandom.SobolEngine(N, scramble=True, seed=draw).draw(size)
    return noise(size, N, torch.Generator().manual_seed(100 + draw))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=4, help="training seeds of the default run")
    p.add_argument("--draws", type=int, default=6, help="draws of each noise set per state")
    args = p.parse_args(argv)
    configure_torch()
    gaps: dict[tuple[str, int], list[tuple[float, float]]] = {s: [] for s in SETS}
    seconds: dict[tuple[str, int], float] = {}
    for seed in range(args.seeds):
        live = LiveRun(ToyConfig(seed=seed))
        for moment in MOMENTS:
            live.run.train_for(float("inf"), moment - live.run.step_count)
            scene, run = live.scene(None, (0, 1)), live.run
            A = run.A.detach()

            def surface(z: torch.Tensor) -> torch.Tensor:
                return loss_surface(run.D, run.cfg.loss, A, (0, 1), scene.surface_u, scene.surface_v, z)

            ref = surface(noise(16384, run.N, torch.Generator().manual_seed(9)))
            span = (ref.max() - ref.min()).item()
            for kind, size in SETS:
                for draw in range(args.draws):
                    gap = surface(noise_set(kind, size, run.N, draw)) - ref
                    gaps[kind, size].append((gap.abs().max().item() / span, gap.pow(2).mean().sqrt().item() / span))
            for _round in range(3):  # each set in turn, the best of the rounds: the machine's noise is large
                for kind, size in SETS:
                    z = noise_set(kind, size, run.N, 0)
                    start = time.perf_counter()
                    for _ in range(20):
                        surface(z)
                    seconds[kind, size] = min(seconds.get((kind, size), 1e9), (time.perf_counter() - start) / 20)
    print(f"{args.seeds} seeds x {len(MOMENTS)} moments x {args.draws} draws; gaps as a share of the surface's range")
    print(f"  {'noise set':<14}{'largest gap':>12}{'rms gap':>10}{'ms a surface':>14}")
    for (kind, size), rows in gaps.items():
        largest, rms = (sum(r[k] for r in rows) / len(rows) for k in (0, 1))
        print(f"  {kind + ' ' + str(size):<14}{largest:12.3f}{rms:10.3f}{1000 * seconds[kind, size]:14.2f}")


if __name__ == "__main__":
    main()
