"""One browser session's toy run, live: start and pause, lone D and G steps, a speed, settings changed mid-run,
and the scene the page draws after every update.

A session's runs can overlap: Streamlit's fast reruns start the script anew on a new thread when a widget changes,
while the last run, still in its training slice, stops only at its next Streamlit call. So a LiveRun's actions and
its scene take its lock, and a page holds `lock` over a whole live update.
"""
from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import torch

from gan.i18n import N_, _
from gan.toy.model import generate, noise
from gan.toy.training import RESET_FIELDS, Diverged, ToyConfig, ToyGAN, validate
from gan.toy.views import Plane, coordinate_plane, d_map, extent, g_arrows, grid, loss_surface, principal_plane, \
    square_outline

MAX_STEPS = 3000  # per run: one session cannot start unbounded compute
SPEEDS = {N_("1 iteration/s"): 1.0, N_("3/s"): 3.0, N_("10/s"): 10.0, N_("30/s"): 30.0, N_("full speed"): math.inf}
POINTS = 200  # real and generated samples drawn in the data view: the same noise all run long
ARROWS = 24  # of the generated samples, those that carry G's arrows
MAP_CELLS = 20  # D's map: cells a side
SURFACE_CELLS = 13  # G's loss surface: cells a side,
SURFACE_NOISE = 32  # over the same 32 noise vectors for every matrix: a scrambled Sobol set, which comes closer to
# the expected loss than 48 random vectors (largest gap 5 % of the surface's range, against 12 %: bench_surface.py)
# in less time (1.3 ms against 1.9)
PATH_POINTS = 200  # of A's path drawn on it
FRAME_PAD = 0.12  # the data view's box: the real and the initial generated samples, widened by this much a side
CURVES_SECONDS = 1.0  # while training, the curves are drawn afresh about once a second (the data view: every update),
DIAGRAM_SECONDS = 2.0  # and the model diagram every two seconds: the browser's dearest drawings
T = TypeVar("T")
ENTRY_NAMES = ("A[0,0]", "A[0,1]", "A[1,0]", "A[1,1]")
RESET_NAMES = {"target": "W", "init": N_("the initial A"), "n": "n", "seed": N_("the seed"), "hidden": N_("D's width")}


def parse_number(text: str, name: str) -> float:
    """A number typed into a text box ('0.01', '1e-3'), or ValueError naming the box."""
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(_("{name}: {text!r} is not a number (write it like 0.01 or 1e-3)").format(
            name=name, text=text.strip())) from None


class Every(Generic[T]):
    """A slow value made afresh every `seconds` or a little more of live updates: on every k-th ask, k = seconds / the
    interval between updates, rounded up; in between, the last one made (the same object). `made` counts the values
    that differed from the one before."""

    def __init__(self, seconds: float):
        self.seconds, self.asked, self.made, self.value = seconds, 0, 0, None

    def get(self, make: Callable[[], T], interval: float, fresh: bool = False) -> T:
        """make()'s value on every k-th ask, or whenever `fresh`; else the last one."""
        k = max(1, math.ceil(self.seconds / interval - 1e-9))
        if fresh or self.value is None or self.asked % k == 0:
            value = make()
            if value != self.value:
                self.value, self.made = value, self.made + 1
        self.asked += 1
        return self.value


@dataclass
class Scene:
    """What the page draws after an update, all as tensors (charts.py makes the tables)."""

    plane: Plane
    frame: tuple[float, float, float, float]  # (u0, u1, v0, v1): the data view's box, the same all run long
    real: torch.Tensor  # (POINTS, 2) in the plane
    fake: torch.Tensor  # (POINTS, 2)
    arrows: torch.Tensor  # (ARROWS, 2): the push on fake[:ARROWS]
    centres: torch.Tensor  # (MAP_CELLS², 2) and D there:
    d_values: torch.Tensor
    cell: tuple[float, float]
    outlines: dict[str, torch.Tensor]  # n = 1: the unit square's images under G_A and G_W, in the plane
    entries: tuple[int, int]  # the two entries of A on the surface's axes
    surface_u: torch.Tensor  # (SURFACE_CELLS,) and v, and G's loss there (u by v):
    surface_v: torch.Tensor
    surface: torch.Tensor
    path: torch.Tensor  # (≤ PATH_POINTS + 2, 2): A's two entries so far, from A0 to now
    equivalents: list[tuple[str, float, float]]  # W's equivalents at those two entries


