"""Unsupervised latent directions by closed-form factorization (SeFa: Shen & Zhou, CVPR 2021).

    python -m gan.sefa [--checkpoint FILE] [--top 6] [--seed 0] [--grid strips.png]

The generator's first layer maps z to s * (W z): W is the stem's linear weight, (16 * w0, latent), and s
the per-channel scale of the BatchNorm that follows it (at eval time it is affine). Moving z by t * n
moves the first feature map by t * s * (W n), whatever z is. The unit directions n that move it most
maximise |diag(s) W n|^2: they are the eigenvectors of A^T A, A = diag(s) W, by decreasing eigenvalue.
No labels, no sampling: one small symmetric eigendecomposition. The classifier-fitted attribute
directions (gan.attributes) tell what each one turned out to mean, by cosine similarity.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
import torch.nn.functional as F

from gan.attributes import load_directions, move_along
from gan.checkpoint import CheckpointError, load_generator
from gan.models import Generator
from gan.sample import default_checkpoint, generate, grid, latents


def first_layer(g: Generator) -> torch.Tensor:
    """A = diag(s) W, the eval-time linear map from z to the first normalised feature map (before the shift)."""
    w = g.stem[0].weight.detach().float()  # (16 * w0, latent), rows channel-major: channel c is rows 16c..16c+15
    bn = g.stem_norm[0]
    scale = (bn.weight / (bn.running_var + bn.eps).sqrt()).detach().float()
    return w * scale.repeat_interleave(w.shape[0] // len(scale))[:, None]


def factorize(g: Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(eigenvalues (latent,), directions (latent, latent) as unit rows), strongest first."""
    a = first_layer(g).double()
    values, vectors = torch.linalg.eigh(a.T @ a)  # ascending
    return values.flip(0).float(), vectors.flip(1).T.float()


def similarity(directions: torch.Tensor, attributes: torch.Tensor) -> torch.Tensor:
    """Cosine similarity (K, A) of each direction with each attribute direction (signs matter: + = more of it)."""
    return F.normalize(directions, dim=1) @ F.normalize(attributes, dim=1).T


def describe(cosines: torch.Tensor, names: list[str], top: int = 2) -> str:
    """'Smiling +0.62, Male -0.31': the attributes a direction is most like, strongest first."""
    order = cosines.abs().argsort(descending=True)[:top]
    return ", ".join(f"{names[i]} {float(cosines[i]):+.2f}" for i in order)


def strips(g: Generator, directions: torch.Tensor, z: torch.Tensor, ts: torch.Tensor) -> np.ndarray:
    """uint8 images (K, len(ts), H, W, 3): latent z moved by each t along each direction."""
    moved = torch.cat([move_along(z[None].expand(len(ts), -1), d, ts[:, None]) for d in directions])
    images = generate(g, moved)
    return images.reshape(len(directions), len(ts), *images.shape[1:])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", help="generator or training checkpoint (default: the shipped default)")
    p.add_argument("--top", type=int, default=6, help="directions to show")
    p.add_argument("--seed", type=int, default=0, help="latent moved along each direction")
    p.add_argument("--grid", help="write the strips (one row per direction, t from -3 to 3) as a PNG")
    args = p.parse_args(argv)
    try:
        g, ckpt = load_generator(args.checkpoint or default_checkpoint())
        attributes = load_directions(ckpt)
    except CheckpointError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    values, directions = factorize(g)
    top = directions[:max(1, min(args.top, len(directions)))]
    share = values / values.sum()
    cos = similarity(top, attributes["vectors"]) if attributes else None
    for k in range(len(top)):
        like = f"  most like: {describe(cos[k], attributes['names'])}" if cos is not None else ""
        print(f"direction {k}: {100 * float(share[k]):5.1f}% of the first layer's energy{like}")
    if args.grid:
        images = strips(g, top, latents(1, args.seed, g.cfg.latent)[0], torch.linspace(-3, 3, 7))
        grid(images.reshape(-1, *images.shape[2:]), nrow=7).save(args.grid)
        print(f"wrote {args.grid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
