"""Sample faces from a generator checkpoint.

    python -m gan.sample --n 64 --seed 0 --out samples/            # n PNG files (default checkpoint)
    python -m gan.sample --checkpoint FILE --grid grid.png          # one grid
    python -m gan.sample --interpolate 1 2 --steps 16 --gif walk.gif
"""
from __future__ import annotations

import argparse
import io
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan.i18n import _
from gan.checkpoint import CheckpointError, load_generator
from gan.models import Generator, ModelConfig

CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
DEFAULT_RUN = CHECKPOINTS / "cspup64-wide"  # the sharpest generator whose 64-face grid takes <= 400 ms on 2 cores
# cspup64-wide kept no snapshots along its run. cspup64 was trained beside it (same GPU, data, recipe and
# length, narrower) and kept them, so its run stands in for the wide one's training progress.
PROGRESS_STAND_IN = {"cspup64-wide": "cspup64"}


def run_snapshots(run_dir: str | Path = DEFAULT_RUN) -> list[Path]:
    """The generator files of one run folder, in training order (file names carry the step)."""
    return sorted(Path(run_dir).glob("step_*.pt"))


def default_checkpoint() -> Path:
    """The best shipped generator: the last snapshot of the default run."""
    snaps = run_snapshots()
    if not snaps:
        raise CheckpointError(_("no shipped checkpoint in {path}; train one with `python -m gan.train` and pass "
                                "--checkpoint RUN_DIR/checkpoint.pt").format(path=DEFAULT_RUN))
    return snaps[-1]


def shipped_runs(root: Path | None = None) -> dict[str, list[Path]]:
    """Run name -> its generator snapshots in training order, for every run folder under checkpoints/.

    The default run comes first, then the others by name.
    """
    root = root or CHECKPOINTS
    folders = sorted(root.glob("*"), key=lambda d: (d.name != DEFAULT_RUN.name, d.name)) if root.is_dir() else []
    runs = {d.name: run_snapshots(d) for d in folders if d.is_dir()}
    return {name: snaps for name, snaps in runs.items() if snaps}


def progress_run(run: str, runs: dict[str, list[Path]]) -> str | None:
    """The shipped run whose snapshots show `run`'s training progress: itself, its stand-in, or None."""
    for name in (run, PROGRESS_STAND_IN.get(run)):
        if name in runs and len(runs[name]) >= 2:
            return name
    return None


def shipped_scores(path: str | Path) -> dict[str, float | None] | None:
    """What checkpoints/metrics.json measured for a shipped generator file, or None if it holds nothing for it.

    Keys: FD_attr, diversity_ratio (see gan.evaluate), and real_FD_attr, real photos against real photos, for scale.
    """
    try:
        results = json.loads((CHECKPOINTS / "metrics.json").read_text())["results"]
        scores = results[Path(path).resolve().relative_to(CHECKPOINTS.parent.resolve()).as_posix()]
        real = next((v["FD_attr"] for k, v in results.items() if k.startswith("real-vs-real")), None)
        return {"FD_attr": float(scores["FD_attr"]), "diversity_ratio": float(scores["diversity_ratio"]),
                "real_FD_attr": real}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def latents(n: int, seed: int, dim: int, truncation: float = 1.0) -> torch.Tensor:
    """n latent vectors from N(0, I) for a seed, pulled towards the mean by truncation psi.

    As in StyleGAN, z' = psi * z (the latent mean is 0): psi < 1 trades variety for fidelity,
    and each seed keeps its identity as psi changes.
    """
    z = torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))
    return z * truncation


def seed_latent(seed: int, dim: int) -> torch.Tensor:
    """The latent vector of one seed, shape (dim,)."""
    return latents(1, seed, dim)[0]