def serialised(method: Callable[..., T]) -> Callable[..., T]:
    """The method, in its LiveRun's lock: one thread at a time."""
    @functools.wraps(method)
    def locked(self: LiveRun, *args, **kwargs) -> T:
        with self.lock:
            return method(self, *args, **kwargs)
    return locked


class LiveRun:
    """A ToyGAN with the state a page keeps around it; every action that trains turns a divergence into `message`."""

    def __init__(self, cfg: ToyConfig):
        self.lock = threading.RLock()
        self.speed = math.inf  # iterations a second; inf: as many as the fair share allows
        self.reset(cfg)

    @serialised
    def reset(self, cfg: ToyConfig) -> None:
        """A new run with cfg, paused."""
        self.run = ToyGAN(cfg)
        self.running = False
        self.message: str | None = None
        self.owed, self.last = 0.0, time.monotonic()  # slow motion: iterations due, carried between updates
        gen = torch.Generator().manual_seed(cfg.seed + 1)  # the view's own noise: training's draws are untouched
        N = self.run.N
        self.z_real, self.z_fake = noise(POINTS, N, gen), noise(POINTS, N, gen)
        self.z_surface = torch.quasirandom.SobolEngine(N, scramble=True, seed=cfg.seed + 1).draw(SURFACE_NOISE)
        with torch.no_grad():
            self.real = generate(self.run.W, self.z_real)
            self.spread = generate(self.run.W, noise(4096, N, gen))  # the real data's principal directions
        self.planes: dict[tuple[int, int] | None, Plane] = {}
        self.frames: dict[tuple[int, int] | None, tuple[float, float, float, float]] = {}
        self.curves_chart: Every[dict] = Every(CURVES_SECONDS)  # drawn every few live updates while training
        self.model_chart: Every[str] = Every(DIAGRAM_SECONDS)

    # ------------------------------------------------------------------------------------------ actions

    @serialised
    def attempt(self, action: Callable[[], object]) -> None:
        try:
            action()
        except Diverged as e:
            self.running, self.message = False, str(e)

    def d_step(self) -> None:
        self.attempt(lambda: self.run.step(d_steps=1, g_steps=0))

    def g_step(self) -> None:
        self.attempt(lambda: self.run.step(d_steps=0, g_steps=1))

    def iteration(self) -> None:
        self.attempt(self.run.step)

    @serialised
    def start(self) -> None:
        self.running, self.message, self.owed, self.last = True, None, 0.0, time.monotonic()

    @serialised
    def pause(self) -> None:
        self.running = False

    def interval(self, fastest: float) -> float:
        """Seconds between live updates: the server's fastest, or one iteration's worth in slow motion."""
        return max(fastest, 1 / self.speed)

    @serialised
    def advance(self, seconds: float) -> None:
        """One live update's training: `seconds` of it at full speed, else the iterations due since the last."""
        now = time.monotonic()
        if math.isinf(self.speed):
            self.attempt(lambda: self.run.train_for(seconds, MAX_STEPS))
        else:
            self.owed += self.speed * min(now - self.last, 1.0)
            due, self.owed = int(self.owed), self.owed % 1
            self.attempt(lambda: self.run.train_for(seconds, due))
        self.last = now
        if self.run.done:
            self.running = False

    @serialised
    def configure(self, cfg: ToyConfig) -> str | None:
        """Follow the page's settings. Before the first step anything goes; after it, the settings that build a
        run wait for Reset (the note says so) and the others take effect from the next step (ValueError if bad).
        """
        validate(cfg)
        if self.run.step_count == 0:  # nothing trained yet: follow the settings, nothing to mark on the curves
            if cfg != self.run.cfg:
                running = self.running
                self.reset(cfg)
                self.running = running
            return None
        kept = replace(cfg, **{name: getattr(self.run.cfg, name) for name in RESET_FIELDS})
        if kept != self.run.cfg:
            self.run.retune(kept)
            self.running = self.running and not self.run.done
        waiting = [_(RESET_NAMES[name]) for name in RESET_FIELDS if getattr(cfg, name) != getattr(self.run.cfg, name)]
        if waiting:
            return _("{names} changed: they build a new run, so they wait for Reset.").format(names=", ".join(waiting))
        return None

    # ------------------------------------------------------------------------------------------ the scene

    def plane(self, coordinates: tuple[int, int] | None) -> Plane:
        """The data view's plane: the real data's principal directions, or two output coordinates."""
        if coordinates not in self.planes:
            self.planes[coordinates] = (principal_plane(self.spread) if coordinates is None
                                        else coordinate_plane(self.spread, *coordinates))
        return self.planes[coordinates]

    def frame(self, coordinates: tuple[int, int] | None) -> tuple[float, float, float, float]:
        """The data view's box for the whole run: around the real samples and G_A0's, widened by FRAME_PAD. Fixed,
        the picture does not jump as G moves, and the browser redraws the marks but not the axes."""
        if coordinates not in self.frames:
            plane = self.plane(coordinates)
            with torch.no_grad():
                start = generate(self.run.A0, self.z_fake)
            self.frames[coordinates] = extent(torch.cat([plane.project(self.real), plane.project(start)]),
                                              pad=FRAME_PAD)
        return self.frames[coordinates]

    @serialised
    def scene(self, coordinates: tuple[int, int] | None, entries: tuple[int, int]) -> Scene:
        """Everything the data view and the loss surface draw, for the run as it is now."""
        run, plane = self.run, self.plane(coordinates)
        A = run.A.detach()
        with torch.no_grad():
            fake = generate(A, self.z_fake)
        frame = self.frame(coordinates)
        real_uv, fake_uv = plane.project(self.real), plane.project(fake)
        centres, du, dv = grid(frame, MAP_CELLS)
        fm_real = self.real if run.cfg.loss == "fm" else None
        outlines = {}
        if run.N == 2:
            outlines = {"G_A": plane.project(square_outline(A)), "G_W (real)": plane.project(square_outline(run.W))}
        i, j = entries
        stride = max(1, -(-len(run.history) // PATH_POINTS))
        keys = [f"a{k // 2}{k % 2}" for k in entries]
        path = torch.tensor([run.A0.flatten()[[i, j]].tolist()] + [[r[k] for k in keys] for r in run.history[::stride]]
                            + [A.flatten()[[i, j]].tolist()])
        named = [(name, M.flatten()[i].item(), M.flatten()[j].item()) for name, M in run.targets]
        corners = torch.cat([path, torch.tensor([[u, v] for _, u, v in named])])
        u0, u1, v0, v1 = extent(corners, pad=0.15, least=0.25)
        u = torch.linspace(u0, u1, SURFACE_CELLS)
        v = torch.linspace(v0, v1, SURFACE_CELLS)
        surface = loss_surface(run.D, run.cfg.loss, A, entries, u, v, self.z_surface, fm_real)
        return Scene(plane, frame, real_uv, fake_uv, g_arrows(run.D, run.cfg.loss, fake[:ARROWS], fm_real, plane),
                     centres, d_map(run.D, run.cfg.loss, plane, centres), (du, dv), outlines, entries, u, v, surface,
                     path, named)
