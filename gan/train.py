"""Train the CSPup GAN on a folder of face images.

    python -m gan.train --data ../shared/data/celeba/img_align_celeba --out runs/celeba
    python -m gan.train --resume runs/celeba                 # continue exactly where it stopped
    python -m gan.train --preset report --data ... --out ...  # the course report's settings
    torchrun --nproc_per_node=2 -m gan.train --data ... --out ...

Writes into RUN_DIR: checkpoint.pt (latest, atomic), samples/step_XXXXXXX.png (fixed latents),
losses.csv, and snapshots/g_XXXXXXX.pt (generator-only EMA files along the run).
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import csv
import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import IO

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torchvision.utils import make_grid, save_image

from gan.checkpoint import (FORMAT, CheckpointError, export_generator, load_checkpoint, remove_stale_temporaries,
                            save_atomic)
from gan.data import DataError, batches, load_dataset
from gan.models import Discriminator, Generator, ModelConfig, count_params, default_widths, init_weights

PRESETS = {
    # The course report's example run: lr D 2e-4, lr G 4e-4, D weight decay 1e-4, 15 epochs, latent 200, Tanh in G.
    "report": dict(lr_d=2e-4, lr_g=4e-4, wd_d=1e-4, epochs=15, latent=200, g_act="tanh"),
}


def get_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="CelebA root (torchvision layout) or any folder of images")
    p.add_argument("--out", help="run directory")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR with its saved flags")
    p.add_argument("--preset", choices=sorted(PRESETS), help="start from a named set of flags")
    p.add_argument("--image-size", type=int, default=64, choices=(32, 64, 128))
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many D steps (0: no limit)")
    p.add_argument("--epochs", type=float, default=0, help="stop after this many epochs (0: no limit)")
    p.add_argument("--max-minutes", type=float, default=0, help="stop after this much training time (0: no limit)")
    # model
    p.add_argument("--latent", type=int, default=128)
    p.add_argument("--g-widths", type=int, nargs="+", help="G channels from 4x4 up to the image size")
    p.add_argument("--d-widths", type=int, nargs="+", help="D channels from size/2 down to 4x4")
    p.add_argument("--g-act", choices=("leakyrelu", "tanh"), default="leakyrelu")
    p.add_argument("--bottleneck", type=float, default=ModelConfig.bottleneck,
                   help="CSPup long-branch width / output width")
    p.add_argument("--d-norm", choices=("batch", "spectral", "none"), default="batch")
    # optimisation
    p.add_argument("--loss", choices=("bce", "hinge", "lsgan"), default="bce")
    p.add_argument("--lr-g", type=float, default=2e-4)
    p.add_argument("--lr-d", type=float, default=2e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--beta2", type=float, default=0.999)
    p.add_argument("--wd-g", type=float, default=0.0, help="weight decay of G")
    p.add_argument("--wd-d", type=float, default=0.0, help="weight decay of D")
    p.add_argument("--d-optim", choices=("adam", "sgd"), default="adam")
    p.add_argument("--g-steps", type=int, default=1, help="G updates per D update")
    p.add_argument("--ema", type=float, default=0.999, help="EMA decay of G weights (0 disables)")
    p.add_argument("--seed", type=int, default=0)
    # machinery
    p.add_argument("--device", default="auto", help="auto, cuda, mps or cpu")
    p.add_argument("--compile", action="store_true", help="torch.compile G and D (CUDA)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    p.add_argument("--log-every", type=int, default=50, help="steps between progress/CSV lines")
    p.add_argument("--checkpoint-minutes", type=float, default=5.0, help="minutes between checkpoints and grids")
    p.add_argument("--snapshots", default="0.01,0.05,0.2,0.5,1.0",
                   help="fractions of the run at which to keep a generator-only snapshot")
    p.add_argument("--no-cache", action="store_true", help="do not write the decoded-images cache")
    p.add_argument("--tensorboard", action="store_true",
                   help="also log scalars and sample grids to RUN_DIR/tensorboard (pip install tensorboard)")
    args = p.parse_args(argv)
    if args.preset:  # a preset fills flags the user left at their defaults
        for key, value in PRESETS[args.preset].items():
            if getattr(args, key) == p.get_default(key):
                setattr(args, key, value)
    if args.resume:
        args = resumed_args(args, p)
    elif not (args.data and args.out):
        p.error("--data and --out are required (or --resume RUN_DIR)")
    return args


LIMITS = ("max_steps", "epochs", "max_minutes")


def resumed_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The run's saved flags, overridden by what this command line gives of the limits, data and machinery.

    Limits given here replace the saved ones together: `--resume RUN --epochs 30` extends a run that
    stopped at `--max-steps 5000`. Without any, the saved limits hold (a run cut short continues to them).
    """
    ckpt_path = Path(args.resume) / "checkpoint.pt"
    saved = load_checkpoint(ckpt_path, kinds=("train",))["args"]
    merged = argparse.Namespace(**{**vars(args), **saved})

    def given(key: str) -> bool:
        return getattr(args, key) != parser.get_default(key)

    replaced = LIMITS if any(map(given, LIMITS)) else ()
    for key in (*replaced, *(k for k in ("data", "device", "threads", "compile", "tensorboard") if given(k))):
        setattr(merged, key, getattr(args, key))
    merged.resume, merged.out = args.resume, args.resume
    return merged


