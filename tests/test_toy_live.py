"""A page session's toy run: slow motion, settings followed before and after the first step, divergence, the scene."""
import math
import time
from dataclasses import replace

import torch

from gan.toy.live import POINTS, LiveRun
from gan.toy.training import ToyConfig


def test_slow_motion_takes_the_iterations_due_since_the_last_update():
    live = LiveRun(ToyConfig())
    live.speed = 10.0
    live.start()
    live.last = time.monotonic() - 0.55  # 5.5 iterations due
    live.advance(seconds=math.inf)
    assert live.run.step_count == 5 and 0.45 < live.owed < 0.6  # the half iteration waits for the next update
    live.last = time.monotonic() - 5.0  # a long pause (a hidden tab) does not pile up more than a second's worth
    live.advance(seconds=math.inf)
    assert live.run.step_count == 15


def test_full_speed_trains_for_the_seconds_it_is_given():
    live = LiveRun(ToyConfig())
    live.start()
    live.advance(seconds=0.0)
    assert live.run.step_count == 0
    live.advance(seconds=0.3)
    assert live.run.step_count > 5 and live.running


def test_before_the_first_step_any_setting_is_followed_and_after_it_only_the_live_ones():
    live = LiveRun(ToyConfig())
    assert live.configure(replace(live.run.cfg, seed=3, lr_g=0.05)) is None
    assert live.run.cfg.seed == 3 and live.run.changes == []  # a new run, nothing to mark
    live.iteration()
    note = live.configure(replace(live.run.cfg, n=2, k_g=2))
    assert "n changed" in note and "Reset" in note
    assert live.run.cfg.n == 3 and live.run.cfg.k_g == 2 and live.run.changes[0]["label"] == "k_g 1 → 2"


def test_a_diverging_run_stops_with_its_message():
    live = LiveRun(ToyConfig(d_opt="sgd", lr_d=1e3))
    live.start()
    for _ in range(20):
        live.advance(seconds=0.2)
    assert not live.running and "training diverged" in live.message


def test_the_scene_follows_the_run():
    live = LiveRun(ToyConfig(n=1))
    before = live.scene(None, (0, 3))
    for _ in range(5):
        live.g_step()
    after = live.scene(None, (0, 3))
    assert before.real.shape == after.fake.shape == (POINTS, 2)
    assert torch.equal(before.real, after.real)  # the same real samples all run long
    assert not torch.equal(before.fake, after.fake)  # G moved
    assert set(after.outlines) == {"G_A", "G_W (real)"}
    assert len(after.path) == 1 + 5 + 1 and torch.allclose(after.path[-1], live.run.A.detach().flatten()[[0, 3]])
    assert [name for name, _, _ in after.equivalents] == ["W", "W, columns swapped"]
