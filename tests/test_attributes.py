"""Attribute classifier, latent directions and the shipped files (tiny synthetic data, tiny models)."""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan import attributes
from gan.attributes import (AttributeNet, auc, classify, fit_directions, load_classifier, load_directions,
                            move_along, save_classifier, train_step)
from gan.checkpoint import CheckpointError, export_generator, load_checkpoint
from gan.models import Generator, ModelConfig
from gan.sample import default_checkpoint

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["Smiling", "Male"]


def write_faces(folder: Path, n: int, seed: int = 0) -> list[str]:
    """n random JPEGs named like CelebA files; returns their names."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for name in names:
        Image.fromarray(rng.integers(0, 256, (24, 20, 3), dtype=np.uint8)).save(folder / name)
    return names


def write_attr_file(path: Path, files: list[str]) -> None:
    rows = [f"{f} {' '.join('1' if (i + k) % 2 else '-1' for k in range(len(NAMES)))}" for i, f in enumerate(files)]
    path.write_text("\n".join([str(len(files)), " ".join(NAMES), *rows]) + "\n")


def tiny_generator(path: Path, latent: int = 8) -> None:
    cfg = ModelConfig(latent=latent, image_size=32, g_widths=(16, 8, 8, 8), d_widths=(8, 8, 8))
    export_generator({"config": cfg.to_dict(), "g_ema": Generator(cfg).state_dict(), "step": 0}, path)


def tiny_classifier(path: Path) -> None:
    save_classifier(AttributeNet(NAMES, (4, 8), 16), {"validation": {}}, path)


def test_train_step_lowers_the_loss():
    torch.manual_seed(0)
    net = AttributeNet(NAMES, (8, 16), 16)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, y = torch.rand(16, 3, 16, 16) * 2 - 1, (torch.rand(16, 2) < 0.5).float()
    losses = [train_step(net, opt, x, y) for _ in range(15)]
    assert losses[-1] < 0.7 * losses[0]


def test_auc_ranks_scores():
    labels = torch.tensor([0.0, 0.0, 1.0, 1.0])
    assert auc(torch.tensor([0.1, 0.2, 0.3, 0.4]), labels) == 1.0
    assert auc(torch.tensor([0.1, 0.3, 0.2, 0.4]), labels) == 0.75
    assert auc(torch.tensor([0.1, 0.2]), torch.tensor([1.0, 1.0])) is None


def test_train_classifier_cli_writes_a_loadable_classifier(tmp_path):
    files = write_faces(tmp_path / "celeba" / "img_align_celeba", 24)
    write_attr_file(tmp_path / "celeba" / "list_attr_celeba.txt", files[:20])  # 4 images have no row
    out = tmp_path / "attributes.pt"
    attributes.main(["train-classifier", "--data", str(tmp_path / "celeba"), "--out", str(out), "--epochs", "2",
                     "--batch-size", "8", "--widths", "4", "8", "--image-size", "16", "--val-fraction", "0.2"])
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["kind"] == "attribute_classifier" and ckpt["attributes"] == NAMES
    assert ckpt["metrics"]["train_images"] == 16 and ckpt["metrics"]["validation"]["Male"]["n"] == 4
    probs = classify(load_classifier(out), torch.rand(3, 3, 32, 32) * 2 - 1)
    assert probs.shape == (3, 2) and ((probs > 0) & (probs < 1)).all()


@pytest.mark.parametrize("method", ["logistic", "mean-diff"])
def test_fit_directions_recovers_planted_directions(method):
    g = torch.Generator().manual_seed(0)
    z = torch.randn(4000, 16, generator=g)
    planted = torch.nn.functional.normalize(torch.randn(2, 16, generator=g), dim=1)
    probs = torch.sigmoid(3 * z @ planted.T + 0.5 * torch.randn(4000, 2, generator=g))
    found = fit_directions(z, probs, method)
    assert found.shape == (2, 16)
    assert torch.allclose(found.norm(dim=1), torch.ones(2))
    assert ((found * planted).sum(1) > 0.95).all()


def test_move_along_shifts_by_t_units():
    z, d = torch.zeros(2, 4), torch.tensor([0.0, 1.0, 0.0, 0.0])
    assert torch.equal(move_along(z, d, 2.5)[:, 1], torch.full((2,), 2.5))


def test_fit_directions_cli_adds_directions_to_the_checkpoint(tmp_path):
    ckpt_path, clf_path = tmp_path / "g.pt", tmp_path / "c.pt"
    tiny_generator(ckpt_path)
    tiny_classifier(clf_path)
    attributes.main(["fit-directions", "--checkpoint", str(ckpt_path), "--classifier", str(clf_path),
                     "--samples", "64", "--eval-seeds", "4", "--steps", "3", "--attributes", "Male"])
    ckpt = load_checkpoint(ckpt_path)
    d = load_directions(ckpt)
    assert d["names"] == ["Male"] and d["vectors"].shape == (1, 8) and d["scores"].shape == (1, 3)
    assert torch.equal(d["t"], torch.tensor([-3.0, 0.0, 3.0]))
    assert "g_ema" in ckpt  # the rest of the checkpoint is kept


def test_load_directions_without_and_with_bad_directions():
    ckpt = {"config": {"latent": 8}}
    assert load_directions(ckpt) is None
    bad = {"names": ["Male"], "vectors": torch.zeros(1, 4), "t": torch.zeros(3), "scores": torch.zeros(1, 3)}
    with pytest.raises(CheckpointError, match="expected"):
        load_directions({**ckpt, "directions": bad})


@pytest.mark.parametrize("command", ["fit-directions", "bad-classifier", "unknown-attribute"])
def test_cli_errors_are_plain(tmp_path, capsys, command):
    gen, clf = tmp_path / "g.pt", tmp_path / "c.pt"
    tiny_generator(gen)
    tiny_classifier(clf)
    if command == "fit-directions":
        argv, expected = ["--checkpoint", str(tmp_path / "missing.pt"), "--classifier", str(clf)], "checkpoint not found"
    elif command == "bad-classifier":
        clf.write_text("not a checkpoint")
        argv, expected = ["--checkpoint", str(gen), "--classifier", str(clf)], "not a readable"
    else:
        argv, expected = ["--checkpoint", str(gen), "--classifier", str(clf), "--attributes", "Bald"], "no attribute"
    with pytest.raises(SystemExit) as e:
        attributes.main(["fit-directions", *argv])
    assert str(e.value).startswith("error: ") and expected in str(e.value)


def test_train_classifier_bad_data_path_is_a_plain_error(tmp_path):
    with pytest.raises(SystemExit, match="error: data folder not found"):
        attributes.main(["train-classifier", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "c.pt")])


SHIPPED = sorted((ROOT / "checkpoints").rglob("*.pt"))


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT)) for p in SHIPPED])
def test_shipped_files_load_weights_only(path):
    assert isinstance(torch.load(path, map_location="cpu", weights_only=True), dict)


def test_shipped_classifier_and_directions():
    classifier = load_classifier(ROOT / "checkpoints" / "attributes.pt")
    assert set(attributes.KEY_ATTRIBUTES) <= set(classifier.names)
    assert (ROOT / "checkpoints" / "attributes.pt").stat().st_size < 2 * 2**20
    for path in (default_checkpoint(), ROOT / "checkpoints" / "cspup64" / "step_0017923.pt"):
        check_directions(load_checkpoint(path))


def check_directions(ckpt: dict) -> None:
    d = load_directions(ckpt)
    assert set(attributes.KEY_ATTRIBUTES) <= set(d["names"])
    assert d["vectors"].shape == (len(d["names"]), ckpt["config"]["latent"])
    assert torch.allclose(d["vectors"].norm(dim=1), torch.ones(len(d["names"])), atol=1e-4)
    assert (d["scores"][:, -1] > d["scores"][:, 0]).all()  # every shipped direction raises its attribute
