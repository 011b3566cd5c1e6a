"""One training run of the toy GAN: its settings, the losses, the three regimes and the history of every step."""
from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass, fields
from typing import Callable

import torch
import torch.nn.functional as F

from gan.i18n import N_, _
from gan.toy.distance import energy_distance
from gan.toy.model import PRESETS, Discriminator, as_matrix, generate, noise
from gan.toy.optim import D_OPTIMIZERS, G_OPTIMIZERS, Optimizer
from gan.toy.symmetries import equivalents

REGIMES = ("joint", "discriminator", "generator")
LOSSES = ("bce", "lsq", "fm")
LOSS_NAMES = {"fm": N_("feature matching"), "lsq": N_("least squares (MSE)"), "bce": N_("non-saturating BCE")}
MAX_N = 10
MAX_WEIGHT = 1e3  # |A| beyond this saturates tanh everywhere: the run has diverged
HISTORY_KEYS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "a00", "a01", "a10", "a11", "grad_norm",
                "error", "ema_error", "distance", "d_updates", "g_updates", "match")
RESET_FIELDS = ("target", "init", "n", "seed", "hidden")  # a run is built from these; the rest can change mid-run
DISTANCE_BATCH = 256  # real and fake samples for the energy distance: 0.7 ms, a fifth of a step,
DISTANCE_EVERY = 10  # so it is measured at step 1 and every 10th (None in the other records)


class Diverged(RuntimeError):
    """Training produced a non-finite loss or weight."""


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
        (len(cfg.target) == 4, N_("the target needs four entries")),
        (all(math.isfinite(v) for v in cfg.target), N_("the target's entries must be finite numbers")),
        (cfg.init is None or (len(cfg.init) == 4 and all(math.isfinite(v) for v in cfg.init)),
         N_("the initial A needs four finite entries")),
        (1 <= cfg.n <= MAX_N, N_("n must be between 1 and {max_n} (N = 2 .. {max_N})")),
        (cfg.regime in REGIMES, N_("regime must be one of {regimes}")),
        (cfg.loss in LOSSES, N_("loss must be one of {losses}")),
        (cfg.d_opt in D_OPTIMIZERS, N_("D's optimizer is one of {d_opts} (full-matrix Adam is for G)")),
        (cfg.g_opt in G_OPTIMIZERS, N_("G's optimizer is one of {g_opts}")),
        (0 <= cfg.ema < 1, N_("the averaging decay ema must be in [0, 1)")),
        (0 < cfg.lr_d < math.inf and 0 < cfg.lr_g < math.inf, N_("learning rates must be positive numbers")),
        (0 <= cfg.momentum < 1, N_("momentum must be in [0, 1)")),
        (cfg.k_d >= 1 and cfg.k_g >= 1, N_("k_d and k_g must be at least 1")),
        (cfg.batch >= 2, N_("the batch needs at least 2 samples")),
        (cfg.hidden >= 1, N_("D needs at least one hidden unit")),
        (cfg.pretrain >= 0, N_("pretrain steps cannot be negative")),
        (cfg.steps >= 1, N_("steps must be at least 1")),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(_(message).format(max_n=MAX_N, max_N=2 ** MAX_N, regimes=", ".join(REGIMES),
                                               losses=", ".join(LOSSES), d_opts=", ".join(D_OPTIMIZERS),
                                               g_opts=", ".join(G_OPTIMIZERS)))


