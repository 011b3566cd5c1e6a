"""Attribute sliders: a small CelebA attribute classifier, and latent directions fitted with it.

    python -m gan.attributes train-classifier --data /work/shared/data/celeba \
        --test /work/shared/data/celeba-test --out checkpoints/attributes.pt
    python -m gan.attributes fit-directions --checkpoint checkpoints/cspup64-wide/step_0018011.pt \
        --classifier checkpoints/attributes.pt --samples 20000

train-classifier learns the 40 CelebA attributes of 64x64 faces from the images that have a row in
list_attr_celeba.txt (10% held out for validation). fit-directions labels generated samples with the
classifier, fits one unit direction per attribute in z-space, measures the classifier's mean score on
held-out seeds moved along each direction by t in [-3, 3], and stores it all in the generator
checkpoint as its "directions" key.
"""
from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from gan.checkpoint import FORMAT, CheckpointError, check_directions, load_generator, read_weights_only, save_atomic
from gan.limits import LimitError, check_tensors, on_meta
from gan.data import DataError, find_images, load_square, to_unit_range
from gan.i18n import N_, _
from gan.models import Generator
from gan.sample import latents

ATTR_FILE = "list_attr_celeba.txt"
KEY_ATTRIBUTES = ("Smiling", "Male", "Young", "Eyeglasses", "Blond_Hair")
DIRECTION_ATTRIBUTES = KEY_ATTRIBUTES + ("Black_Hair", "Bangs", "Heavy_Makeup", "Mouth_Slightly_Open")
# The 40 CelebA attributes as the pages show them: in English their own names, so that they match the data set's
# files; in other languages translated (attribute_label). The names in files and directions stay these keys.
CELEBA_ATTRIBUTES = (
    N_("5_o_Clock_Shadow"), N_("Arched_Eyebrows"), N_("Attractive"), N_("Bags_Under_Eyes"), N_("Bald"),
    N_("Bangs"), N_("Big_Lips"), N_("Big_Nose"), N_("Black_Hair"), N_("Blond_Hair"), N_("Blurry"),
    N_("Brown_Hair"), N_("Bushy_Eyebrows"), N_("Chubby"), N_("Double_Chin"), N_("Eyeglasses"), N_("Goatee"),
    N_("Gray_Hair"), N_("Heavy_Makeup"), N_("High_Cheekbones"), N_("Male"), N_("Mouth_Slightly_Open"),
    N_("Mustache"), N_("Narrow_Eyes"), N_("No_Beard"), N_("Oval_Face"), N_("Pale_Skin"), N_("Pointy_Nose"),
    N_("Receding_Hairline"), N_("Rosy_Cheeks"), N_("Sideburns"), N_("Smiling"), N_("Straight_Hair"),
    N_("Wavy_Hair"), N_("Wearing_Earrings"), N_("Wearing_Hat"), N_("Wearing_Lipstick"), N_("Wearing_Necklace"),
    N_("Wearing_Necktie"), N_("Young"),
)


def attribute_label(name: str) -> str:
    """An attribute's name as shown, in the session's language; a name CelebA lacks (an uploaded file's) as it is."""
    return _(name) if name in CELEBA_ATTRIBUTES else name


class AttributeNet(nn.Module):
    """Multi-label attribute classifier: stride-2 3x3 conv -> BN -> ReLU stages, global average pool, linear.

    (B, 3, S, S) in [-1, 1] -> logits (B, len(names)); `features` gives the pooled (B, widths[-1]) vector.
    """

    def __init__(self, names: list[str], widths: tuple[int, ...] = (32, 64, 128, 256), image_size: int = 64):
        super().__init__()
        self.names, self.widths, self.image_size = list(names), tuple(widths), image_size
        self.metrics: dict = {}  # filled in from the classifier file by load_classifier
        layers: list[nn.Module] = []
        for c_in, c_out in zip((3,) + self.widths[:-1], self.widths):
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(self.widths[-1], len(self.names))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.image_size:
            x = F.interpolate(x, size=self.image_size, mode="bilinear", antialias=True, align_corners=False)
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# ---------------------------------------------------------------- labelled data

