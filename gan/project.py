"""Projection, or "can the GAN draw this face?": the latent z whose face G(z) best reconstructs a photo.

    python -m gan.project --image PHOTO --out DIR [--checkpoint FILE] [--steps 100] [--json]

The photo is centre-cropped and resized like the training images (gan.data.load_square). The loss is a
pixel loss (mean squared error in [-1, 1]) plus a perceptual one: the mean squared distance between the
attribute classifier's feature maps of the two images, each feature vector scaled to unit length (as
LPIPS does). The search starts from the best of `--starts` random latents and runs Adam on z alone;
G and the classifier stay frozen. A small prior keeps |z|^2 near the latent size, where training put
its latents, so that the attribute directions still mean what they meant there.

The error is what the latent space can do for this photo: faces like CelebA's come out close, and what
the training set lacked (hats, hands, profiles, unusual light, other kinds of picture) cannot be reached
by any z. `random_error` is the mean loss of random latents, for scale.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from gan.attributes import AttributeNet, load_classifier
from gan.checkpoint import CheckpointError, load_generator
from gan.data import find_images, load_square
from gan.i18n import _
from gan.models import Generator
from gan.sample import CHECKPOINTS, default_checkpoint, generate, grid, latents

REAL_IMAGES = "GAN_LAB_REAL_IMAGES"  # environment variable: a folder of real face photos to pick from
MAX_PIXELS = 40_000_000  # a photo is refused above this, before it is decoded
DEFAULT_STEPS = 100  # ~3.7 s of CPU time with the default generator (30 ms a step, one thread; bench/README.md)


class PhotoError(ValueError):
    """A photo that cannot be read; the message says why."""


def real_photos() -> list[Path]:
    """The image files of the folder named by $GAN_LAB_REAL_IMAGES, in name order; [] if unset (DataError if unusable).

    Real photos are read where they are and never copied into the repository (CelebA's licence).
    """
    folder = os.environ.get(REAL_IMAGES)
    return find_images(folder) if folder else []


def read_photo(source: str | Path | bytes, size: int) -> torch.Tensor:
    """The photo as the generator would draw it: (1, 3, size, size) in [-1, 1], centre-cropped and resized."""
    name = _("the uploaded image") if isinstance(source, bytes) else str(source)
    opened = (lambda: io.BytesIO(source)) if isinstance(source, bytes) else (lambda: source)
    try:
        with Image.open(opened()) as im:  # reads the header only
            pixels = im.width * im.height
    except (OSError, ValueError, Image.DecompressionBombError):
        raise PhotoError(_("{name} is not a readable image").format(name=name)) from None
    if pixels > MAX_PIXELS:
        raise PhotoError(_("{name} has {pixels:.0f} M pixels; the limit is {limit:.0f} M").format(
            name=name, pixels=pixels / 1e6, limit=MAX_PIXELS / 1e6))
    array = load_square(opened(), size)
    if array is None:
        raise PhotoError(_("{name} is not a readable image").format(name=name))
    return torch.from_numpy(array.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1


class ReconstructionLoss:
    """Pixel MSE plus the perceptual distance in the classifier's feature maps; per image, (B,)."""

    def __init__(self, classifier: AttributeNet, target: torch.Tensor, perceptual: float = 1.0):
        self.classifier = classifier.eval().requires_grad_(False)
        self.target, self.perceptual = target, perceptual
        self.target_maps = self.feature_maps(target)

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The classifier body's activations after each stage, each pixel's feature vector of unit length."""
        maps = []
        for layer in self.classifier.body:
            x = layer(x)
            if isinstance(layer, torch.nn.ReLU):
                maps.append(F.normalize(x, dim=1, eps=1e-6))
        return maps

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        pixel = (images - self.target).square().mean(dim=(1, 2, 3))
        feats = sum((a - b).square().sum(dim=1).mean(dim=(1, 2))
                    for a, b in zip(self.feature_maps(images), self.target_maps))
        return pixel + self.perceptual * feats / len(self.target_maps)


@dataclass
class Projection:
    z: torch.Tensor  # (latent,)
    errors: list[float]  # the loss at each step; errors[0] is the best random start's
    random_error: float  # the mean loss of the random latents the search started among
    seconds: float  # wall-clock time of the search
    cpu_seconds: float  # this process's CPU time for it: what it costs, whatever else the machine runs
    frames: list[tuple[int, np.ndarray]] = field(default_factory=list)  # (step, G(z) as uint8) along the way

    @property
    def error(self) -> float:
        return self.errors[-1]


def prior(z: torch.Tensor) -> torch.Tensor:
    """Zero where |z|^2 equals the latent size, the typical length of a Gaussian latent."""
    return (z.square().mean(dim=-1) - 1).square()


def project(g: Generator, classifier: AttributeNet, target: torch.Tensor, steps: int = DEFAULT_STEPS,
            starts: int = 32, lr: float = 0.1, seed: int = 0, every: int = 5, prior_weight: float = 0.01,
            callback: Callable[[int, list[float], np.ndarray], None] | None = None) -> Projection:
    """Adam on z from the best of `starts` random latents.

    Every `every` steps it keeps a frame of G(z) and calls callback(step, errors so far, frame).
    """
    start_time, start_cpu = time.perf_counter(), time.process_time()
    g = g.eval().requires_grad_(False)
    loss = ReconstructionLoss(classifier, target)
    candidates = latents(starts, seed, g.cfg.latent)
    with torch.no_grad():
        start_losses = loss(g(candidates))
    z = candidates[start_losses.argmin()][None].clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    errors, frames = [float(start_losses.min())], []
    for step in range(1, steps + 1):
        image = g(z)
        error = loss(image)[0]
        opt.zero_grad(set_to_none=True)
        (error + prior_weight * prior(z)[0]).backward()
        opt.step()
        errors.append(error.item())  # the error of the z before this step's update
        if step % every == 0 or step == steps:
            frame = generate(g, z.detach())[0]
            frames.append((step, frame))
            if callback:
                callback(step, errors, frame)
    with torch.no_grad():
        errors[-1] = float(loss(g(z)))  # the returned z's own error
    return Projection(z.detach()[0], errors, float(start_losses.mean()), time.perf_counter() - start_time,
                      time.process_time() - start_cpu, frames)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--image", required=True, help="a photo of a face (any size; centre-cropped to a square)")
    p.add_argument("--checkpoint", help="generator or training checkpoint (default: the shipped default)")
    p.add_argument("--classifier", default=str(CHECKPOINTS / "attributes.pt"), help="attribute classifier")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--starts", type=int, default=32, help="random latents to start from the best of")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="folder for target.png, reconstruction.png, progress.png, z.pt")
    p.add_argument("--threads", type=int, default=1, help="torch threads (one image at a time gains little from more)")
    p.add_argument("--json", action="store_true", help="print one JSON object with the numbers")
    args = p.parse_args(argv)
    if args.steps < 1 or args.starts < 1:
        p.error("--steps and --starts must be >= 1")
    torch.set_num_threads(args.threads)
    try:
        g, _meta = load_generator(args.checkpoint or default_checkpoint())
        classifier = load_classifier(args.classifier)
        target = read_photo(args.image, g.cfg.image_size)
    except (CheckpointError, PhotoError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result = project(g, classifier, target, args.steps, args.starts, args.lr, args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target_uint8 = ((target[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    Image.fromarray(target_uint8).save(out / "target.png")
    Image.fromarray(result.frames[-1][1]).save(out / "reconstruction.png")
    strip = np.stack([target_uint8] + [f for _, f in result.frames])
    grid(strip, nrow=len(strip)).save(out / "progress.png")
    torch.save({"z": result.z, "errors": torch.tensor(result.errors)}, out / "z.pt")
    numbers = {"error": round(result.error, 5), "random_error": round(result.random_error, 5),
               "start_error": round(result.errors[0], 5), "seconds": round(result.seconds, 2),
               "cpu_seconds": round(result.cpu_seconds, 2), "steps": args.steps}
    print(json.dumps(numbers) if args.json else
          f"error {numbers['error']} after {args.steps} steps in {numbers['seconds']} s (best random start "
          f"{numbers['start_error']}, random latents {numbers['random_error']}); wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
