"""The discriminator's view: a small D trained against a frozen generator, and faces ranked by what it says.

    python -m gan.discriminator train --data ../shared/data/celeba/img_align_celeba \
        --test ../shared/data/celeba-test --out checkpoints/cspup64-wide/discriminator.pt --minutes 3
    python -m gan.discriminator rank [--n 64] [--grid ranked.png]

The training runs' discriminators were not kept, so this one is trained afresh, on the CPU, while the
shipped generator stays frozen: real training photos against a pool of its faces, non-saturating BCE, Adam.
What it learns is what still tells this generator's faces from photos. Its logit is D's score:
above 0 it calls a face real. It ships in fp16 beside the generator it judges (format gan-lab/1,
kind "discriminator"), with its held-out accuracy.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gan.attributes import auc
from gan.checkpoint import FORMAT, CheckpointError, load_generator, read_weights_only, save_atomic
from gan.data import DataError, load_dataset, load_square, to_unit_range
from gan.i18n import _
from gan.limits import LimitError, check_tensors, on_meta
from gan.models import Discriminator, Generator, ModelConfig, count_params, default_widths, init_weights
from gan.sample import DEFAULT_RUN, default_checkpoint, generate, grid, latents

DEFAULT_FILE = DEFAULT_RUN / "discriminator.pt"


def save_discriminator(d: Discriminator, cfg: ModelConfig, generator: str, metrics: dict, path: str | Path) -> None:
    save_atomic({"format": FORMAT, "kind": "discriminator", "config": cfg.to_dict(), "generator": generator,
                 "d": {k: v.half() for k, v in d.state_dict().items()}, "metrics": metrics}, path)


def load_discriminator(path: str | Path = DEFAULT_FILE) -> tuple[Discriminator, dict]:
    """The discriminator of a file saved by `train`, float32 in eval mode, and its dict; CheckpointError if unusable."""
    ckpt = read_weights_only(path, "discriminator")
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT or ckpt.get("kind") != "discriminator":
        raise CheckpointError(_("{path} is not a gan-lab discriminator (kind 'discriminator')").format(path=path))
    try:
        cfg = ModelConfig(**ckpt["config"])
        meta = on_meta(lambda: Discriminator(cfg), (1, 3, cfg.image_size, cfg.image_size), "discriminator")
        check_tensors(meta.state_dict(), ckpt["d"], "discriminator")
    except LimitError as e:
        raise CheckpointError(_("{name} cannot be used: {error}").format(name=path, error=e)) from None
    except (KeyError, TypeError, ValueError, RuntimeError, OverflowError, IndexError) as e:
        raise CheckpointError(_("{path} has an invalid discriminator config: {error}").format(
            path=path, error=f"{type(e).__name__} {e}")) from None
    d = Discriminator(cfg)
    d.load_state_dict({k: v.float() for k, v in ckpt["d"].items()})
    return d.eval(), ckpt


@torch.no_grad()
def scores(d: Discriminator, images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """D's logits (N,) for uint8 images (N, H, W, 3), as gan.sample.generate gives them, or floats (N, 3, H, W)."""
    x = torch.as_tensor(images)
    if x.dtype == torch.uint8:
        x = to_unit_range(x.permute(0, 3, 1, 2))
    return torch.cat([d(chunk) for chunk in x.split(256)])


def rank(d: Discriminator, images: np.ndarray) -> tuple[np.ndarray, torch.Tensor]:
    """The images ordered from what D finds most real to most fake, and their scores in that order."""
    s = scores(d, images)
    order = s.argsort(descending=True)
    return images[order.numpy()], s[order]


