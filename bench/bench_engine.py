"""CPU speed of the CSPup engine: training images/s beside a plain DCGAN, and sampling latency.

    python bench/bench_engine.py [--batch 64] [--steps 8] [--threads 2]
    python bench/bench_engine.py --widths 1024 128 64 32 16 --bottleneck 0.25   # a candidate design

Both generators train against the same DCGAN discriminator with the same step (non-saturating
BCE, Adam), batch and threads, taking turns step by step; "per parameter" multiplies images/s by the
generator's size. The DCGAN's width is picked to match the CSPup generator's parameter count unless
--ngf is given.
Sampling times the shipped default checkpoint, and a candidate design (random weights: the speed
of a network does not depend on its values) when --widths or --bottleneck is given.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from gan.checkpoint import load_generator  # noqa: E402
from gan.models import Discriminator, Generator, ModelConfig, count_params, init_weights  # noqa: E402
from gan.sample import default_checkpoint, generate, latents  # noqa: E402
from gan.train import d_loss_fake, d_loss_real, g_loss_fn  # noqa: E402


def dcgan_generator(latent: int, ngf: int) -> nn.Module:
    """The PyTorch DCGAN example's generator at 64x64."""
    def up(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]

    return nn.Sequential(
        nn.Unflatten(1, (latent, 1, 1)),
        nn.ConvTranspose2d(latent, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        *up(ngf * 8, ngf * 4), *up(ngf * 4, ngf * 2), *up(ngf * 2, ngf),
        nn.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), nn.Tanh())


class GANStep:
    """One full GAN step (a D and a G update, non-saturating BCE, Adam) of a generator against a DCGAN D."""

    def __init__(self, g: nn.Module, latent: int, batch: int):
        init_weights(g)
        self.g, self.d, self.latent = g, Discriminator(ModelConfig()), latent
        init_weights(self.d)
        self.opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999), foreach=True)
        self.opt_d = torch.optim.Adam(self.d.parameters(), 2e-4, betas=(0.5, 0.999), foreach=True)
        self.real = torch.rand(batch, 3, 64, 64) * 2 - 1

    def __call__(self) -> None:
        fake = self.g(torch.randn(len(self.real), self.latent))
        self.opt_d.zero_grad()
        (d_loss_real("bce", self.d(self.real)) + d_loss_fake("bce", self.d(fake.detach()))).backward()
        self.opt_d.step()
        self.opt_g.zero_grad()
        g_loss_fn("bce", self.d(fake)).backward()
        self.opt_g.step()


def interleaved_seconds(jobs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each job, run in turn (a, b, c, a, b, c, ...) after one warm-up round.

    Taking turns spreads the machine's drift (other tenants, clocks) evenly over the jobs compared.
    """
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for i in range(repeats + 1):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            if i:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def matched_ngf(params: int, latent: int) -> int:
    """The DCGAN width whose generator has the parameter count nearest to params."""
    return min(range(8, 129), key=lambda ngf: abs(count_params(dcgan_generator(latent, ngf)) - params))


def multiply_adds(g: nn.Module, latent: int) -> int:
    """Multiply-adds of one image through g's convolutions and linear layers."""
    total = 0

    def count(m: nn.Module, inputs: tuple, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(m, nn.ConvTranspose2d):  # every input pixel meets the whole kernel
            total += inputs[0][0].numel() * m.out_channels * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Conv2d):
            total += out[0].numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total += m.in_features * m.out_features

    hooks = [m.register_forward_hook(count) for m in g.modules()]
    with torch.no_grad():
        g.eval()(torch.randn(1, latent))
    for h in hooks:
        h.remove()
    return total


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=8, help="timed training steps per generator")
    p.add_argument("--samples", type=int, default=9, help="timed 64-image batches per generator")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--ngf", type=int, help="DCGAN width (default: the one matching the CSPup G's size)")
    p.add_argument("--widths", type=int, nargs="+", help="CSPup widths from 4x4 up (default: the default model's)")
    p.add_argument("--bottleneck", type=float, help="CSPup long-branch width (default: the default model's)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    default = ModelConfig()
    cfg = ModelConfig(g_widths=args.widths or default.g_widths, bottleneck=args.bottleneck or default.bottleneck)
    candidate = args.widths is not None or args.bottleneck is not None
    ours = Generator(cfg)
    ngf = args.ngf or matched_ngf(count_params(ours), cfg.latent)
    dcgan = dcgan_generator(cfg.latent, ngf)
    print(f"CPU, {args.threads} threads, batch {args.batch}, 64x64, medians of {args.steps} interleaved steps")
    names = (f"CSPup {'x'.join(map(str, cfg.g_widths))} b={cfg.bottleneck:g}", f"DCGAN ngf={ngf}")
    steps = {name: GANStep(g, cfg.latent, args.batch) for name, g in zip(names, (ours, dcgan))}
    seconds = interleaved_seconds(steps, args.steps)
    per_param = {}
    for name, g in zip(names, (ours, dcgan)):
        rate, params = args.batch / seconds[name], count_params(g)
        per_param[name] = rate * params
        print(f"train  {name:28s} G {params / 1e6:.2f}M params, {multiply_adds(g, cfg.latent) / 1e6:4.0f}M MAC/image: "
              f"{rate:6.1f} img/s, {rate * params / 1e6:7.1f} M param·img/s")
    print(f"per parameter: CSPup / DCGAN = {per_param[names[0]] / per_param[names[1]]:.2f}x")

    shipped, _ = load_generator(default_checkpoint())
    samplers = {f"shipped default G ({count_params(shipped) / 1e6:.2f}M)": shipped}
    if candidate:
        samplers["candidate G (random weights)"] = ours.eval().to(memory_format=torch.channels_last)
    samplers[f"DCGAN ngf={ngf}"] = dcgan.eval().to(memory_format=torch.channels_last)  # as the app keeps G
    z = latents(64, 0, cfg.latent)
    jobs = {name: (lambda g=g: generate(g, z)) for name, g in samplers.items()}
    for name, sec in interleaved_seconds(jobs, args.samples).items():
        print(f"sample 64 images, {name}: {1000 * sec:.0f} ms")

if __name__ == "__main__":
    main()
