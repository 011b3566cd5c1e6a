"""Compare generated faces with held-out real ones.

    python -m gan.evaluate --checkpoint checkpoints/cspup64-lean/step_0018565.pt \
        --data /work/shared/data/celeba-test --n 2000 [--inception-weights FILE] [--json]
    python -m gan.evaluate --checkpoint checkpoints/cspup64*/*.pt \
        --data /work/shared/data/celeba-test --baseline /work/shared/data/celeba --n 2000 --json

FID: the Frechet distance between 2048-d pool features of the FID Inception network (pytorch-fid's port of
the TensorFlow Inception v3), computed only when its weights (pt_inception-2015-12-05-6726825d.pth) are
given or sit in the torch hub cache; otherwise the output says why it was not computed.
Offline metrics, always computed with the attribute classifier (checkpoints/attributes.pt), never FID:
    FD_attr             Frechet distance in the classifier's penultimate (256-d) feature space
    diversity           mean pairwise distance of those features; diversity_ratio = generated / real
                        (well below 1 means mode collapse)
    attr_marginal_gap   mean over the 40 attributes of |P(attribute) generated - P(attribute) real|
--baseline DIR scores real images from DIR the same way (real vs real), to give the numbers a scale.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import inception

from gan.attributes import AttributeNet, describe, image_batches, load_classifier
from gan.checkpoint import CheckpointError, load_generator
from gan.data import DataError, decode_all, find_images, to_unit_range
from gan.sample import latents

FID_WEIGHTS = "pt_inception-2015-12-05-6726825d.pth"


# ---------------------------------------------------------------- Frechet distance

def gaussian(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of (N, D) features, in float64."""
    x = features.double().numpy()
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix (negative round-off clipped)."""
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(w.clip(min=0))) @ v.T


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)) between two Gaussians.

    tr((S1 S2)^(1/2)) is the sum of the square roots of the eigenvalues of the symmetric PSD matrix
    S1^(1/2) S2 S1^(1/2) (same spectrum as S1 S2), which stays real and stable for singular covariances.
    """
    r1 = psd_sqrt(s1)
    m = r1 @ s2 @ r1
    tr_covmean = np.sqrt(np.linalg.eigvalsh((m + m.T) / 2).clip(min=0)).sum()
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def features_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    return frechet_distance(*gaussian(a), *gaussian(b))


def mean_pairwise_distance(features: torch.Tensor) -> float:
    """Mean Euclidean distance between distinct rows of (N, D) features."""
    n = len(features)
    return float(torch.cdist(features.double(), features.double()).sum() / (n * (n - 1)))


# ---------------------------------------------------------------- FID Inception (pytorch-fid's variant)

def _avg_pool(x: torch.Tensor) -> torch.Tensor:
    """TensorFlow's 3x3 average pool: padding is left out of the average."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDInceptionA(inception.InceptionA):
    def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_avg_pool(x))]


class FIDInceptionC(inception.InceptionC):
    def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4,
                      self.branch7x7dbl_5):
            bd = layer(bd)
        return [self.branch1x1(x), b7, bd, self.branch_pool(_avg_pool(x))]


class FIDInceptionE(inception.InceptionE):
    """InceptionE whose pool branch averages without padding (Mixed_7b) or takes the max (Mixed_7c)."""

    def __init__(self, in_channels: int, pool: str):
        super().__init__(in_channels)
        self.pool = pool

    def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.pool == "max" else _avg_pool(x)
        return [self.branch1x1(x), b3, bd, self.branch_pool(pooled)]


def fid_inception() -> inception.Inception3:
    """torchvision's Inception v3 with 1008 classes and the FID blocks, as pytorch-fid builds it (no weights)."""
    net = inception.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE(1280, pool="avg")
    net.Mixed_7c = FIDInceptionE(2048, pool="max")
    return net


def load_inception(weights: str | None) -> tuple[nn.Module | None, str]:
    """(FID Inception returning 2048-d pool features, "") or (None, why FID cannot be computed)."""
    path = Path(weights) if weights else Path(torch.hub.get_dir()) / "checkpoints" / FID_WEIGHTS
    if not path.is_file():
        where = f"{path} does not exist" if weights else f"none given with --inception-weights and none at {path}"
        return None, f"FID not computed: no FID Inception weights ({FID_WEIGHTS}): {where}."
    net = fid_inception()
    try:
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as e:  # any unreadable or mismatched file means the same thing here: no FID
        return None, f"FID not computed: {path} is not the FID Inception state dict ({str(e).splitlines()[0]})."
    net.fc = nn.Identity()
    return net.eval(), ""


@torch.no_grad()
def inception_features(net: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """(B, 2048) pool features of images in [-1, 1], resized bilinearly to 299x299."""
    return net(F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False))


# ---------------------------------------------------------------- images and their features

def real_images(root: str | Path, n: int, size: int, seed: int) -> torch.Tensor:
    """n images (all if fewer) picked by seed from root, centre-cropped and resized: uint8 (N, 3, S, S)."""
    paths = find_images(root)
    if n < len(paths):
        picked = torch.randperm(len(paths), generator=torch.Generator().manual_seed(seed))[:n]
        paths = [paths[i] for i in sorted(picked.tolist())]
    array, _ = decode_all(paths, size)
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()