def read_attributes(path: str | Path) -> tuple[list[str], dict[str, torch.Tensor]]:
    """CelebA's list_attr_celeba.txt -> (attribute names, file name -> float tensor of 0/1 labels)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"attribute file not found: {path}")
    lines = path.read_text().splitlines()
    names = lines[1].split()
    labels = {}
    for line in lines[2:]:
        parts = line.split()
        if len(parts) == len(names) + 1:
            labels[parts[0]] = torch.tensor([int(v) > 0 for v in parts[1:]], dtype=torch.float32)
    if not labels:
        raise DataError(f"no attribute rows in {path}")
    return names, labels


def labelled_images(root: str | Path, labels: dict[str, torch.Tensor], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The images under root that have a label row, decoded in parallel: uint8 (N, 3, S, S) and (N, K) labels."""
    paths = [p for p in find_images(root) if p.name in labels]
    if not paths:
        raise DataError(f"none of the images in {root} has an attribute row")
    workers = min(len(os.sched_getaffinity(0)), 16)
    with ProcessPoolExecutor(workers) as pool:
        arrays = list(pool.map(load_square, paths, repeat(size), chunksize=256))
    kept = [(torch.from_numpy(a), labels[p.name]) for p, a in zip(paths, arrays) if a is not None]
    if not kept:
        raise DataError(f"none of the {len(paths)} labelled images in {root} could be read")
    images, targets = zip(*kept)
    return torch.stack(images).permute(0, 3, 1, 2).contiguous(), torch.stack(targets)


# ---------------------------------------------------------------- classifier training and metrics