def pick_device(name: str, local_rank: int) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank)
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def lock_run_dir(out: Path) -> IO | None:
    """Hold RUN_DIR/.lock for this process's life: two trainings of one run folder would corrupt it.

    The kernel drops the lock when the process ends, however it ends. On systems without fcntl, no lock.
    """
    try:
        import fcntl
    except ImportError:
        return None
    out.mkdir(parents=True, exist_ok=True)
    f = open(out / ".lock", "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise ValueError(f"{out} is in use by another gan.train process; wait for it to end or stop it") from None
    return f


def tensorboard_writer(folder: Path):
    """A SummaryWriter into folder; ValueError saying what to install when tensorboard is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ValueError("--tensorboard needs the tensorboard package, which is not installed: "
                         "pip install tensorboard") from None
    return SummaryWriter(str(folder))


def model_config(args: argparse.Namespace) -> ModelConfig:
    g_default, d_default = default_widths(args.image_size)
    return ModelConfig(latent=args.latent, image_size=args.image_size,
                       g_widths=tuple(args.g_widths or g_default), d_widths=tuple(args.d_widths or d_default),
                       g_act=args.g_act, bottleneck=args.bottleneck, d_norm=args.d_norm)


def d_loss_real(kind: str, logits: torch.Tensor) -> torch.Tensor:
    """D's loss on real images' logits."""
    if kind == "bce":
        return F.softplus(-logits).mean()
    if kind == "hinge":
        return F.relu(1 - logits).mean()
    return 0.5 * (logits - 1).pow(2).mean()


def d_loss_fake(kind: str, logits: torch.Tensor) -> torch.Tensor:
    """D's loss on generated images' logits."""
    if kind == "bce":
        return F.softplus(logits).mean()
    if kind == "hinge":
        return F.relu(1 + logits).mean()
    return 0.5 * logits.pow(2).mean()


def g_loss_fn(kind: str, fake: torch.Tensor) -> torch.Tensor:
    if kind == "bce":
        return F.softplus(-fake).mean()  # non-saturating
    if kind == "hinge":
        return -fake.mean()
    return 0.5 * (fake - 1).pow(2).mean()


def make_optimizers(args, g: nn.Module, d: nn.Module, device: torch.device):
    fused = {"fused": True} if device.type == "cuda" else {"foreach": True}
    opt_g = torch.optim.Adam(g.parameters(), args.lr_g, betas=(args.beta1, args.beta2), weight_decay=args.wd_g, **fused)
    if args.d_optim == "sgd":
        opt_d = torch.optim.SGD(d.parameters(), args.lr_d, momentum=0.9, weight_decay=args.wd_d, foreach=True)
    else:
        opt_d = torch.optim.Adam(d.parameters(), args.lr_d, betas=(args.beta1, args.beta2), weight_decay=args.wd_d, **fused)
    return opt_g, opt_d


class EMA:
    """Exponential moving average of G's parameters (one fused foreach op per step); buffers are copied."""

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.params = list(model.parameters())
        self.buffers = list(model.buffers())

    @torch.no_grad()
    def update(self, source: nn.Module, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(self.params, list(source.parameters()), 1.0 - decay)
        torch._foreach_copy_(self.buffers, list(source.buffers()))


@torch.no_grad()
def recalibrate_bn(g: Generator, latent: int, device: torch.device, images: int = 1024) -> None:
    """Re-estimate BatchNorm statistics for (EMA) weights from fresh latents: sharper EMA samples."""
    norms = [m for m in g.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    g.train()
    gen = torch.Generator(device=device).manual_seed(1234)
    for _ in range(max(1, images // 256)):
        g(torch.randn(min(images, 256), latent, device=device, generator=gen))
    for m, mom in zip(norms, saved):
        m.momentum = mom
    g.eval()


class Trainer:
    """Holds the networks, optimizers and counters of one run; `run()` trains until a limit is reached."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.rank = int(os.environ.get("RANK", 0))
        self.world = int(os.environ.get("WORLD_SIZE", 1))
        self.local_rank = int(os.environ.get("LOCAL_RANK", 0))
        self.device = pick_device(args.device, self.local_rank)
        if self.world > 1:
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
            torch.backends.cudnn.benchmark = True
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        if args.threads:
            torch.set_num_threads(args.threads)
        self.out = Path(args.out)
        self.main = self.rank == 0
        self.board = tensorboard_writer(self.out / "tensorboard") if args.tensorboard and self.main else None
        torch.manual_seed(args.seed + self.rank)

        self.cfg = model_config(args)
        self.g, self.d = Generator(self.cfg), Discriminator(self.cfg)
        init_weights(self.g), init_weights(self.d)
        self.g_ema = Generator(self.cfg)
        self.g_ema.load_state_dict(self.g.state_dict())
        self.g_ema.requires_grad_(False)
        fmt = torch.channels_last if self.device.type == "cuda" else torch.contiguous_format
        for m in (self.g, self.d, self.g_ema):
            m.to(self.device, memory_format=fmt)
        self.opt_g, self.opt_d = make_optimizers(args, self.g, self.d, self.device)
        self.ema = EMA(self.g_ema, args.ema)
        self.step = self.epoch = self.pos = 0
        self.seconds = 0.0
        self.fixed_z = torch.randn(64, self.cfg.latent, generator=torch.Generator().manual_seed(0)).to(self.device)
        self.snapshots_done: list[float] = []
        if args.resume:
            self.restore(load_checkpoint(self.out / "checkpoint.pt", kinds=("train",)))
        if self.world > 1 and not self.main:
            dist.barrier()  # rank 0 decodes and caches the images first
        self.data = load_dataset(args.data, args.image_size, cache=not args.no_cache, log=self.log)
        if self.world > 1 and self.main:
            dist.barrier()
        self.images = self.data.images.to(self.device)
        if len(self.images) // self.world < args.batch_size:
            raise DataError(f"{len(self.images)} images is fewer than one batch of {args.batch_size} per process")
        self.g_train, self.d_train = self.g, self.d
        if self.world > 1:
            self.g_train = DDP(self.g, device_ids=[self.local_rank] if self.device.type == "cuda" else None)
            self.d_train = DDP(self.d, device_ids=[self.local_rank] if self.device.type == "cuda" else None)
        if args.compile:
            self.g_train, self.d_train = torch.compile(self.g_train), torch.compile(self.d_train)
        self.autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda"
                         else contextlib.nullcontext())
        self.stop_requested = False
        self.calibration_images = 2048 if self.device.type == "cuda" else 256

    def log(self, msg: str) -> None:
        if self.main:
            print(msg, flush=True)

    # ---- state -------------------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "format": FORMAT, "kind": "train", "config": self.cfg.to_dict(),
            "args": {k: v for k, v in vars(self.args).items() if k != "resume"},
            "g_ema": self.g_ema.state_dict(), "g": self.g.state_dict(), "d": self.d.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "step": self.step, "epoch": self.epoch, "pos": self.pos,
            "data": self.data.describe(), "snapshots_done": self.snapshots_done,
            "metrics": {"seconds": round(self.seconds, 1), "images_seen": self.step * self.args.batch_size * self.world,
                        "params_g": count_params(self.g), "params_d": count_params(self.d)},
        }

    def restore(self, ckpt: dict) -> None:
        try:
            for name in ("g", "d", "g_ema"):
                getattr(self, name).load_state_dict(ckpt[name])
            self.opt_g.load_state_dict(ckpt["opt_g"])
            self.opt_d.load_state_dict(ckpt["opt_d"])
        except (KeyError, RuntimeError, ValueError, TypeError, AttributeError) as e:
            raise CheckpointError(f"checkpoint does not match this model: {str(e).splitlines()[0]}") from None
        self.step, self.epoch, self.pos = ckpt["step"], ckpt["epoch"], ckpt["pos"]
        self.seconds = float(ckpt["metrics"].get("seconds", 0.0))
        self.snapshots_done = list(ckpt.get("snapshots_done", []))
        if self.main:
            remove_stale_temporaries(self.out)
            remove_stale_temporaries(self.out / "snapshots")
            self.trim_losses()
        self.log(f"resumed {self.out} at step {self.step} (epoch {self.epoch})")

    def trim_losses(self) -> None:
        """Drop the losses.csv rows logged after the checkpoint: the resumed run logs those steps again."""
        path = self.out / "losses.csv"
        if path.exists():
            header, *rows = path.read_text().splitlines(keepends=True)
            step = [r.split(",", 1)[0] for r in rows]
            path.write_text(header + "".join(r for r, n in zip(rows, step) if n.isdigit() and int(n) <= self.step))

    def save(self) -> None:
        """Checkpoint, sample grid and current snapshot state; rank 0 only."""
        if not self.main:
            return
        save_atomic(self.state(), self.out / "checkpoint.pt")
        self.sample_grid()

    def calibrated_ema(self) -> Generator:
        """A copy of the EMA generator with BatchNorm statistics re-estimated (draws no global RNG)."""
        g = copy.deepcopy(self.g_ema)
        recalibrate_bn(g, self.cfg.latent, self.device, self.calibration_images)
        return g

    def sample_grid(self) -> None:
        g = self.calibrated_ema()
        with torch.no_grad():
            imgs = g(self.fixed_z).float()
        (self.out / "samples").mkdir(parents=True, exist_ok=True)
        save_image(imgs, self.out / "samples" / f"step_{self.step:07d}.png", nrow=8, normalize=True, value_range=(-1, 1))
        if self.board:
            self.board.add_image("samples", make_grid(imgs, nrow=8, normalize=True, value_range=(-1, 1)), self.step)
            self.board.flush()

    def snapshot(self, fraction: float) -> None:
        """Write a generator-only file of the (BN-recalibrated) EMA generator."""
        self.snapshots_done.append(fraction)
        if not self.main:
            return
        g = self.calibrated_ema()
        state = self.state() | {"g_ema": {k: v.cpu() for k, v in g.state_dict().items()}}
        export_generator(state, self.out / "snapshots" / f"g_{self.step:07d}.pt", {"fraction": fraction})
        self.log(f"snapshot at {fraction:.0%} of the run: step {self.step}")

    # ---- training ------------------------------------------------------------------------------
    def progress(self) -> float:
        """Fraction of the run done, by whichever limit is nearest."""
        a, steps_per_epoch = self.args, len(self.images) // (self.args.batch_size * self.world)
        fractions = [0.0]
        if a.max_steps:
            fractions.append(self.step / a.max_steps)
        if a.epochs:
            fractions.append(self.step / (a.epochs * steps_per_epoch))
        if a.max_minutes:
            fractions.append(self.seconds / (a.max_minutes * 60))
        return max(fractions)

    def noise(self) -> torch.Generator:
        """This step's source of latents, seeded by (seed, step, rank): a resumed run, DDP or not,
        draws exactly the latents an unbroken one would, with no generator state to save."""
        return torch.Generator(self.device).manual_seed(hash((self.args.seed, self.step, self.rank)) % 2**63)

    def train_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        a = self.args
        real = real.contiguous(memory_format=torch.channels_last) if self.device.type == "cuda" else real
        noise = self.noise()
        z = torch.randn(len(real), self.cfg.latent, device=self.device, generator=noise)
        with self.autocast:
            fake = self.g_train(z)
        # D: real and fake in separate batches (separate BatchNorm statistics), gradients summed.
        self.opt_d.zero_grad(set_to_none=True)
        no_sync = self.d_train.no_sync() if isinstance(self.d_train, DDP) else contextlib.nullcontext()
        with no_sync:
            with self.autocast:
                d_real = self.d_train(real).float()
                loss_real = d_loss_real(a.loss, d_real)
            loss_real.backward()
        with self.autocast:
            d_fake = self.d_train(fake.detach()).float()
            loss_fake = d_loss_fake(a.loss, d_fake)
        loss_fake.backward()
        self.opt_d.step()
        # G: a.g_steps updates against the new D (the first reuses this step's fakes).
        for i in range(a.g_steps):
            if i:
                with self.autocast:
                    fake = self.g_train(torch.randn(z.shape, device=self.device, generator=noise))
            self.opt_g.zero_grad(set_to_none=True)
            with self.autocast:
                loss_g = g_loss_fn(a.loss, self.d(fake).float())
            loss_g.backward()
            self.opt_g.step()
        self.ema.update(self.g, self.step)
        return {"d_loss": (loss_real + loss_fake).detach(), "g_loss": loss_g.detach(),
                "d_real": torch.sigmoid(d_real).mean().detach(), "d_fake": torch.sigmoid(d_fake).mean().detach()}

    def run(self) -> int:
        """Train until a limit, Ctrl-C or divergence; returns the process exit code."""
        a = self.args
        if not (a.max_steps or a.epochs or a.max_minutes):
            a.epochs = 25
        self.log(f"device {self.device} x{self.world} | G {count_params(self.g) / 1e6:.2f}M params, "
                 f"D {count_params(self.d) / 1e6:.2f}M | {len(self.images)} images "
                 f"({self.data.skipped} skipped) | batch {a.batch_size} | loss {a.loss}")
        fractions = [float(f) for f in a.snapshots.split(",") if f.strip()]
        # Resumed with new limits, the fractions not yet reached under them are taken (again).
        self.snapshots_done = [f for f in self.snapshots_done if f <= self.progress()]
        stream = self.stream()
        last_save, t_log, step_log = time.time(), time.time(), self.step
        t0 = time.time() - self.seconds
        while self.progress() < 1.0 and not self.stop_requested:
            self.epoch, real = next(stream)
            stats = self.train_step(real)
            self.step += 1
            self.pos += 1
            self.seconds = time.time() - t0
            due = [f for f in fractions if f not in self.snapshots_done and self.progress() >= f]
            save_due = time.time() - last_save > a.checkpoint_minutes * 60
            if self.step % a.log_every == 0 or due or save_due:
                vals = {k: v.item() for k, v in stats.items()}
                if not all(math.isfinite(v) for v in vals.values()):
                    self.log(f"\nerror: training diverged at step {self.step} (losses {vals}). Nothing was "
                             f"saved from the diverged weights; the last good checkpoint, if any, is "
                             f"{self.out / 'checkpoint.pt'}. Try lower learning rates.")
                    return 3
                if self.step % a.log_every == 0:
                    rate = (self.step - step_log) * a.batch_size * self.world / (time.time() - t_log)
                    t_log, step_log = time.time(), self.step
                    self.log_row(vals, rate)
            for frac in due:
                self.snapshot(frac)
            if save_due:
                self.save()
                last_save = time.time()
        self.save()
        self.log(f"\nsaved {self.out / 'checkpoint.pt'} at step {self.step} ({self.seconds / 60:.1f} min)")
        return 0

    def log_row(self, vals: dict[str, float], rate: float) -> None:
        """One line of losses.csv and of the progress bar (rank 0)."""
        if not self.main:
            return
        path = self.out / "losses.csv"
        new = not path.exists()
        with open(path, "a", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(["step", "epoch", "images", "seconds", "d_loss", "g_loss", "d_real", "d_fake",
                                 "img_per_s"])
            writer.writerow([self.step, self.epoch, self.step * self.args.batch_size * self.world,
                             round(self.seconds, 1), *(f"{vals[k]:.4f}" for k in ("d_loss", "g_loss", "d_real", "d_fake")),
                             round(rate)])
        if self.board:
            for key, value in {**vals, "img_per_s": rate}.items():
                self.board.add_scalar(key, value, self.step)
        self.print_progress(vals, rate)

    def stream(self):
        """Batches continuing from (epoch, pos); the position counts batches into the epoch."""
        steps_per_epoch = len(self.images) // self.world // self.args.batch_size
        # A run stopped after an epoch's last batch has pos == steps_per_epoch: go on with the next epoch.
        self.epoch, self.pos = self.epoch + self.pos // steps_per_epoch, self.pos % steps_per_epoch
        it = batches(self.images, self.args.batch_size, self.args.seed, self.epoch, self.rank, self.world)
        for _ in range(self.pos):
            next(it)
        for epoch, batch in it:
            if epoch != self.epoch:
                self.pos = 0
            yield epoch, batch

    def print_progress(self, vals: dict, rate: float) -> None:
        p = min(self.progress(), 1.0)
        bar = "#" * int(p * 30) + "-" * (30 - int(p * 30))
        line = (f"[{bar}] {p:6.1%} step {self.step} ep {self.epoch} | {rate:,.0f} img/s | "
                f"D {vals['d_loss']:.3f} G {vals['g_loss']:.3f} | D(x) {vals['d_real']:.2f} D(G(z)) {vals['d_fake']:.2f}")
        print(("\r" + line) if sys.stdout.isatty() else line, end="" if sys.stdout.isatty() else "\n", flush=True)


def main(argv: list[str] | None = None) -> int:
    lock = None
    try:
        args = get_args(argv)
        lock = lock_run_dir(Path(args.out)) if int(os.environ.get("RANK", 0)) == 0 else None
        trainer = Trainer(args)
    except (DataError, CheckpointError, ValueError) as e:
        if lock:
            lock.close()
        print(f"error: {e}", file=sys.stderr)
        return 2

    def on_sigint(signum, frame):
        trainer.stop_requested = True
        trainer.log("\ninterrupted: saving a checkpoint before exiting ...")

    previous = {sig: signal.signal(sig, on_sigint) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if trainer.main:
            trainer.out.mkdir(parents=True, exist_ok=True)
            (trainer.out / "args.json").write_text(json.dumps(vars(args), indent=2))
        return trainer.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if trainer.board:
            trainer.board.close()
        if lock:
            lock.close()
        if dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
