"""The toy lab's views: the data plane, D's map, G's arrows, the unit square's images, G's loss surface, the distance."""
import copy

import pytest
import torch

from gan.toy.distance import energy_distance
from gan.toy.model import generate, noise
from gan.toy.training import ToyConfig, ToyGAN, generator_loss
from gan.toy.views import (coordinate_plane, d_map, extent, g_arrows, grid, loss_surface, principal_plane,
                           square_outline)

W = torch.tensor([[0.7, 0.9], [0.1, 0.6]], dtype=torch.float64)


@pytest.fixture(scope="module", params=[1, 3])
def run(request) -> ToyGAN:
    """A run partway through training, its D in float64 so that finite differences are exact enough."""
    run = ToyGAN(ToyConfig(n=request.param, steps=30, seed=1))
    torch.set_num_threads(1)
    run.train_for(float("inf"), 30)
    run.D = copy.deepcopy(run.D).double()
    return run


def samples(A: torch.Tensor, N: int, count: int, seed: int) -> torch.Tensor:
    return generate(A, noise(count, N, torch.Generator().manual_seed(seed)).double())


def test_the_principal_plane_spans_the_real_samples_largest_spread():
    real = samples(W, 8, 4000, 0)
    plane = principal_plane(real)
    assert torch.allclose(plane.basis.T @ plane.basis, torch.eye(2, dtype=real.dtype), atol=1e-10)
    uv = plane.project(real)
    assert torch.allclose(uv.mean(0), torch.zeros(2, dtype=real.dtype), atol=1e-10)
    evals = torch.linalg.eigvalsh(torch.cov(real.T))
    assert torch.allclose(uv.var(0), evals.flip(0)[:2], rtol=1e-8)  # the two largest variances, in order
    assert torch.allclose(plane.project(plane.lift(uv)), uv, atol=1e-10)


def test_a_coordinate_plane_reads_two_coordinates_and_holds_the_rest_at_the_real_mean():
    real = samples(W, 8, 1000, 0)
    plane = coordinate_plane(real, 2, 5)
    assert torch.equal(plane.project(real), real[:, [2, 5]])
    lifted = plane.lift(torch.tensor([[0.3, -0.4]], dtype=real.dtype))[0]
    assert lifted[2] == 0.3 and lifted[5] == -0.4
    others = [k for k in range(8) if k not in (2, 5)]
    assert torch.allclose(lifted[others], real.mean(0)[others])


def test_for_n_1_the_plane_is_the_whole_space():
    real = samples(W, 2, 1000, 0)
    for plane in (principal_plane(real), coordinate_plane(real, 0, 1)):
        assert plane.exact
        x = samples(W * 0.5, 2, 10, 1)
        assert torch.allclose(plane.lift(plane.project(x)), x, atol=1e-12)  # nothing lost: the map is exact


def test_d_map_is_d_at_the_grid_points_mapped_back_to_the_output_space(run):
    real = samples(run.W.double(), run.N, 2000, 0)
    plane = principal_plane(real)
    centres, _, _ = grid(extent(plane.project(real)), 12)
    values = d_map(run.D, "bce", plane, centres)
    inside = ~values.isnan()
    assert inside.sum() > 20
    for (u, v), value, ok in zip(centres.tolist(), values, inside):
        y = real.mean(0) + u * plane.basis[:, 0] + v * plane.basis[:, 1]  # by hand, not through plane.lift
        assert bool(ok) == bool(y.abs().max() < 1)
        if ok:
            assert value.item() == pytest.approx(torch.sigmoid(run.D(y[None]))[0].item(), abs=1e-9)
    raw = d_map(run.D, "lsq", plane, centres)
    assert torch.allclose(raw[inside], torch.logit(values[inside]), atol=1e-7)  # least squares: D's raw score


def test_d_map_for_n_1_over_output_coordinates_is_d_itself(run):
    if run.N != 2:
        pytest.skip("n = 1 only")
    real = samples(run.W.double(), 2, 500, 0)
    centres = torch.tensor([[0.1, 0.2], [-0.5, 0.7], [0.9, -0.9]], dtype=torch.float64)
    values = d_map(run.D, "bce", coordinate_plane(real, 0, 1), centres)
    assert torch.allclose(values, torch.sigmoid(run.D(centres)), atol=1e-12)


