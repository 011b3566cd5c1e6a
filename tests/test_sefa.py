"""Closed-form factorization: orthonormal directions that move the faces more than random ones do."""
import pytest
import torch

from gan.checkpoint import load_generator
from gan.models import Generator, ModelConfig
from gan.sample import default_checkpoint, latents, shipped_runs
from gan.sefa import describe, factorize, first_layer, main, similarity


def small_generator() -> Generator:
    torch.manual_seed(0)
    return Generator(ModelConfig(latent=16, image_size=32, g_widths=(32, 16, 8, 8), d_widths=(8, 16, 32))).eval()


def test_directions_are_orthonormal_and_sorted_by_how_far_they_move_the_first_layer():
    g = small_generator()
    values, directions = factorize(g)
    assert torch.allclose(directions @ directions.T, torch.eye(16), atol=1e-5)
    assert (values[:-1] >= values[1:]).all()
    a = first_layer(g)
    moved = (directions @ a.T).norm(dim=1) ** 2  # |A n|^2 is the eigenvalue of n
    assert torch.allclose(moved, values, rtol=1e-4)


def test_first_layer_includes_the_batchnorm_scale():
    g = small_generator()
    g.stem_norm[0].weight.data[:] = 2.0
    g.stem_norm[0].running_var.data[:] = 4.0 - g.stem_norm[0].eps
    assert torch.allclose(first_layer(g), g.stem[0].weight)  # 2 / sqrt(4) = 1


@pytest.mark.skipif(not shipped_runs(), reason="no shipped checkpoints")
def test_the_top_direction_changes_faces_more_than_a_random_one():
    g, _ = load_generator(default_checkpoint())
    _, directions = factorize(g)
    z = latents(16, 0, g.cfg.latent)
    random = torch.nn.functional.normalize(torch.randn(g.cfg.latent, generator=torch.Generator().manual_seed(1)), dim=0)
    with torch.no_grad():
        base = g(z)
        change = {name: (g(z + 3 * d) - base).abs().mean().item() for name, d in (("top", directions[0]),
                                                                                    ("random", random))}
    assert change["top"] > 1.5 * change["random"], change


def test_similarity_and_description_name_the_closest_attribute():
    attrs = torch.eye(3)
    cos = similarity(torch.tensor([[0.0, -2.0, 0.1]]), attrs)[0]
    assert describe(cos, ["Smiling", "Male", "Young"], top=1) == "Male -1.00"


@pytest.mark.skipif(not shipped_runs(), reason="no shipped checkpoints")
def test_cli_prints_directions_and_writes_strips(tmp_path, capsys):
    assert main(["--top", "3", "--grid", str(tmp_path / "s.png")]) == 0
    assert capsys.readouterr().out.count("direction ") == 3 and (tmp_path / "s.png").stat().st_size > 1000
