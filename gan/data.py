"""Image data: find images, decode each once into a uint8 cache, serve shuffled [-1, 1] batches.

`--data` is either a CelebA root in torchvision's layout (then the official train split is used)
or any folder of images, searched recursively.

    python -m gan.data pack ../shared/data/celeba/img_align_celeba .data/celeba64 --size 64
writes small centre-cropped JPEGs (for carrying the training set to another machine).
"""
from __future__ import annotations

import argparse
import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan.i18n import _

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
CACHE_DIR = Path(os.environ.get("GAN_CACHE", Path.home() / ".cache" / "gan_lab"))


class DataError(ValueError):
    """A data folder that cannot be used; the message says why."""


def celeba_base(root: Path) -> Path | None:
    """The folder holding list_eval_partition.txt and img_align_celeba if root is a torchvision CelebA root."""
    for base in (root / "celeba", root):
        if (base / "list_eval_partition.txt").is_file() and (base / "img_align_celeba").is_dir():
            return base
    return None


def celeba_split_files(root: Path, split: int = 0) -> list[Path] | None:
    """Files of one official split (0 train, 1 valid, 2 test) if root is a torchvision CelebA root, else None."""
    base = celeba_base(root)
    if base is None:
        return None
    names = [line.split() for line in (base / "list_eval_partition.txt").read_text().splitlines() if line.strip()]
    wanted = [base / "img_align_celeba" / name for name, part in names if int(part) == split]
    return [p for p in wanted if p.is_file()]


def find_images(root: str | Path) -> list[Path]:
    """All image files under root (recursively), or the CelebA train split; raises DataError if none."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(_("data folder not found: {path}").format(path=root))
    files = celeba_split_files(root)
    if files is None:
        files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    if not files:
        raise DataError(_("no images (.jpg, .png, .bmp, .webp) found in {path}").format(path=root))
    return files


def load_square(path: Path, size: int) -> np.ndarray | None:
    """Decode, centre-crop the largest square, resize to size; (size, size, 3) uint8, or None if unreadable."""
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            w, h = im.size
            s = min(w, h)
            box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
            im = im.resize((size, size), Image.Resampling.BICUBIC, box=box, reducing_gap=None)
            return np.asarray(im, dtype=np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def _load_chunk(args: tuple[list[Path], int]) -> list[np.ndarray | None]:
    paths, size = args
    return [load_square(p, size) for p in paths]


def decode_all(paths: list[Path], size: int, workers: int | None = None) -> tuple[np.ndarray, int]:
    """Decode every image in parallel; returns (N, size, size, 3) uint8 and the number skipped."""
    workers = workers or min(len(os.sched_getaffinity(0)), 16)
    chunks = [(paths[i:i + 256], size) for i in range(0, len(paths), 256)]
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = [img for chunk in pool.map(_load_chunk, chunks) for img in chunk]
    else:
        results = [img for chunk in chunks for img in _load_chunk(chunk)]
    images = [img for img in results if img is not None]
    if not images:
        raise DataError(f"none of the {len(paths)} image files could be read")
    return np.stack(images), len(paths) - len(images)


def cache_key(paths: list[Path], size: int) -> str:
    h = hashlib.sha1(str(size).encode())
    for p in paths:
        st = p.stat()
        h.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


@dataclass
class ImageSet:
    """Decoded images, (N, 3, S, S) uint8, plus what was skipped and where they came from."""

    images: torch.Tensor
    skipped: int
    source: str

    def describe(self) -> dict:
        return {"source": self.source, "images": len(self.images), "skipped": self.skipped,
                "image_size": self.images.shape[-1]}


def load_dataset(root: str | Path, size: int, cache: bool = True, log=print) -> ImageSet:
    """Find, decode (once: a uint8 .npy cache keyed by the files and size) and return all images."""
    paths = find_images(root)
    if celeba_base(Path(root)) is not None:
        log(f"data: {root} is a CelebA root: using its official train split ({len(paths)} images)")
    key = cache_key(paths, size)
    cache_file = CACHE_DIR / f"{key}.npy"
    skip_file = CACHE_DIR / f"{key}.skipped"
    if cache and cache_file.is_file():
        array, skipped = np.load(cache_file), int(skip_file.read_text() or 0)
        log(f"data: {len(array)} images from cache {cache_file}")
    else:
        log(f"data: decoding {len(paths)} images from {root} at {size}x{size} ...")
        array, skipped = decode_all(paths, size)
        if cache:
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            tmp = CACHE_DIR / f".{key}.{os.getpid()}.tmp.npy"  # unique: runs may decode side by side
            np.save(tmp, array)
            skip_file.write_text(str(skipped))
            os.replace(tmp, cache_file)
    if skipped:
        log(f"data: skipped {skipped} unreadable image(s)")
    images = torch.from_numpy(np.ascontiguousarray(array)).permute(0, 3, 1, 2).contiguous()
    return ImageSet(images, skipped, str(root))


def to_unit_range(batch: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, S, S) -> float in [-1, 1]."""
    return batch.float().div_(127.5).sub_(1.0)


def batches(images: torch.Tensor, batch_size: int, seed: int, epoch: int = 0, rank: int = 0,
            world: int = 1) -> Iterator[tuple[int, torch.Tensor]]:
    """Endless (epoch, batch) stream: a fresh permutation per epoch (sharded over ranks), random h-flip.

    `images` may live on any device; batches come back on that device in [-1, 1].
    """
    n = len(images)
    per_rank = n // world
    if per_rank < batch_size:
        raise DataError(f"{n} images is fewer than one batch of {batch_size} per process")
    while True:
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
        order = torch.randperm(n, generator=g)[rank * per_rank:(rank + 1) * per_rank].to(images.device)
        flips = (torch.rand(per_rank, generator=g) < 0.5).to(images.device)
        for i in range(0, per_rank - batch_size + 1, batch_size):
            idx = order[i:i + batch_size]
            x = to_unit_range(images[idx])
            flip = flips[i:i + batch_size].view(-1, 1, 1, 1)
            yield epoch, torch.where(flip, x.flip(3), x)
        epoch += 1


def pack(src: str, dst: str, size: int, quality: int) -> None:
    """Write every image of src as a centre-cropped size x size JPEG into dst."""
    paths = find_images(src)
    array, skipped = decode_all(paths, size)
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    for i, img in enumerate(array):
        Image.fromarray(img).save(out / f"{i:06d}.jpg", quality=quality)
    total = sum(f.stat().st_size for f in out.glob("*.jpg"))
    print(f"packed {len(array)} images ({skipped} skipped) into {out}: {total / 2**20:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="write small centre-cropped JPEGs of a folder")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--quality", type=int, default=85)
    args = parser.parse_args()
    try:
        pack(args.src, args.dst, args.size, args.quality)
    except DataError as e:
        raise SystemExit(f"error: {e}")


if __name__ == "__main__":
    main()