def mixed_round(photos: list[Path], g: Generator, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A "real or fake?" round: k real photos (drawn by seed) and k of g's faces, shuffled; (images, is_real)."""
    rng = np.random.default_rng(seed)
    picked = [load_square(photos[i], g.cfg.image_size) for i in rng.choice(len(photos), min(k, len(photos)), False)]
    real = [p for p in picked if p is not None]
    if not real:
        raise DataError(_("none of the photos drawn for this round could be read"))
    fake = generate(g, latents(len(real), seed, g.cfg.latent))
    order = rng.permutation(2 * len(real))
    return np.concatenate([np.stack(real), fake])[order], (order < len(real))


def train(g: Generator, real: torch.Tensor, minutes: float, batch: int = 64, lr: float = 1e-3, fakes: int = 2048,
          seed: int = 0, log: Callable[[str], None] = print) -> tuple[Discriminator, ModelConfig, int]:
    """A small D trained for `minutes` on real uint8 images (N, 3, S, S) against g's faces; (D, config, steps).

    The pool is drawn once, as the app shows faces (uint8), so that D judges what the student sees; each
    batch is half real photos (randomly flipped), half faces from the pool.
    """
    torch.manual_seed(seed)
    small = tuple(w // 2 for w in default_widths(g.cfg.image_size)[1])  # 32..256 at 64 px: 0.69 M parameters
    cfg = ModelConfig(latent=g.cfg.latent, image_size=g.cfg.image_size, g_widths=g.cfg.g_widths, d_widths=small,
                      d_norm="none")  # no BatchNorm: each face's score is its own
    d = Discriminator(cfg)
    init_weights(d)
    pool = torch.from_numpy(generate(g, latents(fakes, seed + 1, cfg.latent))).permute(0, 3, 1, 2)
    opt = torch.optim.Adam(d.parameters(), lr, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(seed)
    start, step, half = time.monotonic(), 0, batch // 2
    while time.monotonic() - start < 60 * minutes:
        x = to_unit_range(real[torch.randint(len(real), (half,), generator=gen)])
        x = torch.where(torch.rand(half, 1, 1, 1, generator=gen) < 0.5, x.flip(3), x)
        fake = to_unit_range(pool[torch.randint(len(pool), (half,), generator=gen)])
        logits = d(torch.cat([x, fake]))
        loss = F.softplus(-logits[:half]).mean() + F.softplus(logits[half:]).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            log(f"step {step}: loss {loss.item():.3f}, {time.monotonic() - start:.0f} s")
    return d.eval(), cfg, step


def held_out(d: Discriminator, g: Generator, real: torch.Tensor, seed: int = 10_000) -> dict:
    """D's accuracy at logit 0 and AUC on held-out real images against fresh samples, as many of each."""
    real_scores = scores(d, to_unit_range(real))
    fake_scores = scores(d, generate(g, latents(len(real), seed, g.cfg.latent)))
    labels = torch.cat([torch.ones(len(real)), torch.zeros(len(real))])
    both = torch.cat([real_scores, fake_scores])
    return {"accuracy": round(float(((both > 0).float() == labels).float().mean()), 4),
            "real_called_real": round(float((real_scores > 0).float().mean()), 4),
            "fake_called_fake": round(float((fake_scores <= 0).float().mean()), 4),
            "auc": round(auc(both, labels), 4), "n": len(both)}


def cmd_train(args: argparse.Namespace) -> None:
    checkpoint = Path(args.checkpoint or default_checkpoint())
    g, _meta = load_generator(checkpoint)
    g.requires_grad_(False)
    real = load_dataset(args.data, g.cfg.image_size).images
    d, cfg, steps = train(g, real, args.minutes, args.batch_size, args.lr, args.fakes, args.seed)
    metrics = {"steps": steps, "minutes": args.minutes, "batch": args.batch_size, "lr": args.lr, "fakes": args.fakes,
               "params": count_params(d), "train_images": len(real)}
    if args.test:
        test = load_dataset(args.test, g.cfg.image_size).images[:args.test_images]
        metrics["held_out"] = held_out(d, g, test)
        print(f"held out: {metrics['held_out']}")
    save_discriminator(d, cfg, checkpoint.name, metrics, args.out)
    print(f"saved {args.out} ({Path(args.out).stat().st_size / 2**20:.2f} MiB) after {steps} steps")


def cmd_rank(args: argparse.Namespace) -> None:
    g, _meta = load_generator(args.checkpoint or default_checkpoint())
    d, _d_meta = load_discriminator(args.discriminator)
    ranked, s = rank(d, generate(g, latents(args.n, args.seed, g.cfg.latent)))
    print(f"D's scores, most real first: {', '.join(f'{float(x):+.2f}' for x in s)}")
    if args.grid:
        grid(ranked).save(args.grid)
        print(f"wrote {args.grid}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train a small D against a frozen generator")
    p.add_argument("--data", required=True, help="real training images (CelebA root or image folder)")
    p.add_argument("--test", help="held-out real images to measure D's accuracy on")
    p.add_argument("--test-images", type=int, default=1000)
    p.add_argument("--checkpoint", help="the generator to judge (default: the shipped default)")
    p.add_argument("--out", default=str(DEFAULT_FILE))
    p.add_argument("--minutes", type=float, default=3.0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--fakes", type=int, default=2048, help="generated faces D learns from (drawn once)")
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("rank", help="rank generated faces by D's score")
    p.add_argument("--checkpoint", help="generator (default: the shipped default)")
    p.add_argument("--discriminator", default=str(DEFAULT_FILE))
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grid", help="write the ranked faces, most real first, as one PNG")
    args = parser.parse_args(argv)
    try:
        (cmd_train if args.command == "train" else cmd_rank)(args)
    except (CheckpointError, DataError) as e:
        raise SystemExit(f"error: {e}")


if __name__ == "__main__":
    main()
