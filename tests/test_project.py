"""Projection: the search lowers its loss, and beats random latents on a held-out CelebA face."""
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

import gan.project
from conftest import ROOT
from gan.attributes import load_classifier
from gan.checkpoint import load_generator
from gan.project import PhotoError, ReconstructionLoss, main, project, read_photo
from gan.sample import default_checkpoint, shipped_runs

CELEBA_TEST = ROOT.parent / "shared" / "data" / "celeba-test" / "img_align_celeba"
CLASSIFIER = ROOT / "checkpoints" / "attributes.pt"
needs_data = pytest.mark.skipif(not CELEBA_TEST.is_dir() or not shipped_runs(), reason="no celeba-test or checkpoints")


def first_test_photo():
    return sorted(CELEBA_TEST.glob("*.jpg"))[0]


@needs_data
def test_projection_lowers_its_loss_and_beats_random_latents():
    g, _ = load_generator(default_checkpoint())
    classifier = load_classifier(CLASSIFIER)
    target = read_photo(first_test_photo(), g.cfg.image_size)
    result = project(g, classifier, target, steps=30, every=10)
    assert result.error < 0.7 * result.errors[0] < result.errors[0] < result.random_error
    assert [s for s, _ in result.frames] == [10, 20, 30] and result.frames[-1][1].shape == (64, 64, 3)
    with torch.no_grad():  # the reported error is the returned z's own
        assert ReconstructionLoss(classifier, target)(g(result.z[None])).item() == pytest.approx(result.error, rel=1e-4)


def test_the_loss_is_zero_for_the_target_and_grows_with_the_difference():
    loss = ReconstructionLoss(load_classifier(CLASSIFIER), torch.zeros(1, 3, 64, 64))
    near, far = torch.full((1, 3, 64, 64), 0.1), torch.full((1, 3, 64, 64), 0.5)
    assert loss(torch.zeros(1, 3, 64, 64)).item() == pytest.approx(0, abs=1e-6)
    assert loss(near).item() < loss(far).item()


def test_photos_are_cropped_to_the_training_square_and_bad_ones_refused(monkeypatch):
    buf = io.BytesIO()
    Image.fromarray(np.full((40, 80, 3), 255, np.uint8)).save(buf, format="PNG")
    x = read_photo(buf.getvalue(), 64)
    assert x.shape == (1, 3, 64, 64) and x.max().item() == pytest.approx(1)
    with pytest.raises(PhotoError, match="not a readable image"):
        read_photo(b"not an image", 64)
    monkeypatch.setattr(gan.project, "MAX_PIXELS", 1000)
    with pytest.raises(PhotoError, match="the limit is"):
        read_photo(buf.getvalue(), 64)


@needs_data
def test_cli_writes_images_and_prints_json(tmp_path, capsys):
    assert main(["--image", str(first_test_photo()), "--steps", "5", "--out", str(tmp_path), "--json"]) == 0
    numbers = json.loads(capsys.readouterr().out)
    assert {"error", "random_error", "seconds", "steps"} <= set(numbers) and numbers["steps"] == 5
    assert numbers["error"] < numbers["random_error"]
    assert all((tmp_path / f).exists() for f in ("target.png", "reconstruction.png", "progress.png", "z.pt"))
    assert main(["--image", str(tmp_path / "missing.jpg"), "--out", str(tmp_path)]) == 2