@pytest.mark.parametrize("loss", ["bce", "lsq", "fm"])
def test_the_arrows_are_minus_the_gradient_of_g_loss_by_finite_differences(run, loss):
    real = samples(run.W.double(), run.N, 256, 0)
    fake = samples(run.A.detach().double(), run.N, 16, 1)
    plane = principal_plane(real)
    arrows = g_arrows(run.D, loss, fake, real, plane)
    h = 1e-6
    for i in (0, 7, 15):
        for k in range(2):
            step = torch.zeros_like(fake)
            step[i] = h * plane.basis[:, k]
            slope = (generator_loss(run.D, loss, fake + step, real) - generator_loss(run.D, loss, fake - step, real)) / (2 * h)
            assert arrows[i, k].item() == pytest.approx(-len(fake) * slope.item(), rel=1e-5, abs=1e-8)


def test_the_unit_squares_image_is_the_tanh_warped_parallelogram():
    A = torch.tensor([[0.7, 0.9], [0.1, 0.6]], dtype=torch.float64)
    outline = square_outline(A, per_edge=8)
    assert outline.shape == (33, 2) and torch.equal(outline[0], outline[-1])
    corners = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    assert torch.allclose(outline[[0, 8, 16, 24]], torch.tanh(corners @ A.T))
    midpoint = torch.tensor([0.5, 0.0], dtype=torch.float64)
    assert torch.allclose(outline[4], torch.tanh(A @ midpoint))
    swapped = square_outline(A.flip(1), per_edge=8)  # same square image, traced from the other corner
    assert torch.allclose(swapped[[0, 8, 16, 24]], outline[[0, 24, 16, 8]])


@pytest.mark.parametrize("loss", ["bce", "lsq", "fm"])
def test_the_loss_surface_at_a_is_gs_loss_computed_directly(run, loss):
    A = run.A.detach().double()
    z = noise(64, run.N, torch.Generator().manual_seed(2)).double()
    real = samples(run.W.double(), run.N, 256, 0)
    u = torch.tensor([A[0, 0] - 0.3, A[0, 0], A[0, 0] + 0.2], dtype=torch.float64)
    v = torch.tensor([A[1, 1] - 0.1, A[1, 1]], dtype=torch.float64)
    surface = loss_surface(run.D, loss, A, (0, 3), u, v, z, real)
    assert surface.shape == (3, 2)
    assert surface[1, 1].item() == pytest.approx(generator_loss(run.D, loss, generate(A, z), real).item(), rel=1e-12)
    other = A.clone()
    other[0, 0], other[1, 1] = u[2], v[0]
    assert surface[2, 0].item() == pytest.approx(generator_loss(run.D, loss, generate(other, z), real).item(), rel=1e-12)


def test_the_distance_is_about_zero_for_one_generator_and_clearly_positive_for_another():
    real, again = samples(W, 8, 512, 0), samples(W, 8, 512, 1)
    swapped = samples(W.flip(1), 8, 512, 2)  # an equivalent of W: the same distribution
    other = samples(torch.tensor([[0.9, 0.2], [0.4, 0.5]], dtype=torch.float64), 8, 512, 3)
    same = [abs(energy_distance(real, x)) for x in (again, swapped)]
    apart = energy_distance(real, other)
    assert max(same) < 0.01 and apart > 0.1 and apart > 20 * max(same)


def test_the_history_records_the_distance_and_it_falls_as_a_run_learns():
    run = ToyGAN(ToyConfig(seed=0))
    run.train_for(float("inf"), 500)
    measured = [r["distance"] for r in run.history if r["distance"] is not None]
    assert [r["step"] for r in run.history if r["distance"] is not None][:3] == [1, 10, 20]
    assert measured[0] > 0.05 and sum(measured[-5:]) / 5 < 0.2 * measured[0]
