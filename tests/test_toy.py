"""The toy GAN: the Kronecker transform, its symmetries, the training regimes and the command line."""
import json
import math
import subprocess
import sys
from dataclasses import replace
from functools import reduce

import pytest
import torch

from conftest import ROOT
from gan.toy.__main__ import main
from gan.toy.model import ROTATE_BELOW, generate, kron_matrix, kron_transform
from gan.toy.optim import Optimizer
from gan.toy.symmetries import closest_equivalent, equivalents, near_singular_note, singular_ratio, symmetric_error
from gan.toy.training import Diverged, ToyConfig, ToyGAN, history_csv, train, validate

A_REPORT = torch.tensor([[0.7, 0.9], [0.1, 0.6]])


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """As the command and the pages run it: tiny tensors, and two threads on two busy cores wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def kron_power(A: torch.Tensor, n: int) -> torch.Tensor:
    return reduce(torch.kron, [A] * n)


def samples(A: torch.Tensor, n: int, count: int, seed: int) -> torch.Tensor:
    z = torch.rand(count, 2 ** n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return generate(A.double(), z)


def moments(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return y.mean(0), torch.cov(y.T)


# ------------------------------------------------------------------------------------------ the transform

@pytest.mark.parametrize("n", range(1, 7))
def test_kron_transform_equals_the_explicit_kronecker_product(n):
    g = torch.Generator().manual_seed(n)
    A = torch.rand(2, 2, generator=g, dtype=torch.float64) * 2 - 1
    z = torch.rand(16, 2 ** n, generator=g, dtype=torch.float64)
    expected = torch.tanh(z @ kron_power(A, n).T)
    assert torch.allclose(generate(A, z), expected, atol=1e-6, rtol=0)
    assert torch.allclose(kron_matrix(A, n), kron_power(A, n), atol=1e-12)


def test_the_rotating_and_the_batched_passes_agree_on_a_large_batch():
    g = torch.Generator().manual_seed(0)
    A = torch.rand(2, 2, 2, generator=g, dtype=torch.float64) * 2 - 1
    z = torch.rand(2, ROTATE_BELOW, 16, generator=g, dtype=torch.float64)  # large: the batched passes
    batched = kron_transform(A, z)
    rotating = kron_transform(A.requires_grad_(), z)  # differentiable: the rotating passes
    assert rotating.requires_grad and not batched.requires_grad
    for i in range(2):
        assert torch.allclose(batched[i], z[i] @ kron_power(A[i].detach(), 4).T, atol=1e-12)
    assert torch.allclose(rotating, batched, atol=1e-12)


def test_kron_transform_takes_a_stack_of_matrices_and_is_differentiable():
    g = torch.Generator().manual_seed(0)
    A = torch.rand(3, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    z = torch.rand(3, 5, 8, generator=g, dtype=torch.float64)
    out = kron_transform(A, z)
    for i in range(3):
        assert torch.allclose(out[i], z[i] @ kron_power(A[i], 3).T)
    assert torch.autograd.gradcheck(lambda a: kron_transform(a, z[0]), (A[0],))


# ------------------------------------------------------------------------------------------ symmetries

def flip_every_axis(z: torch.Tensor) -> torch.Tensor:
    """z with both halves of every axis of the 2 x ... x 2 tensor swapped: coordinate j goes to N - 1 - j."""
    return z.flip(-1)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_swapping_columns_only_relabels_the_noise(n):
    z = torch.rand(64, 2 ** n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    A = A_REPORT.double()
    assert torch.allclose(generate(A.flip(1), z), generate(A, flip_every_axis(z)))


def test_swapped_columns_give_the_same_distribution_and_other_matrices_do_not():
    """Independent samples: the column swap matches W's moments to sampling error; a row swap, a close
    but different matrix and (odd n) the sign flip are each far outside it."""
    n, count = 3, 200_000
    mean, cov = moments(samples(A_REPORT, n, count, seed=1))
    tolerance = 6 / math.sqrt(count)  # outputs lie in (-1, 1): a few standard errors of a mean

    def gap(B: torch.Tensor) -> float:
        other_mean, other_cov = moments(samples(B, n, count, seed=2))
        return max((mean - other_mean).abs().max().item(), (cov - other_cov).abs().max().item())

    assert gap(A_REPORT.flip(1)) < tolerance
    assert gap(A_REPORT.flip(0)) > 5 * tolerance  # rows swapped: the outputs are permuted instead
    assert gap(A_REPORT + 0.05) > 5 * tolerance
    assert gap(-A_REPORT) > 5 * tolerance  # odd n: (-A)⊗(-A)⊗(-A) = -(A⊗A⊗A)


def test_for_even_n_the_sign_flip_is_the_same_generator():
    z = torch.rand(64, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    A = A_REPORT.double()
    assert torch.allclose(generate(-A, z), generate(A, z))
    assert torch.allclose(generate(-A.flip(1), z), generate(A, flip_every_axis(z)))


def test_equivalents_are_two_for_odd_n_and_four_for_even_n():
    assert [name for name, _ in equivalents(A_REPORT, 3)] == ["W", "W, columns swapped"]
    names = [name for name, _ in equivalents(A_REPORT, 2)]
    assert names == ["W", "W, columns swapped", "-W", "-W, columns swapped"]


def test_symmetric_error_is_zero_on_every_equivalent_and_the_max_entry_gap_elsewhere():
    for n in (2, 3):
        for name, M in equivalents(A_REPORT, n):
            assert symmetric_error(M, A_REPORT, n) == 0
            assert closest_equivalent(M, A_REPORT, n)[0] == name
    A = A_REPORT.flip(1) + torch.tensor([[0.01, -0.03], [0.0, 0.02]])
    assert symmetric_error(A, A_REPORT, 3) == pytest.approx(0.03)
    assert symmetric_error(-A_REPORT, A_REPORT, 3) == pytest.approx(1.6)  # odd n: -W is not equivalent;
    # its nearest equivalent is W with columns swapped, at |-0.7 - 0.9| = |-0.9 - 0.7|
    assert symmetric_error(-A_REPORT, A_REPORT, 4) == 0


# ------------------------------------------------------------------------------------------ training

def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def test_discriminator_regime_learns_to_tell_real_from_fake_and_leaves_A_alone():
    run, _ = train(ToyConfig(regime="discriminator", steps=60, seed=1))
    losses = [r["d_loss"] for r in run.history]
    assert mean(losses[-10:]) < 0.5 * mean(losses[:10])
    assert torch.equal(run.weights(), run.A0)


def test_generator_regime_fools_its_frozen_discriminator():
    cfg = ToyConfig(regime="generator", loss="lsq", pretrain=40, steps=160, seed=0)
    run, _ = train(cfg)
    pretrain, generator = run.history[: cfg.pretrain], run.history[cfg.pretrain:]
    assert all(r["a00"] == pretrain[0]["a00"] for r in pretrain)  # G waits while D learns
    g_losses = [r["g_loss"] for r in generator]
    assert mean(g_losses[-10:]) < 0.5 * mean(g_losses[:10])
    assert len({r["d_loss"] for r in generator[:5]}) > 1  # D is frozen but evaluated on fresh batches


def test_joint_regime_brings_A_to_an_equivalent_of_the_target():
    run, _ = train(ToyConfig(seed=0))  # the defaults: what `python -m gan.toy recover` runs
    assert run.history[0]["error"] > 0.2
    assert run.history[-1]["error"] <= 0.05


def test_runs_are_reproducible_and_seeds_matter():
    first, second = (train(ToyConfig(steps=15, seed=3))[0].history for _ in range(2))
    assert first == second
    assert train(ToyConfig(steps=15, seed=4))[0].history != first


def test_k_d_and_k_g_count_steps_per_iteration():
    run = ToyGAN(ToyConfig(k_d=3, k_g=2, steps=2))
    calls = {"d": 0, "g": 0}
    d_step, g_step = run.d_step, run.g_step
    run.d_step = lambda update: calls.__setitem__("d", calls["d"] + 1) or d_step(update)
    run.g_step = lambda update: calls.__setitem__("g", calls["g"] + 1) or g_step(update)
    run.step()
    assert calls == {"d": 3, "g": 2}


def test_every_loss_and_optimizer_trains_and_records_a_full_history():
    for loss in ("bce", "lsq", "fm"):
        run, _ = train(ToyConfig(loss=loss, d_opt="sgd", g_opt="sgd", lr_d=0.01, lr_g=1e-3, steps=5))
        assert [r["step"] for r in run.history] == [1, 2, 3, 4, 5]
        assert all(math.isfinite(v) for r in run.history for k, v in r.items() if k != "match" and v is not None)
        assert [r["distance"] is None for r in run.history] == [False, True, True, True, True]  # step 1, every 10th
    lines = history_csv(run.history).splitlines()
    assert lines[0].startswith("step,d_loss,g_loss,d_real,d_fake,a00") and len(lines) == 6


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_optimizer_takes_the_steps_torch_optim_takes(kind):
    mine = torch.rand(3, 4, generator=torch.Generator().manual_seed(0))
    theirs = mine.clone().requires_grad_()
    ours = Optimizer(kind, [mine], lr=0.05, momentum=0.9)
    reference = (torch.optim.Adam([theirs], lr=0.05, betas=(0.5, 0.999)) if kind == "adam"
                 else torch.optim.SGD([theirs], lr=0.05, momentum=0.9))
    for t in range(1, 21):
        ours.step((torch.sin(t * mine),))
        theirs.grad = torch.sin(t * theirs.detach())
        reference.step()
    assert torch.allclose(mine, theirs.detach(), atol=1e-6)
    assert not torch.allclose(mine, torch.rand(3, 4, generator=torch.Generator().manual_seed(0)))


def test_full_matrix_adam_on_one_entry_is_adam_with_beta2_0_9999():
    mine = torch.tensor([0.3])
    theirs = mine.clone().requires_grad_()
    ours = Optimizer("adam-full", [mine], lr=0.05, momentum=0.9)
    reference = torch.optim.Adam([theirs], lr=0.05, betas=(0.5, 0.9999))
    for t in range(1, 21):
        ours.step((torch.sin(t * mine),))
        theirs.grad = torch.sin(t * theirs.detach())
        reference.step()
    assert torch.allclose(mine, theirs.detach(), atol=1e-6)
    assert mine.item() != 0.3


def test_full_matrix_adam_walks_along_a_quiet_steady_direction_where_adam_crawls():
    """A small steady pull along u, loud noise along v: u and v each mix all four entries, like a valley of A."""
    u, v = torch.tensor([1.0, 1.0, 1.0, 1.0]) / 2, torch.tensor([1.0, -1.0, 1.0, -1.0]) / 2
    signs = torch.randint(0, 2, (200,), generator=torch.Generator().manual_seed(0)) * 2.0 - 1
    progress = {}
    for kind in ("adam-full", "adam"):
        A = torch.zeros(2, 2)
        opt = Optimizer(kind, [A], lr=0.01, momentum=0.0)
        for s in signs:
            opt.step(((0.01 * u + s * v).view(2, 2),))
        progress[kind] = -(A.flatten() @ u).item()  # gradient descent moves A along -u
    assert progress["adam-full"] > 1.5  # about the learning rate per step, 200 steps
    assert progress["adam"] < 0.2


def test_a_run_reports_the_running_average_of_A():
    run, _ = train(ToyConfig(steps=30, seed=2))
    average = run.A0.clone()
    for r in run.history:
        average.lerp_(torch.tensor([[r["a00"], r["a01"]], [r["a10"], r["a11"]]]), 1 - run.cfg.ema)
    assert torch.allclose(run.weights(), average, atol=1e-6)
    assert not torch.allclose(run.weights(), run.A.detach(), atol=1e-3)
    assert run.history[-1]["ema_error"] == pytest.approx(symmetric_error(run.weights(), run.W, 3), abs=1e-6)
    last, _ = train(ToyConfig(steps=30, seed=2, ema=0.0))
    assert torch.equal(last.weights(), last.A.detach())


def test_a_diverging_run_stops_with_a_message():
    with pytest.raises(Diverged, match="diverged at step .* smaller learning rate"):
        train(ToyConfig(d_opt="sgd", lr_d=1e3, steps=50))
    for g_opt in ("sgd", "adam-full"):
        with pytest.raises(Diverged, match="A's entries left"):
            train(ToyConfig(g_opt=g_opt, lr_g=1e6, steps=50))


def test_full_matrix_adam_leaves_a_non_finite_gradient_to_the_divergence_check():
    A = torch.ones(2, 2)
    opt = Optimizer("adam-full", [A], lr=0.1, momentum=0.0)
    opt.step((torch.full((2, 2), math.nan),))
    assert torch.equal(A, torch.ones(2, 2))
    opt.step((torch.tensor([[1e30, 0.0], [0.0, 0.0]]),))  # a huge first gradient moves A by lr, one entry only
    assert A[0, 0].item() == pytest.approx(0.9, rel=1e-6) and A.flatten()[1:].eq(1).all()


@pytest.mark.parametrize("change, message", [
    (dict(n=11), "n must be between 1 and 10"), (dict(lr_g=0), "learning rates must be positive"),
    (dict(regime="both"), "regime must be one of"), (dict(target=(1, 2, 3, math.nan)), "finite"),
    (dict(batch=1), "batch"), (dict(k_d=0), "k_d"), (dict(d_opt="adam-full"), "full-matrix Adam is for G"),
    (dict(ema=1.0), "ema must be in"),
])
def test_bad_settings_are_refused_with_a_reason(change, message):
    with pytest.raises(ValueError, match=message):
        validate(replace(ToyConfig(), **change))


# ------------------------------------------------------------------------------------------ command line

def test_recover_prints_one_json_object(capsys):
    code = main(["recover", "--target", "0.7", "0.9", "0.1", "0.6", "--dim", "4", "--steps", "20", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert torch.tensor(result["weights"]).shape == (2, 2)
    assert result["steps"] == 20 and result["seconds"] > 0
    assert result["error"] == pytest.approx(symmetric_error(torch.tensor(result["weights"]), A_REPORT, 2), abs=1e-6)
    assert torch.tensor(result["last"]).shape == (2, 2) and result["last"] != result["weights"]  # last A vs its average


def test_recover_without_json_logs_progress(capsys):
    assert main(["recover", "--dim", "2", "--steps", "10"]) == 0
    out = capsys.readouterr().out
    assert "step    10" in out and "symmetric error" in out


@pytest.mark.parametrize("args, message", [
    (["--dim", "6"], "--dim must be a power of two"),
    (["--d-opt", "sgd", "--lr-d", "1000"], "training diverged"),
    (["--batch", "1"], "the batch needs at least 2 samples"),
])
def test_recover_reports_bad_input_and_divergence_as_errors(capsys, args, message):
    assert main(["recover", "--steps", "30", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_the_module_runs_as_a_command_without_a_traceback():
    done = subprocess.run([sys.executable, "-m", "gan.toy", "recover", "--dim", "12"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("error: --dim must be a power of two") and "Traceback" not in done.stderr


def test_singular_ratio_and_the_near_singular_note():
    assert singular_ratio(torch.eye(2)) == pytest.approx(1.0)
    assert singular_ratio(torch.tensor([[1.0, 2.0], [2.0, 4.0]])) == pytest.approx(0.0, abs=1e-12)
    assert singular_ratio(torch.zeros(2, 2)) == 0.0
    W = torch.tensor([[0.236, 0.1032], [0.3961, 0.155]])  # a target the recipe misses: sigma2/sigma1 = 0.017
    assert singular_ratio(W) == pytest.approx(0.0174, abs=1e-3)
    assert "nearly singular" in near_singular_note(W) and "58 times" in near_singular_note(W)
    assert near_singular_note(torch.tensor([[0.7, 0.9], [0.1, 0.6]])) is None  # the report's target
    assert "no width" in near_singular_note(torch.tensor([[1.0, 2.0], [2.0, 4.0]]))


def test_recover_json_reports_the_targets_conditioning(capsys):
    assert main(["recover", "--target", "0.236", "0.1032", "0.3961", "0.155", "--steps", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["singular_ratio"] == pytest.approx(0.0174, abs=1e-3)
    assert main(["recover", "--target", "0.236", "0.1032", "0.3961", "0.155", "--steps", "3"]) == 0
    assert "nearly singular" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ stepping and knobs

def d_parameters(run: ToyGAN) -> list[torch.Tensor]:
    return [p.detach().clone() for p in run.D.parameters()]


def test_a_lone_d_step_moves_d_only_and_a_lone_g_step_moves_a_only():
    run = ToyGAN(ToyConfig(k_d=3, k_g=2))
    A, D = run.A.detach().clone(), d_parameters(run)
    record = run.step(d_steps=1, g_steps=0)
    assert torch.equal(run.A.detach(), A) and not all(map(torch.equal, d_parameters(run), D))
    assert (record["d_updates"], record["g_updates"]) == (1, 0)
    D = d_parameters(run)
    record = run.step(d_steps=0, g_steps=1)
    assert not torch.equal(run.A.detach(), A) and all(map(torch.equal, d_parameters(run), D))
    assert (record["d_updates"], record["g_updates"]) == (1, 1)
    assert run.step()["d_updates"] == 4 and run.history[-1]["g_updates"] == 3  # an iteration: k_d, then k_g


def test_retune_changes_settings_from_the_next_step_and_records_each_change():
    run = ToyGAN(ToyConfig(steps=10))
    run.step()
    labels = run.retune(replace(run.cfg, lr_g=0.05, k_d=2, batch=64, g_opt="sgd", loss="lsq"))
    assert labels == ["loss bce → lsq", "g_opt adam-full → sgd", "lr_g 0.01 → 0.05", "k_d 1 → 2", "batch 128 → 64"]
    assert run.changes == [dict(step=1, label=label) for label in labels]
    assert run.opt_g.kind == "sgd" and run.opt_g.lr == 0.05 and len(run.labels) == 128  # real and fake
    assert run.step()["d_updates"] == 3 and len(run.fake()) == 64  # k_d 2 and the new batch, from the next step
    with pytest.raises(ValueError, match="n, seed can only change with a new run"):
        run.retune(replace(run.cfg, n=2, seed=1))
    with pytest.raises(ValueError, match="learning rates must be positive"):
        run.retune(replace(run.cfg, lr_d=0.0))
    assert run.cfg.lr_d == 7e-3


def test_a_learning_rate_change_is_used_by_the_very_next_step():
    """Two copies of one run, one retuned: their next G steps differ by the ratio of the learning rates."""
    first, second = ToyGAN(ToyConfig(g_opt="sgd", lr_g=0.01)), ToyGAN(ToyConfig(g_opt="sgd", lr_g=0.01))
    second.retune(replace(second.cfg, lr_g=0.03))
    A = first.A.detach().clone()
    first.step(0, 1)
    second.step(0, 1)
    assert torch.allclose(second.A.detach() - A, 3 * (first.A.detach() - A), atol=1e-6)