def train_step(net: AttributeNet, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    """One optimiser step of multi-label binary cross-entropy; returns the loss."""
    net.train()
    loss = F.binary_cross_entropy_with_logits(net(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


def train_classifier(net: AttributeNet, images: torch.Tensor, labels: torch.Tensor, epochs: int, batch_size: int,
                     lr: float, seed: int, log: Callable[[str], None] = print) -> None:
    """AdamW with a one-cycle schedule over shuffled batches with random horizontal flips."""
    g = torch.Generator().manual_seed(seed)
    steps_per_epoch = max(1, len(images) // batch_size)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * steps_per_epoch)
    for epoch in range(epochs):
        order, total = torch.randperm(len(images), generator=g), 0.0
        for i in range(steps_per_epoch):
            idx = order[i * batch_size:(i + 1) * batch_size]
            x = to_unit_range(images[idx])
            flip = torch.rand(len(idx), 1, 1, 1, generator=g) < 0.5
            total += train_step(net, opt, torch.where(flip, x.flip(3), x), labels[idx])
            sched.step()
        log(f"epoch {epoch + 1}/{epochs}: train loss {total / steps_per_epoch:.4f}")


@torch.no_grad()
def describe(classifier: AttributeNet, images: torch.Tensor, batch_size: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """(penultimate features, attribute probabilities) of images in [-1, 1] (or uint8, converted)."""
    classifier.eval()
    feats, probs = [], []
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size]
        f = classifier.features(to_unit_range(x) if x.dtype == torch.uint8 else x)
        feats.append(f)
        probs.append(torch.sigmoid(classifier.head(f)))
    return torch.cat(feats), torch.cat(probs)


def classify(classifier: AttributeNet, images: torch.Tensor) -> torch.Tensor:
    """Attribute probabilities (B, K) of images (B, 3, S, S) in [-1, 1]; columns follow classifier.names."""
    return describe(classifier, images)[1]


def auc(scores: torch.Tensor, labels: torch.Tensor) -> float | None:
    """Area under the ROC curve via the Mann-Whitney U statistic; None when only one class is present."""
    pos = labels.bool()
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = scores.double().argsort().argsort().double() + 1
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def attribute_metrics(probs: torch.Tensor, labels: torch.Tensor, names: list[str]) -> dict[str, dict]:
    """Per attribute: accuracy at 0.5, AUC, positive rate of the labels, and the number of images."""
    acc = ((probs > 0.5).float() == labels).float().mean(0)
    return {name: {"accuracy": round(float(acc[k]), 4), "auc": auc(probs[:, k], labels[:, k]),
                   "positive_rate": round(float(labels[:, k].mean()), 4), "n": len(labels)}
            for k, name in enumerate(names)}


# ---------------------------------------------------------------- classifier files

def save_classifier(net: AttributeNet, metrics: dict, path: str | Path) -> None:
    save_atomic({"format": FORMAT, "kind": "attribute_classifier", "attributes": net.names,
                 "arch": {"widths": list(net.widths), "image_size": net.image_size},
                 "state_dict": net.state_dict(), "metrics": metrics}, path)


def load_classifier(path: str | Path) -> AttributeNet:
    """The attribute classifier saved by train-classifier, in eval mode; CheckpointError if unusable.

    Its described network is built on the meta device, capped and compared with its weights first (gan.limits).
    """
    ckpt = read_weights_only(path, "classifier")
    if not isinstance(ckpt, dict) or ckpt.get("kind") != "attribute_classifier":
        raise CheckpointError(_("{path} is not an attribute classifier (kind 'attribute_classifier')").format(
            path=path))
    try:
        names, widths, size = ckpt["attributes"], tuple(ckpt["arch"]["widths"]), ckpt["arch"]["image_size"]
        if not all(isinstance(n, str) for n in names) or not 0 < len(names) <= 1000:
            raise LimitError(_("its attribute names are not 1 to 1,000 strings"))
        meta = on_meta(lambda: AttributeNet(names, widths, size), (1, 3, size, size), "classifier")
        check_tensors(meta.state_dict(), ckpt["state_dict"], "classifier")
    except LimitError as e:
        raise CheckpointError(_("{name} cannot be used: {error}").format(name=path, error=e)) from None
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError, OverflowError) as e:
        detail = str(e).splitlines()[0] if str(e) else ""
        raise CheckpointError(_("{path}: classifier weights do not match its description: {error}").format(
            path=path, error=f"{type(e).__name__} {detail}")) from None
    net = AttributeNet(names, widths, size)
    net.load_state_dict(ckpt["state_dict"])
    net.metrics = ckpt.get("metrics", {})
    return net.eval()


# ---------------------------------------------------------------- latent directions

def move_along(z: torch.Tensor, direction: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """z + t * direction (direction is a unit vector of size latent; t a scalar or a (B, 1) column)."""
    return z + t * direction.to(z)


@torch.no_grad()
def image_batches(g: Generator, z: torch.Tensor, batch_size: int = 256) -> Iterator[torch.Tensor]:
    """Float images of g for z in [-1, 1], batch by batch (gan.sample.generate gives uint8 ones)."""
    for i in range(0, len(z), batch_size):
        yield g(z[i:i + batch_size])


def classify_latents(g: Generator, classifier: AttributeNet, z: torch.Tensor) -> torch.Tensor:
    """The classifier's (N, K) probabilities for the images of z."""
    return torch.cat([classify(classifier, x) for x in image_batches(g, z)])


def logistic_regression(x: torch.Tensor, y: torch.Tensor, l2: float = 1e-4, steps: int = 200) -> torch.Tensor:
    """Weights (D, K) of K independent L2-regularised logistic regressions of soft targets y (N, K) on x (N, D)."""
    w = torch.zeros(x.shape[1], y.shape[1], requires_grad=True)
    b = torch.zeros(y.shape[1], requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(x @ w + b, y) + l2 * w.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach()


def fit_directions(z: torch.Tensor, probs: torch.Tensor, method: str = "logistic") -> torch.Tensor:
    """Unit vectors (K, latent), one per column of probs, pointing where that probability rises.

    "logistic": logistic regression on the probabilities; "mean-diff": mean z of samples scored > 0.5
    minus mean z of the rest.
    """
    if method == "logistic":
        w = logistic_regression(z, probs)
    elif method == "mean-diff":
        pos = (probs > 0.5).float()
        w = z.T @ pos / pos.sum(0).clamp_min(1) - z.T @ (1 - pos) / (1 - pos).sum(0).clamp_min(1)
    else:
        raise ValueError(f"method must be 'logistic' or 'mean-diff', got {method!r}")
    return F.normalize(w.T, dim=1)


def effect_curves(g: Generator, classifier: AttributeNet, vectors: torch.Tensor, columns: list[int],
                  t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """(K, len(t)): the classifier's mean score of attribute columns[k] over z moved along vectors[k] by each t."""
    scores = torch.zeros(len(vectors), len(t))
    for k, (v, col) in enumerate(zip(vectors, columns)):
        for j, tj in enumerate(t):
            scores[k, j] = classify_latents(g, classifier, move_along(z, v, float(tj)))[:, col].mean()
    return scores


def load_directions(ckpt: dict) -> dict | None:
    """The checkpoint's "directions" entry as float tensors, checked against its latent size; None if it has none."""
    if ckpt.get("directions") is None:
        return None
    try:
        check_directions(ckpt)
    except LimitError as e:
        raise CheckpointError(_("checkpoint directions are unusable: {error}").format(error=e)) from None
    d = ckpt["directions"]
    return {**d, "names": list(d["names"]), "vectors": d["vectors"].float(), "t": d["t"].float(),
            "scores": d["scores"].float()}


def add_directions(path: str | Path, directions: dict) -> None:
    """Rewrite the checkpoint file atomically with its "directions" key set."""
    ckpt = read_weights_only(path)
    ckpt["directions"] = directions
    save_atomic(ckpt, path)


# ---------------------------------------------------------------- commands

def cmd_train_classifier(args: argparse.Namespace) -> None:
    if not Path(args.data).is_dir():
        raise DataError(f"data folder not found: {args.data}")
    torch.manual_seed(args.seed)
    names, labels = read_attributes(args.attr or Path(args.data) / ATTR_FILE)
    start = time.time()
    images, targets = labelled_images(args.data, labels, args.image_size)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(args.seed))
    n_val = max(1, round(len(images) * args.val_fraction))
    val, train = order[:n_val], order[n_val:]
    print(f"{len(images)} labelled images ({len(train)} train, {n_val} validation), "
          f"decoded in {time.time() - start:.0f} s")
    net = AttributeNet(names, tuple(args.widths), args.image_size)
    train_classifier(net, images[train], targets[train], args.epochs, args.batch_size, args.lr, args.seed)
    metrics = {"validation": attribute_metrics(classify(net, images[val]), targets[val], names),
               "train_images": len(train), "epochs": args.epochs, "seconds": round(time.time() - start, 1)}
    if args.test:
        test_images, test_targets = labelled_images(args.test, labels, args.image_size)
        metrics["test"] = attribute_metrics(classify(net, test_images), test_targets, names)
    save_classifier(net, metrics, args.out)
    print(f"{'attribute':<20} {'val acc':>8} {'val AUC':>8} {'test acc':>9}")
    for name in names:
        v, te = metrics["validation"][name], metrics.get("test", {}).get(name, {})
        print(f"{name:<20} {v['accuracy']:8.3f} {v['auc'] or float('nan'):8.3f} {te.get('accuracy', float('nan')):9.3f}")
    print(f"saved {args.out} ({Path(args.out).stat().st_size / 2**20:.2f} MiB) after {metrics['seconds']:.0f} s")


def cmd_fit_directions(args: argparse.Namespace) -> None:
    g, _meta = load_generator(args.checkpoint)
    classifier = load_classifier(args.classifier)
    unknown = [a for a in args.attributes if a not in classifier.names]
    if unknown:
        raise CheckpointError(f"the classifier has no attribute(s) {unknown}; it knows {classifier.names}")
    columns = [classifier.names.index(a) for a in args.attributes]
    start = time.time()
    z = latents(args.samples, args.seed, g.cfg.latent)
    probs = classify_latents(g, classifier, z)
    vectors = fit_directions(z, probs[:, columns], args.method)
    print(f"labelled {args.samples} samples and fitted {len(vectors)} directions in {time.time() - start:.0f} s")
    t = torch.linspace(-3, 3, args.steps)
    held_out = latents(args.eval_seeds, args.seed + 1, g.cfg.latent)
    scores = effect_curves(g, classifier, vectors, columns, t, held_out)
    val = classifier.metrics.get("validation", {})
    add_directions(args.checkpoint, {
        "names": list(args.attributes), "vectors": vectors.float(), "t": t, "scores": scores,
        "classifier_accuracy": {a: val.get(a, {}).get("accuracy") for a in args.attributes},
        "method": args.method, "samples": args.samples, "eval_seeds": args.eval_seeds,
    })
    print(f"{'attribute':<20} " + " ".join(f"{float(x):+5.1f}" for x in t))
    for name, row in zip(args.attributes, scores):
        print(f"{name:<20} " + " ".join(f"{float(s):5.2f}" for s in row))
    print(f"wrote directions into {args.checkpoint} after {time.time() - start:.0f} s")


def get_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train-classifier", help="train the attribute classifier on labelled CelebA images")
    p.add_argument("--data", required=True, help="CelebA root or folder of images (file names are CelebA ids)")
    p.add_argument("--attr", help=f"attribute file (default: DATA/{ATTR_FILE})")
    p.add_argument("--test", help="folder of held-out images; those with attribute rows are scored")
    p.add_argument("--out", default="checkpoints/attributes.pt")
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--widths", type=int, nargs="+", default=[32, 64, 128, 256])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("fit-directions", help="fit latent attribute directions into a generator checkpoint")
    p.add_argument("--checkpoint", required=True, help="generator checkpoint; rewritten with a 'directions' key")
    p.add_argument("--classifier", default="checkpoints/attributes.pt")
    p.add_argument("--samples", type=int, default=20000, help="generated samples to fit the directions on")
    p.add_argument("--attributes", nargs="+", default=list(DIRECTION_ATTRIBUTES))
    p.add_argument("--method", choices=("logistic", "mean-diff"), default="logistic")
    p.add_argument("--eval-seeds", type=int, default=128, help="held-out latents for the effect curves")
    p.add_argument("--steps", type=int, default=7, help="values of t in [-3, 3] for the effect curves")
    p.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = get_args(argv)
    command = cmd_train_classifier if args.command == "train-classifier" else cmd_fit_directions
    try:
        command(args)
    except (CheckpointError, DataError) as e:
        raise SystemExit(f"error: {e}")


if __name__ == "__main__":
    main()
