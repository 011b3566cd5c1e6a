"""A GAN you can solve by hand: the generator is one 2x2 matrix A applied along every axis of the noise.

    G_A(z) = tanh((A ⊗ A ⊗ ... ⊗ A) z),  z ~ U[0, 1]^N,  N = 2^n

"Real" samples are G_W(z) for a target matrix W; an MLP discriminator tells them apart.

    python -m gan.toy recover --target 0.7 0.9 0.1 0.6 --dim 8 --seed 0 --json
    python -m gan.toy report      # rerun the course report's three experiments
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, replace
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

REGIMES = ("joint", "discriminator", "generator")
LOSSES = ("bce", "lsq", "fm")
LOSS_NAMES = {"fm": "feature matching", "lsq": "least squares (MSE)", "bce": "non-saturating BCE"}
D_OPTIMIZERS = ("adam", "sgd")
G_OPTIMIZERS = ("adam-full", "adam", "sgd")  # full-matrix Adam: for G's four entries
OPTIMIZER_NAMES = {"adam-full": "Adam, full matrix", "adam": "Adam", "sgd": "SGD with momentum"}
MAX_N = 10
MAX_WEIGHT = 1e3  # |A| beyond this saturates tanh everywhere: the run has diverged
PRESETS = {  # 2x2 matrices, row by row; random: entries U[-2, 2] by a seed
    "the report's target W": (0.7, 0.9, 0.1, 0.6),
    "the report's code": (1.0, 0.5, 1.0, 0.5),
    "Hadamard": (1.0, 1.0, 1.0, -1.0),
    "identity": (1.0, 0.0, 0.0, 1.0),
    "random": None,
}
HISTORY_KEYS = ("step", "d_loss", "g_loss", "d_real", "d_fake",
                "a00", "a01", "a10", "a11", "grad_norm", "error", "ema_error", "match")


class Diverged(RuntimeError):
    """Training produced a non-finite loss or weight."""


# ---------------------------------------------------------------------------------------------- the model

ROTATE_BELOW = 4096  # batches below this, or any that autograd will differentiate, take the rotating passes


def kron_transform(A: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """(A ⊗ ... ⊗ A) z for each row of z (B, N), without building the N x N matrix.

    The batch is laid out coordinate-major, (N, B), viewed as 2 x 2 x ... x 2 x B, and A is applied along
    one axis per pass, in one of two ways:
    - rotating: A @ (2, rest) on the leading axis, then that axis is moved behind the others (a copy of
      the batch); after n passes every axis is transformed and back in place. Few operations, and a
      backward two to three times cheaper than the other way's: used for training and small batches;
    - batched: A @ x viewed (2^k, 2, rest) for axis k, no copy at all, but a backward that sums over the
      broadcast A: used for large batches without gradients (sampling), bound by memory traffic.
    A stack of matrices (..., 2, 2) transforms a stack of batches (..., B, N), one matrix each.
    """
    lead, (B, N) = A.shape[:-2], z.shape[-2:]
    x = z.mT
    if B < ROTATE_BELOW or (A.requires_grad and torch.is_grad_enabled()):
        for _ in range(N.bit_length() - 1):
            x = (A @ x.reshape(*lead, 2, -1)).view(*lead, 2, -1, B).transpose(-3, -2)
        return x.reshape(*lead, N, B).mT.contiguous()
    x, A = x.contiguous(), A.unsqueeze(-3)  # A broadcasts over the axes before the one transformed
    for k in range(N.bit_length() - 1):
        x = A @ x.view(*lead, 1 << k, 2, -1)
    return x.view(*lead, N, B).mT.contiguous()


def generate(A: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """G_A(z) = tanh((A ⊗ ... ⊗ A) z)."""
    return torch.tanh(kron_transform(A, z))


def kron_matrix(A: torch.Tensor, n: int) -> torch.Tensor:
    """The N x N matrix A ⊗ ... ⊗ A (for display): its columns are the transforms of the basis vectors."""
    return kron_transform(A, torch.eye(2 ** n, dtype=A.dtype)).T


def noise(batch: int, N: int, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(batch, N, generator=gen)


# ------------------------------------------------------------------------------------------ identifiability

def equivalents(W: torch.Tensor, n: int) -> list[tuple[str, torch.Tensor]]:
    """The matrices whose G has the same output distribution as G_W, named.

    Swapping A's columns gives A' ⊗ ... ⊗ A' = (A ⊗ ... ⊗ A) P for a permutation P of z's coordinates,
    and z's i.i.d. coordinates make P z as distributed as z. For even n, (-A) ⊗ ... ⊗ (-A) = A ⊗ ... ⊗ A.
    For invertible W there are no others: tanh is one-to-one, M z ~ M' z means the parallelotopes
    M [0, 1]^N and M' [0, 1]^N coincide, which forces M' = M P, and a
    2x2 B with B ⊗ ... ⊗ B a permutation is ±(a permutation), the sign only for even n. (Singular W can
    have more, e.g. -W for odd n when W's rows sum to zero; those are ignored here.)
    """
    swapped = W.flip(1)
    found = [("W", W), ("W, columns swapped", swapped)]
    if n % 2 == 0:
        found += [("-W", -W), ("-W, columns swapped", -swapped)]
    return found


def nearest(A: torch.Tensor, candidates: list[tuple[str, torch.Tensor]]) -> tuple[str, torch.Tensor, float]:
    """The named candidate nearest to A in max-abs entry difference: (name, matrix, difference)."""
    errors = (A - torch.stack([M for _, M in candidates])).abs().flatten(1).amax(1)
    i = int(errors.argmin())
    return candidates[i][0], candidates[i][1], errors[i].item()


def closest_equivalent(A: torch.Tensor, W: torch.Tensor, n: int) -> tuple[str, torch.Tensor, float]:
    """The equivalent of W nearest to A (max-abs entry difference): (name, matrix, error)."""
    return nearest(A, equivalents(W, n))


def symmetric_error(A: torch.Tensor, W: torch.Tensor, n: int) -> float:
    """max |A - W'| over entries, for the equivalent W' of W that makes it smallest."""
    return closest_equivalent(A, W, n)[2]


WHY_EQUIVALENT = {
    "W": "A is close to W itself.",
    "W, columns swapped": (
        "Swapping A's columns swaps the two halves of every axis of z: (A')⊗…⊗(A') = (A⊗…⊗A)·P for a "
        "permutation P of z's coordinates. z's coordinates are independent and identically uniform, so "
        "P·z is distributed exactly like z and G_A' produces the same distribution as G_A: no "
        "discriminator can tell W from W with its columns swapped."),
    "-W": (
        "(−A)⊗…⊗(−A) = (−1)ⁿ·A⊗…⊗A, the very same matrix when n is even, so G_−W = G_W. "
        "For odd n the sign flips every output and the two differ."),
    "-W, columns swapped": "Both symmetries at once: the columns swapped and, n being even, the sign flipped.",
}


NEAR_SINGULAR = 0.02  # singular_ratio below this: the recipe recovered 5 of 9 such targets (bench/README.md)


def singular_ratio(W: torch.Tensor) -> float:
    """sigma_2 / sigma_1 of a 2x2 matrix: 0 for a singular W, 1 for a rotation or reflection."""
    s = torch.linalg.svdvals(W.double())
    return (s[1] / s[0]).item() if s[0] > 0 else 0.0


def near_singular_note(W: torch.Tensor) -> str | None:
    """Why a nearly singular target is hard to recover, or None for a well-conditioned one."""
    ratio = singular_ratio(W)
    if ratio >= NEAR_SINGULAR:
        return None
    width = f"{1 / ratio:,.0f} times thinner across it than along it" if ratio > 1e-6 else "with no width across it"
    return (f"W is nearly singular (σ₂/σ₁ = {ratio:.3f} < {NEAR_SINGULAR}): W ⊗ … ⊗ W has singular values "
            f"σ₁ⁿ, σ₁ⁿ⁻¹σ₂, …, so the data lie close to a curve, {width}, "
            "and how W splits between its columns shows only across that width. With the default settings "
            "(N = 8) the GAN recovered 5 of 9 such targets, against 80 of 81 with σ₂/σ₁ ≥ 0.05 (bench/README.md). "
            "When it stalls, 1,500 iterations or a batch of 512 often get there; below σ₂/σ₁ ≈ 0.005 none of "
            "our runs did.")


def preset_entries(name: str, seed: int = 0) -> tuple[float, float, float, float]:
    """A preset's four entries; `random` draws them from U[-2, 2] by seed, to 0.05."""
    if PRESETS[name] is not None:
        return PRESETS[name]
    values = torch.rand(4, generator=torch.Generator().manual_seed(seed)) * 4 - 2
    return tuple(round(float(v) * 20) / 20 for v in values)


# ------------------------------------------------------------------------------------------ configuration

@dataclass(frozen=True)
class ToyConfig:
    target: tuple[float, float, float, float] = PRESETS["the report's target W"]  # W, row by row
    init: tuple[float, float, float, float] | None = None  # A at step 0; None: U[0, 1] entries by seed
    n: int = 3  # N = 2^n
    regime: str = "joint"
    loss: str = "bce"
    d_opt: str = "adam"
    g_opt: str = "adam-full"
    lr_d: float = 7e-3
    lr_g: float = 1e-2
    momentum: float = 0.9  # SGD only
    k_d: int = 1
    k_g: int = 1
    batch: int = 128
    hidden: int = 32  # D's width
    pretrain: int = 200  # generator regime: D steps against the initial G before D is frozen
    steps: int = 500
    ema: float = 0.99  # decay of the running average of A that a run reports; 0: the last A
    seed: int = 0


def validate(cfg: ToyConfig) -> None:
    """Raise ValueError with a readable message for any setting out of range."""
    checks = [
        (len(cfg.target) == 4, "the target needs four entries"),
        (all(math.isfinite(v) for v in cfg.target), "the target's entries must be finite numbers"),
        (cfg.init is None or (len(cfg.init) == 4 and all(math.isfinite(v) for v in cfg.init)),
         "the initial A needs four finite entries"),
        (1 <= cfg.n <= MAX_N, f"n must be between 1 and {MAX_N} (N = 2 .. {2 ** MAX_N})"),
        (cfg.regime in REGIMES, f"regime must be one of {', '.join(REGIMES)}"),
        (cfg.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}"),
        (cfg.d_opt in D_OPTIMIZERS, f"D's optimizer is one of {', '.join(D_OPTIMIZERS)} (full-matrix Adam is for G)"),
        (cfg.g_opt in G_OPTIMIZERS, f"G's optimizer is one of {', '.join(G_OPTIMIZERS)}"),
        (0 <= cfg.ema < 1, "the averaging decay ema must be in [0, 1)"),
        (cfg.lr_d > 0 and cfg.lr_g > 0, "learning rates must be positive"),
        (0 <= cfg.momentum < 1, "momentum must be in [0, 1)"),
        (cfg.k_d >= 1 and cfg.k_g >= 1, "k_d and k_g must be at least 1"),
        (cfg.batch >= 2, "the batch needs at least 2 samples"),
        (cfg.hidden >= 1, "D needs at least one hidden unit"),
        (cfg.pretrain >= 0, "pretrain steps cannot be negative"),
        (cfg.steps >= 1, "steps must be at least 1"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(message)


def as_matrix(entries: tuple[float, ...]) -> torch.Tensor:
    return torch.tensor(entries, dtype=torch.float32).reshape(2, 2)


# ------------------------------------------------------------------------------------------ discriminator

def unsquash(y: torch.Tensor) -> torch.Tensor:
    """atanh, finite at ±1: undoes G's tanh so that D sees the uniform parallelotope M [0, 1]^N."""
    return torch.atanh(y * (1 - 1e-6))


def whitening(x: torch.Tensor, eps: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """(matrix, bias) such that x @ matrix + bias has zero mean and identity covariance (ZCA).

    eps, relative to the mean variance, keeps the flat directions of a near-singular W finite.
    """
    cov = torch.cov(x.T).reshape(x.shape[1], x.shape[1])
    floor = max(eps * cov.diagonal().mean().item(), 1e-8)
    evals, evecs = torch.linalg.eigh(cov + floor * torch.eye(len(cov)))
    matrix = evecs @ torch.diag(evals.rsqrt()) @ evecs.T
    return matrix, -x.mean(0) @ matrix


class Discriminator(nn.Module):
    """MLP N -> hidden -> hidden -> 1 logit on unsquashed, whitened input; `features` is the last hidden layer.

    The input transform is fixed from real samples, like normalising a data set: without it the
    real and fake outputs of a saturated tanh differ only in their third decimal. The layers are
    applied with F.linear: calling a module costs more than these tiny products.
    """

    def __init__(self, real: torch.Tensor, hidden: int, gen: torch.Generator):
        super().__init__()
        matrix, bias = whitening(unsquash(real))
        self.register_buffer("white", matrix)
        self.register_buffer("white_bias", bias)
        self.layers = nn.ModuleList([nn.Linear(real.shape[1], hidden), nn.Linear(hidden, hidden)])
        self.head = nn.Linear(hidden, 1)
        for p in self.parameters():  # PyTorch's default bounds, drawn from the run's own generator
            bound = 1 / math.sqrt(p.shape[-1] if p.dim() > 1 else p.shape[0])
            nn.init.uniform_(p, -bound, bound, generator=gen)

    def features(self, y: torch.Tensor) -> torch.Tensor:
        x = torch.addmm(self.white_bias, unsquash(y), self.white)
        for layer in self.layers:
            x = F.leaky_relu(F.linear(x, layer.weight, layer.bias), 0.2, inplace=True)
        return x

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return F.linear(self.features(y), self.head.weight, self.head.bias).squeeze(1)


class Optimizer:
    """SGD with momentum, Adam with betas (0.5, 0.999) as torch.optim computes them, or full-matrix Adam.

    Full-matrix Adam ("adam-full") divides Adam's momentum m by the square root of the whole second-moment
    matrix V of the gradient, not of its diagonal: full-matrix AdaGrad's preconditioner with Adam's moving
    averages, affordable for G's four entries (V is 4 x 4). With beta2 = 0.9999 and bias correction, V is
    in effect the mean of g gᵀ over the run so far. It matters when D barely sees one combination of A's
    entries, as for a nearly singular W: the gradient along it is small but steady while the others are
    noisy. Adam divides each entry by its own noise, which the noisy combinations dominate, so A crawls
    along the quiet one; V^(-1/2) measures each direction's noise apart and steps along it at the full
    learning rate.
    Written out because constructing any torch.optim optimizer imports torch._dynamo: 1.7 s on the
    course's 2-core machine, a third of the command line's time budget.
    """

    def __init__(self, kind: str, params: list[torch.Tensor], lr: float, momentum: float):
        self.kind, self.params, self.lr, self.momentum, self.t = kind, params, lr, momentum, 0
        if kind == "adam-full":
            size = sum(p.numel() for p in params)
            self.m = torch.zeros(size, dtype=torch.float64)
            self.v = torch.zeros(size, size, dtype=torch.float64)
        else:
            self.m = [torch.zeros_like(p) for p in params]
            self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self, grads: tuple[torch.Tensor, ...]) -> None:
        if self.kind == "adam-full":
            self.full_matrix_step(torch.cat([g.flatten() for g in grads]).double())
            return
        self.t += 1
        if self.kind == "sgd":
            torch._foreach_mul_(self.m, self.momentum)
            torch._foreach_add_(self.m, grads)
            torch._foreach_add_(self.params, self.m, alpha=-self.lr)
        elif self.kind == "adam":
            beta1, beta2 = 0.5, 0.999
            torch._foreach_lerp_(self.m, grads, 1 - beta1)
            torch._foreach_mul_(self.v, beta2)
            torch._foreach_addcmul_(self.v, grads, grads, value=1 - beta2)
            denominator = torch._foreach_div(self.v, 1 - beta2 ** self.t)
            torch._foreach_sqrt_(denominator)
            torch._foreach_add_(denominator, 1e-8)
            torch._foreach_addcdiv_(self.params, self.m, denominator, value=-self.lr / (1 - beta1 ** self.t))

    def full_matrix_step(self, g: torch.Tensor) -> None:
        """One step along V^(-1/2) m; a non-finite g is skipped, left to the caller's divergence check."""
        if not math.isfinite(g.sum().item()):
            return
        self.t += 1
        beta1, beta2 = 0.5, 0.9999
        self.m.lerp_(g, 1 - beta1)
        self.v.mul_(beta2).addr_(g, g, alpha=1 - beta2)
        evals, evecs = torch.linalg.eigh(self.v / (1 - beta2 ** self.t))  # ascending
        # m lies in the span of the gradients so far; the floor, relative to the largest eigenvalue, keeps
        # rounding errors in the other directions from being blown up
        direction = evecs @ ((evecs.T @ self.m) * evals.clamp_min(1e-12 * evals[-1] + 1e-300).rsqrt())
        for p, d in zip(self.params, direction.split([p.numel() for p in self.params])):
            p.sub_(d.view_as(p).to(p.dtype), alpha=self.lr / (1 - beta1 ** self.t))


def criterion(loss: str, out: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean loss of D's outputs against 1 (real) / 0 (fake) labels: least squares, else BCE on logits."""
    if loss == "lsq":
        return F.mse_loss(out, labels)
    return F.binary_cross_entropy_with_logits(out, labels)


# ------------------------------------------------------------------------------------------ training

class ToyGAN:
    """One training run: A, D, their optimizers, the noise generator and the history, stepped on demand."""

    def __init__(self, cfg: ToyConfig):
        validate(cfg)
        self.cfg = cfg
        self.N = 2 ** cfg.n
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.W = as_matrix(cfg.target)
        self.targets = equivalents(self.W, cfg.n)
        self.target_entries = [M.flatten().tolist() for _, M in self.targets]  # plain floats: cheap per step
        init = as_matrix(cfg.init) if cfg.init is not None else torch.rand(2, 2, generator=self.gen)
        self.A0 = init.clone()
        self.A = init.clone().requires_grad_()
        self.A_ema = init.clone()
        self.D = Discriminator(generate(self.W, noise(max(4096, 4 * self.N), self.N, self.gen)), cfg.hidden, self.gen)
        self.opt_d = Optimizer(cfg.d_opt, list(self.D.parameters()), cfg.lr_d, cfg.momentum)
        self.opt_g = Optimizer(cfg.g_opt, [self.A], cfg.lr_g, cfg.momentum)
        self.labels = torch.cat([torch.ones(cfg.batch), torch.zeros(cfg.batch)])
        self.history: list[dict] = []

    @property
    def step_count(self) -> int:
        return len(self.history)

    @property
    def done(self) -> bool:
        return self.step_count >= self.cfg.steps

    def trains(self) -> tuple[bool, bool]:
        """(D trains, G trains) at the current step of the regime."""
        if self.cfg.regime == "discriminator":
            return True, False
        if self.cfg.regime == "generator":
            pretraining = self.step_count < self.cfg.pretrain
            return pretraining, not pretraining
        return True, True

    def real(self) -> torch.Tensor:
        return generate(self.W, noise(self.cfg.batch, self.N, self.gen))

    def fake(self) -> torch.Tensor:
        return generate(self.A, noise(self.cfg.batch, self.N, self.gen))

    def d_step(self, update: bool) -> tuple[float, float, float]:
        """D's loss on fresh real and fake batches (summed over the two), mean D(real), mean D(fake).

        D moves only if `update`. D(x) is the probability of "real", or the raw score for least squares.
        """
        with torch.no_grad():  # real and fake in one transform: W and A stacked
            z = noise(2 * self.cfg.batch, self.N, self.gen).view(2, -1, self.N)
            both = generate(torch.stack([self.W, self.A]), z)
        with torch.set_grad_enabled(update):
            out = self.D(both.view(-1, self.N))
            loss = 2 * criterion(self.cfg.loss, out, self.labels)
        if update:
            self.opt_d.step(torch.autograd.grad(loss, self.opt_d.params))
        out = out.detach() if self.cfg.loss == "lsq" else torch.sigmoid(out.detach())
        d_real, d_fake = out.view(2, -1).mean(1).tolist()
        return loss.item(), d_real, d_fake

    def g_step(self, update: bool) -> tuple[float, float]:
        """G's loss on a fresh fake batch and the norm of its gradient wrt A; A moves only if `update`."""
        fake = self.fake()
        if self.cfg.loss == "fm":
            with torch.no_grad():
                target = self.D.features(self.real()).mean(0)
            loss = (self.D.features(fake).mean(0) - target).pow(2).sum()
        else:
            loss = criterion(self.cfg.loss, self.D(fake), self.labels[: self.cfg.batch])
        (grad,) = torch.autograd.grad(loss, self.A)
        if update:
            self.opt_g.step((grad,))
        return loss.item(), grad.norm().item()

    def gaps(self, M: torch.Tensor) -> list[float]:
        """max |M - W'| for each equivalent W' of W, in plain floats: cheaper than tensors at every step."""
        entries = M.flatten().tolist()
        return [max(abs(m - w) for m, w in zip(entries, E)) for E in self.target_entries]

    def step(self) -> dict:
        """One iteration of the regime: k_d D-steps and k_g G-steps; a frozen side is only evaluated once."""
        train_d, train_g = self.trains()
        for _ in range(self.cfg.k_d if train_d else 1):
            d_loss, d_real, d_fake = self.d_step(train_d)
        for _ in range(self.cfg.k_g if train_g else 1):
            g_loss, grad_norm = self.g_step(train_g)
        A = self.A.detach()
        self.A_ema.lerp_(A, 1 - self.cfg.ema)
        a00, a01, a10, a11 = A.flatten().tolist()
        gaps = self.gaps(A)
        error, ema_error = min(gaps), min(self.gaps(self.A_ema))
        match = self.targets[gaps.index(error)][0]
        record = dict(step=self.step_count + 1, d_loss=d_loss, g_loss=g_loss, d_real=d_real, d_fake=d_fake,
                      a00=a00, a01=a01, a10=a10, a11=a11, grad_norm=grad_norm, error=error, ema_error=ema_error,
                      match=match)
        bad = [k for k in HISTORY_KEYS[1:-1] if not math.isfinite(record[k])]
        if bad:
            raise Diverged(f"training diverged at step {record['step']}: {', '.join(bad)} became NaN or "
                           f"infinite. Try smaller learning rates.")
        if max(abs(a00), abs(a01), abs(a10), abs(a11)) > MAX_WEIGHT:
            raise Diverged(f"training diverged at step {record['step']}: A's entries left ±{MAX_WEIGHT:g}, where "
                           f"tanh is flat and G can learn nothing. Try a smaller generator learning rate.")
        self.history.append(record)
        return record

    def train_for(self, seconds: float, max_steps: int) -> int:
        """Step until `seconds` pass, `max_steps` are taken or the run is done; returns steps taken."""
        start, taken = time.perf_counter(), 0
        while taken < max_steps and not self.done and time.perf_counter() - start < seconds:
            self.step()
            taken += 1
        return taken

    def weights(self) -> torch.Tensor:
        """What the run recovered: the running average of A (decay cfg.ema), as GAN trainers average G's weights.

        The last A jitters around the equilibrium with the noise of every batch; its average does not.
        """
        return self.A_ema.clone()


def train(cfg: ToyConfig, on_record: Callable[[dict], None] | None = None) -> tuple[ToyGAN, float]:
    """Run cfg.steps iterations; returns the run and its training time in seconds (setup included)."""
    start = time.perf_counter()
    run = ToyGAN(cfg)
    while not run.done:
        record = run.step()
        if on_record:
            on_record(record)
    return run, time.perf_counter() - start


def history_csv(history: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HISTORY_KEYS)
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


# ------------------------------------------------------------------------------------------ command line

REPORT_EXPERIMENTS = {
    # name: (what the report did, settings)
    "D only": ("G frozen at a random A; D learns real vs fake (BCE)", dict(regime="discriminator", steps=300)),
    "G only": ("D trained on the initial G for 200 steps, then frozen; G learns against it (Adam lr 0.01, MSE)",
               dict(regime="generator", loss="lsq", g_opt="adam", lr_g=0.01, pretrain=200, steps=800)),
    "joint": ("D and G trained together", dict(regime="joint")),
}


def get_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = ToyConfig()
    p = argparse.ArgumentParser(prog="python -m gan.toy", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("recover", help="train a GAN to recover a target matrix W")
    r.add_argument("--target", type=float, nargs=4, default=defaults.target, metavar=("W00", "W01", "W10", "W11"))
    r.add_argument("--init", type=float, nargs=4, metavar=("A00", "A01", "A10", "A11"),
                   help="initial A (default: random by seed)")
    r.add_argument("--dim", type=int, default=2 ** defaults.n, help="N, a power of two from 2 to 1024")
    r.add_argument("--regime", choices=REGIMES, default=defaults.regime)
    r.add_argument("--loss", choices=LOSSES, default=defaults.loss)
    r.add_argument("--d-opt", choices=D_OPTIMIZERS, default=defaults.d_opt)
    r.add_argument("--g-opt", choices=G_OPTIMIZERS, default=defaults.g_opt, help="adam-full: Adam with a full 4x4 "
                   "second-moment matrix (default)")
    r.add_argument("--lr-d", type=float, default=defaults.lr_d)
    r.add_argument("--lr-g", type=float, default=defaults.lr_g)
    r.add_argument("--k-d", type=int, default=defaults.k_d, help="D steps per iteration")
    r.add_argument("--k-g", type=int, default=defaults.k_g, help="G steps per iteration")
    r.add_argument("--batch", type=int, default=defaults.batch)
    r.add_argument("--hidden", type=int, default=defaults.hidden, help="D's width")
    r.add_argument("--pretrain", type=int, default=defaults.pretrain, help="generator regime: D steps before D freezes")
    r.add_argument("--steps", type=int, default=defaults.steps, help="iterations")
    r.add_argument("--ema", type=float, default=defaults.ema,
                   help="decay of the running average of A that the run reports (0: the last A)")
    r.add_argument("--seed", type=int, default=defaults.seed)
    r.add_argument("--json", action="store_true", help="print one JSON object instead of a progress log")
    s = sub.add_parser("report", help="rerun the course report's experiments on its target")
    s.add_argument("--seed", type=int, default=defaults.seed)
    return p.parse_args(argv)


def dim_to_n(dim: int) -> int:
    if dim < 2 or dim > 2 ** MAX_N or dim & (dim - 1):
        raise ValueError(f"--dim must be a power of two from 2 to {2 ** MAX_N}, got {dim}")
    return dim.bit_length() - 1


def config_from_args(args: argparse.Namespace) -> ToyConfig:
    cfg = ToyConfig(target=tuple(args.target), init=tuple(args.init) if args.init else None, n=dim_to_n(args.dim),
                    regime=args.regime, loss=args.loss, d_opt=args.d_opt, g_opt=args.g_opt,
                    lr_d=args.lr_d, lr_g=args.lr_g, k_d=args.k_d, k_g=args.k_g, batch=args.batch,
                    hidden=args.hidden, pretrain=args.pretrain, steps=args.steps, ema=args.ema, seed=args.seed)
    validate(cfg)
    return cfg


def fmt(A: torch.Tensor) -> str:
    return "[[{:.3f}, {:.3f}], [{:.3f}, {:.3f}]]".format(*A.flatten().tolist())


def log_every(total: int) -> Callable[[dict], None]:
    """A progress printer for about 10 lines per run."""
    every = max(1, total // 10)

    def log(r: dict) -> None:
        if r["step"] % every == 0 or r["step"] == total:
            print(f"step {r['step']:5d}  d_loss {r['d_loss']:.4f}  g_loss {r['g_loss']:.5f}  "
                  f"D(real) {r['d_real']:.3f}  D(fake) {r['d_fake']:.3f}  "
                  f"A [[{r['a00']:.3f}, {r['a01']:.3f}], [{r['a10']:.3f}, {r['a11']:.3f}]]  error {r['error']:.3f}")
    return log


def recover(cfg: ToyConfig, as_json: bool) -> None:
    if not as_json:
        print(f"target W = {fmt(as_matrix(cfg.target))}, N = {2 ** cfg.n}, {cfg.regime} regime, "
              f"{LOSS_NAMES[cfg.loss]} loss, {cfg.steps} iterations")
    run, seconds = train(cfg, None if as_json else log_every(cfg.steps))
    A = run.weights()
    match, _, error = closest_equivalent(A, run.W, cfg.n)
    if as_json:
        print(json.dumps(dict(weights=A.tolist(), error=error, matched=match, steps=run.step_count,
                              seconds=round(seconds, 4), initial=run.A0.tolist(), last=run.A.detach().tolist(),
                              singular_ratio=singular_ratio(run.W), config=asdict(cfg))))
    else:
        print(f"initial A {fmt(run.A0)} -> recovered A {fmt(A)} (the running average; the last A "
              f"{fmt(run.A.detach())}); matched {match}; "
              f"symmetric error {error:.4f} in {seconds:.2f} s")
        note = near_singular_note(run.W)
        if note:
            print(note)


def report(seed: int) -> None:
    base = ToyConfig(seed=seed)
    print(f"target W = {fmt(as_matrix(base.target))}, N = {2 ** base.n}, seed {seed}")
    for name, (what, overrides) in REPORT_EXPERIMENTS.items():
        run, seconds = train(replace(base, **overrides))
        last, A = run.history[-1], run.weights()
        match, _, error = closest_equivalent(A, run.W, run.cfg.n)
        print(f"\n{name}: {what}\n  {run.step_count} iterations in {seconds:.1f} s; "
              f"D(real) {last['d_real']:.3f}, D(fake) {last['d_fake']:.3f}, d_loss {last['d_loss']:.4f}, "
              f"g_loss {last['g_loss']:.5f}\n  A {fmt(run.A0)} -> {fmt(A)} (running average), "
              f"symmetric error {error:.4f} (matched {match})")


def main(argv: list[str] | None = None) -> int:
    args = get_args(argv)
    torch.set_num_threads(1)  # the tensors are tiny: threads cost more than they give
    try:
        if args.command == "recover":
            recover(config_from_args(args), args.json)
        else:
            report(args.seed)
    except (ValueError, Diverged) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