def criterion(loss: str, out: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean loss of D's outputs against 1 (real) / 0 (fake) labels: least squares, else BCE on logits."""
    if loss == "lsq":
        return F.mse_loss(out, labels)
    return F.binary_cross_entropy_with_logits(out, labels)


def generator_loss(D: Discriminator, loss: str, fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    """G's loss against D on fake samples (..., B, N): one value per leading index (a 0-d tensor for one batch).

    bce: non-saturating, -log D(fake); lsq: (D(fake) - 1)^2; fm: the squared gap between the mean last-layer
    features of fake and of `real` samples (feature matching).
    """
    lead, N = fake.shape[:-2], fake.shape[-1]
    if loss == "fm":
        with torch.no_grad():
            target = D.features(real).mean(0)
        features = D.features(fake.reshape(-1, N))
        return (features.view(*lead, -1, features.shape[-1]).mean(-2) - target).pow(2).sum(-1)
    out = D(fake.reshape(-1, N)).view(*lead, -1)
    per_sample = F.mse_loss if loss == "lsq" else F.binary_cross_entropy_with_logits
    return per_sample(out, torch.ones_like(out), reduction="none").mean(-1)


# ------------------------------------------------------------------------------------------ training

class ToyGAN:
    """One training run: A, D, their optimizers, the noise generators and the history, stepped on demand.

    Every step appends one record to the history: an iteration of the regime, or a lone D or G step.
    The settings outside RESET_FIELDS can change between steps (`retune`); `changes` records each change.
    """

    def __init__(self, cfg: ToyConfig):
        validate(cfg)
        self.cfg = cfg
        self.N = 2 ** cfg.n
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.eval_gen = torch.Generator().manual_seed(cfg.seed + 2 ** 32)  # distance batches: training's draws stay as they were
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
        self.d_updates = self.g_updates = 0
        self.history: list[dict] = []
        self.changes: list[dict] = []  # {"step": iterations before the change, "label": what changed}

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
            self.d_updates += 1
        out = out.detach() if self.cfg.loss == "lsq" else torch.sigmoid(out.detach())
        d_real, d_fake = out.view(2, -1).mean(1).tolist()
        return loss.item(), d_real, d_fake

    def g_step(self, update: bool) -> tuple[float, float]:
        """G's loss on a fresh fake batch and the norm of its gradient wrt A; A moves only if `update`."""
        fake = self.fake()
        real = self.real() if self.cfg.loss == "fm" else None
        loss = generator_loss(self.D, self.cfg.loss, fake, real)
        (grad,) = torch.autograd.grad(loss, self.A)
        if update:
            self.opt_g.step((grad,))
            self.g_updates += 1
        return loss.item(), grad.norm().item()

    @torch.no_grad()
    def distance(self) -> float:
        """The energy distance between fresh real and fake batches (`gan.toy.distance`)."""
        z = noise(2 * DISTANCE_BATCH, self.N, self.eval_gen).view(2, -1, self.N)
        real, fake = generate(torch.stack([self.W, self.A]), z)
        return energy_distance(real, fake)

    def gaps(self, M: torch.Tensor) -> list[float]:
        """max |M - W'| for each equivalent W' of W, in plain floats: cheaper than tensors at every step."""
        entries = M.flatten().tolist()
        return [max(abs(m - w) for m, w in zip(entries, E)) for E in self.target_entries]

    def step(self, d_steps: int | None = None, g_steps: int | None = None) -> dict:
        """One iteration of the regime (k_d D-steps, then k_g G-steps) or, given, that many steps of each side.

        A side with no steps (frozen by the regime, or 0 given) is only evaluated, once.
        """
        if d_steps is None or g_steps is None:
            train_d, train_g = self.trains()
            d_steps, g_steps = self.cfg.k_d * train_d, self.cfg.k_g * train_g
        for _step in range(max(d_steps, 1)):
            d_loss, d_real, d_fake = self.d_step(d_steps > 0)
        for _step in range(max(g_steps, 1)):
            g_loss, grad_norm = self.g_step(g_steps > 0)
        A = self.A.detach()
        self.A_ema.lerp_(A, 1 - self.cfg.ema)
        a00, a01, a10, a11 = A.flatten().tolist()
        gaps = self.gaps(A)
        error, ema_error = min(gaps), min(self.gaps(self.A_ema))
        match = self.targets[gaps.index(error)][0]
        step = self.step_count + 1
        record = dict(step=step, d_loss=d_loss, g_loss=g_loss, d_real=d_real, d_fake=d_fake,
                      a00=a00, a01=a01, a10=a10, a11=a11, grad_norm=grad_norm, error=error, ema_error=ema_error,
                      distance=self.distance() if step % DISTANCE_EVERY == 0 or step == 1 else None, d_updates=self.d_updates, g_updates=self.g_updates, match=match)
        bad = [k for k in HISTORY_KEYS[1:-1] if record[k] is not None and not math.isfinite(record[k])]
        if bad:
            raise Diverged(_("training diverged at step {step}: {names} became NaN or infinite. Try smaller "
                             "learning rates.").format(step=step, names=", ".join(bad)))
        if max(abs(a00), abs(a01), abs(a10), abs(a11)) > MAX_WEIGHT:
            raise Diverged(_("training diverged at step {step}: A's entries left ±{bound:g}, where tanh is flat "
                             "and G can learn nothing. Try a smaller generator learning rate.")
                           .format(step=step, bound=MAX_WEIGHT))
        self.history.append(record)
        return record

    def train_for(self, seconds: float, max_steps: int) -> int:
        """Step until `seconds` pass, `max_steps` are taken or the run is done; returns steps taken."""
        start, taken = time.perf_counter(), 0
        while taken < max_steps and not self.done and time.perf_counter() - start < seconds:
            self.step()
            taken += 1
        return taken

    def retune(self, cfg: ToyConfig) -> list[str]:
        """Use cfg's settings from the next step on, keeping A, D and the history; returns what changed.

        The settings in RESET_FIELDS build the run and cannot change: ValueError. A new optimizer kind starts
        with fresh moments; a new learning rate or momentum keeps them.
        """
        validate(cfg)
        fixed = [name for name in RESET_FIELDS if getattr(cfg, name) != getattr(self.cfg, name)]
        if fixed:
            raise ValueError(_("{names} can only change with a new run (Reset)").format(names=", ".join(fixed)))
        changed = [f.name for f in fields(cfg) if getattr(cfg, f.name) != getattr(self.cfg, f.name)]
        if cfg.d_opt != self.cfg.d_opt:
            self.opt_d = Optimizer(cfg.d_opt, list(self.D.parameters()), cfg.lr_d, cfg.momentum)
        if cfg.g_opt != self.cfg.g_opt:
            self.opt_g = Optimizer(cfg.g_opt, [self.A], cfg.lr_g, cfg.momentum)
        self.opt_d.lr, self.opt_g.lr = cfg.lr_d, cfg.lr_g
        self.opt_d.momentum = self.opt_g.momentum = cfg.momentum
        if cfg.batch != self.cfg.batch:
            self.labels = torch.cat([torch.ones(cfg.batch), torch.zeros(cfg.batch)])
        labels = [change_label(name, getattr(self.cfg, name), getattr(cfg, name)) for name in changed]
        self.changes += [dict(step=self.step_count, label=label) for label in labels]
        self.cfg = cfg
        return labels

    def weights(self) -> torch.Tensor:
        """What the run recovered: the running average of A (decay cfg.ema), as GAN trainers average G's weights.

        The last A jitters around the equilibrium with the noise of every batch; its average does not.
        """
        return self.A_ema.clone()


def change_label(name: str, old: object, new: object) -> str:
    """'lr_g 0.01 → 0.02': how a chart labels a change of one setting."""
    def show(value: object) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)
    return f"{name} {show(old)} → {show(new)}"


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

