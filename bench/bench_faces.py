"""CPU latency of the Faces page's work: a grid of faces from every shipped generator.

    python bench/bench_faces.py [--threads 2] [--repeats 9]

Medians of interleaved runs (a, b, c, a, b, c, ...), 16 and 64 faces per grid, with the app's settings
(channels-last weights, inference mode). The default generator is the sharpest one whose 64-face grid
takes at most 400 ms here (issue 14). Beside the wall-clock time it prints the process's CPU time: on
a machine that other jobs keep busy the wall clock reads slow, the CPU time much less so (with
--threads 1 it is what the wall clock would read on an idle machine).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gan.checkpoint import load_generator  # noqa: E402
from gan.sample import generate, latents, shipped_runs  # noqa: E402


def interleaved(jobs: dict[str, Callable[[], object]], repeats: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each job, run in turn after one warm-up round."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in jobs}
    for i in range(repeats + 1):
        for name, job in jobs.items():
            wall, cpu = time.perf_counter(), time.process_time()
            job()
            if i:
                times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {name: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for name, t in times.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=9)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    jobs = {}
    for run, snaps in shipped_runs().items():
        g, ckpt = load_generator(snaps[-1])
        for n in (16, 64):
            z = latents(n, 0, ckpt["model_config"].latent)
            jobs[f"{run} ({snaps[-1].name}), {n} faces"] = lambda g=g, z=z: generate(g, z)
    print(f"CPU, {args.threads} threads, medians of {args.repeats} interleaved runs")
    for name, (wall, cpu) in interleaved(jobs, args.repeats).items():
        print(f"{name:55s} {1000 * wall:6.0f} ms wall, {1000 * cpu:6.0f} ms CPU")


if __name__ == "__main__":
    main()