def batch_size(cfg: ModelConfig, elements: int = 2**24, most: int = 256) -> int:
    """Images per forward pass such that no layer's output exceeds `elements` (64 MB of float32).

    A CSPup block's widest output is its c_out or long-branch channels at twice its input's size. The
    shipped generators get 128 to 256 images a pass; an uploaded one at gan.limits' cap still gets 16.
    """
    widest = max(max(c, round(c * cfg.bottleneck)) * (8 << i) ** 2 for i, c in enumerate(cfg.g_widths[1:]))
    return max(1, min(most, elements // max(widest, 16 * cfg.g_widths[0])))


@torch.inference_mode()
def generate(g: Generator, z: torch.Tensor, batch: int | None = None) -> np.ndarray:
    """Images for latents z: uint8 array (n, H, W, 3), in passes of `batch` (default: batch_size(g.cfg))."""
    device = next(g.parameters()).device
    out = []
    for chunk in z.split(batch or batch_size(g.cfg)):
        x = g(chunk.to(device)).float().clamp(-1, 1)
        out.append(((x + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())
    return np.concatenate(out)


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between vectors a and b at fractions t (k,) -> (k, dim)."""
    a_n, b_n = a / a.norm(), b / b.norm()
    omega = torch.arccos((a_n * b_n).sum().clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    t = t[:, None]
    direction = (torch.sin((1 - t) * omega) * a_n + torch.sin(t * omega) * b_n) / so
    norm = (1 - t) * a.norm() + t * b.norm()  # interpolate the radius linearly
    return direction * norm


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, mode: str = "slerp") -> torch.Tensor:
    """steps latents from a to b (both ends included), linear or spherical."""
    t = torch.linspace(0, 1, steps)
    if mode == "lerp":
        return torch.lerp(a[None], b[None], t[:, None])
    return slerp(a, b, t)


def grid(images: np.ndarray, nrow: int | None = None, pad: int = 2) -> Image.Image:
    """Tile (n, H, W, 3) uint8 images into one picture with white padding."""
    n, h, w, _channels = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    canvas = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, 3), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, nrow)
        canvas[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = img
    return Image.fromarray(canvas)


def gif_bytes(frames: np.ndarray, fps: int = 12, scale: int = 2) -> bytes:
    """An animated GIF (forth and back) of (k, H, W, 3) frames, each upscaled by scale."""
    pics = [Image.fromarray(f).resize((f.shape[1] * scale, f.shape[0] * scale), Image.Resampling.NEAREST)
            for f in frames]
    pics = pics + pics[-2:0:-1]
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=int(1000 / fps), loop=0)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="generator or training checkpoint (default: the shipped best one)")
    p.add_argument("--n", type=int, default=64, help="number of samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--truncation", type=float, default=1.0, help="scale of the latents (<1: safer, less varied)")
    p.add_argument("--out", help="folder for n PNG files")
    p.add_argument("--grid", help="write the n samples as one grid PNG")
    p.add_argument("--interpolate", type=int, nargs=2, metavar=("SEED_A", "SEED_B"))
    p.add_argument("--steps", type=int, default=16, help="frames of the interpolation")
    p.add_argument("--mode", choices=("slerp", "lerp"), default="slerp")
    p.add_argument("--gif", help="write the interpolation as an animated GIF")
    args = p.parse_args(argv)
    if not (args.out or args.grid or args.gif):
        p.error("nothing to write: give --out DIR, --grid FILE.png and/or --interpolate A B --gif FILE.gif")
    if bool(args.gif) != bool(args.interpolate):
        p.error("--interpolate SEED_A SEED_B and --gif FILE.gif go together")
    if args.n < 1 or args.steps < 2:
        p.error("--n must be >= 1 and --steps >= 2")
    try:
        g, ckpt = load_generator(args.checkpoint or default_checkpoint())
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    dim = ckpt["model_config"].latent
    if args.out or args.grid:
        images = generate(g, latents(args.n, args.seed, dim, args.truncation))
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            for i, img in enumerate(images):
                Image.fromarray(img).save(out / f"seed{args.seed}_{i:04d}.png")
            print(f"wrote {len(images)} PNG files to {out}")
        if args.grid:
            Path(args.grid).parent.mkdir(parents=True, exist_ok=True)
            grid(images).save(args.grid)
            print(f"wrote {args.grid}")
    if args.interpolate:
        a, b = (seed_latent(s, dim) * args.truncation for s in args.interpolate)
        frames = generate(g, interpolate(a, b, args.steps, args.mode))
        Path(args.gif).parent.mkdir(parents=True, exist_ok=True)
        Path(args.gif).write_bytes(gif_bytes(frames))
        print(f"wrote {args.gif} ({args.steps} frames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