def embed(batches: Iterable[torch.Tensor], classifier: AttributeNet, inception_net: nn.Module | None) -> dict:
    """Classifier features and probabilities (and Inception features) of batches of images in [-1, 1]."""
    out: dict[str, list[torch.Tensor]] = {"features": [], "probs": [], "inception": []}
    for x in batches:
        f, p = describe(classifier, x)
        out["features"].append(f)
        out["probs"].append(p)
        if inception_net is not None:
            out["inception"].append(inception_features(inception_net, x))
    return {k: torch.cat(v) for k, v in out.items() if v}


def uint8_batches(images: torch.Tensor, batch_size: int = 250) -> Iterable[torch.Tensor]:
    return (to_unit_range(images[i:i + batch_size]) for i in range(0, len(images), batch_size))


def sig(x: float) -> float:
    """x to 5 significant digits, for a readable report."""
    return float(f"{x:.5g}")


def compare(cand: dict, ref: dict, names: list[str]) -> dict:
    """Offline metrics (and FID when both sides have Inception features) of cand against ref."""
    diversity, diversity_real = mean_pairwise_distance(cand["features"]), mean_pairwise_distance(ref["features"])
    marginals = cand["probs"].mean(0)
    result = {
        "FD_attr": sig(features_distance(cand["features"], ref["features"])),
        "diversity": sig(diversity), "diversity_real": sig(diversity_real),
        "diversity_ratio": sig(diversity / diversity_real),
        "attr_marginal_gap": sig((marginals - ref["probs"].mean(0)).abs().mean().item()),
        "marginals": {name: sig(m) for name, m in zip(names, marginals.tolist())},
        "n": len(cand["features"]),
    }
    if "inception" in cand:
        result["FID"] = sig(features_distance(cand["inception"], ref["inception"]))
    return result


# ---------------------------------------------------------------- command

def evaluate(args: argparse.Namespace) -> dict:
    classifier = load_classifier(args.classifier)
    inception_net, fid_note = load_inception(args.inception_weights)
    generators = [load_generator(path) for path in args.checkpoint]  # fail early on any bad file
    refs: dict[int, dict] = {}

    def reference(size: int) -> dict:
        if size not in refs:
            log(f"real: {args.n} images from {args.data} at {size}x{size}")
            refs[size] = embed(uint8_batches(real_images(args.data, args.n, size, args.seed)), classifier, inception_net)
        return refs[size]

    results = {}
    for path, (g, ckpt) in zip(args.checkpoint, generators):
        start, size = time.time(), g.cfg.image_size
        ref = reference(size)
        cand = embed(image_batches(g, latents(len(ref["features"]), args.seed, g.cfg.latent)), classifier, inception_net)
        results[path] = {"step": ckpt.get("step"), **compare(cand, ref, classifier.names),
                         "seconds": round(time.time() - start, 1)}
        log(f"{path}: FD_attr {results[path]['FD_attr']:.3f} in {results[path]['seconds']:.0f} s")
    if args.baseline:
        start, size = time.time(), generators[0][0].cfg.image_size
        ref = reference(size)
        cand = embed(uint8_batches(real_images(args.baseline, len(ref["features"]), size, args.seed + 1)),
                     classifier, inception_net)
        results[f"real-vs-real: {args.baseline}"] = {**compare(cand, ref, classifier.names),
                                                     "seconds": round(time.time() - start, 1)}
    ref_probs = next(iter(refs.values()))["probs"].mean(0)
    return {"data": args.data, "n": args.n, "seed": args.seed, "classifier": args.classifier,
            "fid": {"computed": inception_net is not None, "note": fid_note},
            "real_marginals": {name: sig(m) for name, m in zip(classifier.names, ref_probs.tolist())},
            "results": results}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def print_table(report: dict) -> None:
    if report["fid"]["note"]:
        print(report["fid"]["note"])
    fid = report["fid"]["computed"]
    print(f"{'':<48} {'FD_attr':>8} {'div.ratio':>9} {'marg.gap':>8}" + (f" {'FID':>8}" if fid else ""))
    for name, r in report["results"].items():
        print(f"{name[-48:]:<48} {r['FD_attr']:8.3f} {r['diversity_ratio']:9.3f} {r['attr_marginal_gap']:8.3f}"
              + (f" {r['FID']:8.2f}" if fid else ""))


def get_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", nargs="+", required=True, help="generator checkpoint(s) to score")
    p.add_argument("--data", required=True, help="folder of held-out real images")
    p.add_argument("--n", type=int, default=2000, help="images per side")
    p.add_argument("--classifier", default="checkpoints/attributes.pt", help="attribute classifier for the offline metrics")
    p.add_argument("--inception-weights", help=f"pytorch-fid's {FID_WEIGHTS} (default: the torch hub cache)")
    p.add_argument("--baseline", metavar="DIR", help="also score real images from DIR against --data")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = get_args(argv)
    try:
        report = evaluate(args)
    except (CheckpointError, DataError) as e:
        raise SystemExit(f"error: {e}")
    if args.json:
        if report["fid"]["note"]:
            log(report["fid"]["note"])
        print(json.dumps(report, indent=1))
    else:
        print_table(report)


if __name__ == "__main__":
    main()
