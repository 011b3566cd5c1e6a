"""The toy GAN's targets: kron_transform against the report's per-fibre loop, and recovery of 20 targets.

    python bench/bench_toy.py              # both, the numbers in bench/README.md
    python bench/bench_toy.py --targets 5  # a quick look
    python bench/bench_toy.py --seed-offset 1000 --skip-speed  # the same targets, other training seeds

1. Speed: G_A(z) at N = 8, per sample, by a faithful re-implementation of the course report's
   loops (each sample viewed as a 2x2x2 tensor, A applied to every fibre of every axis in Python)
   and by gan.toy.kron_transform on one large batch. Target: at least 1000x.
2. Recovery: `python -m gan.toy recover --target W --dim 8 --seed i --json` with the defaults, for
   targets whose four entries are drawn from U[0, 1] by random.Random(i), each run a fresh process.
   Targets: symmetric error <= 0.05 for at least 18 of 20, median training time (the JSON's
   `seconds`) <= 2 s, median wall time of the whole command (start-up included) <= 5 s.
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gan.toy.model import generate  # noqa: E402


def report_loop(A: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """The report's way: for each sample, for each axis, for each fibre along it, fibre <- A @ fibre; then tanh."""
    n = z.shape[1].bit_length() - 1
    out = torch.empty_like(z)
    for b in range(z.shape[0]):
        x = z[b].reshape((2,) * n).clone()
        for axis in range(n):
            moved = x.movedim(axis, -1)
            for index in itertools.product(range(2), repeat=n - 1):
                moved[index] = A @ moved[index]
        out[b] = torch.tanh(x.reshape(-1))
    return out


def per_sample_seconds(fn, A: torch.Tensor, z: torch.Tensor, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(A, z)
        best = min(best, time.perf_counter() - start)
    return best / z.shape[0]


def speed(samples_loop: int = 200, samples_batch: int = 65_536) -> None:
    g = torch.Generator().manual_seed(0)
    A = torch.tensor([[0.7, 0.9], [0.1, 0.6]], dtype=torch.float64)
    z_loop = torch.rand(samples_loop, 8, generator=g, dtype=torch.float64)
    assert torch.allclose(report_loop(A, z_loop), generate(A, z_loop))
    loop = per_sample_seconds(report_loop, A, z_loop, repeat=3)
    z = torch.rand(samples_batch, 8, generator=g, dtype=torch.float64)
    batched = per_sample_seconds(generate, A, z, repeat=20)
    print(f"G_A(z) at N = 8, float64, per sample: report's per-fibre loop {loop * 1e6:.1f} us, "
          f"kron_transform {batched * 1e9:.1f} ns (batch {samples_batch:,}): {loop / batched:,.0f}x faster")


def recover(target: list[float], seed: int) -> tuple[dict, float]:
    command = [sys.executable, "-m", "gan.toy", "recover", "--target", *map(str, target), "--dim", "8",
               "--seed", str(seed), "--json"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout), time.perf_counter() - start


def target(i: int) -> list[float]:
    """The i-th recovery target: four entries from U[0, 1] by random.Random(i)."""
    rng = random.Random(i)
    return [round(rng.uniform(0, 1), 4) for _ in range(4)]


def recovery(count: int, seed_offset: int) -> None:
    errors, seconds, walls = [], [], []
    for i in range(count):
        W = target(i)
        result, wall = recover(W, seed=i + seed_offset)
        errors.append(result["error"])
        seconds.append(result["seconds"])
        walls.append(wall)
        print(f"  target {i:2d} {W}: error {result['error']:.4f} ({result['matched']}), "
              f"training {result['seconds']:.2f} s, command {wall:.2f} s", flush=True)
    ok = sum(e <= 0.05 for e in errors)
    print(f"recovered (symmetric error <= 0.05): {ok}/{count}; median error {statistics.median(errors):.4f}; "
          f"median training {statistics.median(seconds):.2f} s; median command wall {statistics.median(walls):.2f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--targets", type=int, default=20, help="how many random targets to recover")
    p.add_argument("--seed-offset", type=int, default=0, help="train target i with seed i + this")
    p.add_argument("--skip-speed", action="store_true", help="only the recoveries")
    args = p.parse_args()
    torch.set_num_threads(1)
    if not args.skip_speed:
        speed()
    recovery(args.targets, args.seed_offset)


if __name__ == "__main__":
    main()
