"""The discriminator's view: faces ranked by D's score, its file format, and the real-or-fake round."""
import numpy as np
import pytest
import torch
from PIL import Image

from gan.checkpoint import CheckpointError, load_generator
from gan.discriminator import (DEFAULT_FILE, held_out, load_discriminator, mixed_round, rank, save_discriminator,
                               scores, train)
from gan.models import Discriminator, Generator, ModelConfig, init_weights
from gan.sample import default_checkpoint, generate, latents

CFG = ModelConfig(latent=16, image_size=32, g_widths=(32, 16, 8, 8), d_widths=(8, 16, 32), d_norm="none")


def tiny() -> tuple[Generator, Discriminator]:
    torch.manual_seed(0)
    g, d = Generator(CFG).eval(), Discriminator(CFG).eval()
    init_weights(g), init_weights(d)
    return g, d


def faces(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def test_ranking_is_monotone_in_ds_score_and_keeps_every_face():
    _, d = tiny()
    images = faces(40)
    ranked, s = rank(d, images)
    assert (s[:-1] >= s[1:]).all()
    assert torch.equal(scores(d, ranked), s)  # each face keeps its own score
    assert sorted(map(bytes, ranked)) == sorted(map(bytes, images))


@pytest.mark.skipif(not DEFAULT_FILE.exists(), reason="no shipped discriminator")
def test_shipped_discriminator_ranks_the_default_generators_faces():
    d, ckpt = load_discriminator()
    g, _ = load_generator(default_checkpoint())
    assert ckpt["generator"] == default_checkpoint().name
    _, s = rank(d, generate(g, latents(16, 0, g.cfg.latent)))
    assert (s[:-1] >= s[1:]).all() and len(s) == 16
    assert ckpt["metrics"]["held_out"]["auc"] > 0.6  # it tells photos from this G's faces better than chance


def test_a_short_training_run_saves_a_loadable_fp16_file(tmp_path):
    g, _ = tiny()
    real = torch.randint(0, 256, (32, 3, 32, 32), dtype=torch.uint8)
    d, cfg, steps = train(g, real, minutes=0.02, batch=8, fakes=16, log=lambda _: None)
    assert steps >= 1
    save_discriminator(d, cfg, "g.pt", {"held_out": held_out(d, g, real[:8])}, tmp_path / "d.pt")
    loaded, ckpt = load_discriminator(tmp_path / "d.pt")
    assert all(v.dtype == torch.float16 for v in ckpt["d"].values())
    assert torch.allclose(scores(loaded, faces(4)), scores(d.half().float(), faces(4)), atol=1e-4)


def test_a_crafted_discriminator_is_refused(tmp_path):
    g, d = tiny()
    huge = ModelConfig(**{**CFG.to_dict(), "d_widths": [8, 16, 10**6]})
    save_discriminator(d, huge, "g.pt", {}, tmp_path / "d.pt")
    with pytest.raises(CheckpointError, match="cannot be used"):
        load_discriminator(tmp_path / "d.pt")


def test_a_round_mixes_as_many_real_photos_as_fakes(tmp_path):
    g, _ = tiny()
    for i in range(5):
        Image.fromarray(faces(1, i)[0]).save(tmp_path / f"{i}.png")
    images, is_real = mixed_round(sorted(tmp_path.glob("*.png")), g, 3, seed=1)
    assert images.shape == (6, 32, 32, 3) and is_real.sum() == 3
    again, same = mixed_round(sorted(tmp_path.glob("*.png")), g, 3, seed=1)
    assert np.array_equal(images, again) and np.array_equal(is_real, same)
