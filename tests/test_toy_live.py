"""A page session's toy run: slow motion, settings followed before and after the first step, divergence, the scene."""
import math
import threading
import time
from dataclasses import replace

import torch

from gan.toy.live import POINTS, SURFACE_NOISE, Every, LiveRun
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


def test_the_data_view_keeps_its_box_all_run_long_around_the_real_and_the_initial_samples():
    live = LiveRun(ToyConfig())
    before = live.scene(None, (0, 1))
    for _ in range(20):
        live.iteration()
    after = live.scene(None, (0, 1))
    assert after.frame == before.frame and torch.equal(after.centres, before.centres)  # D's map on the same cells
    u0, u1, v0, v1 = before.frame
    for points in (before.real, before.fake):  # the real samples and G_A0's lie inside
        assert (points[:, 0] > u0).all() and (points[:, 0] < u1).all()
        assert (points[:, 1] > v0).all() and (points[:, 1] < v1).all()
    assert live.scene((0, 1), (0, 1)).frame != before.frame  # another plane, its own box
    live.reset(live.run.cfg)
    assert live.frames == {}  # a new run, a new box


def test_every_makes_a_value_afresh_about_every_so_many_seconds_of_updates_or_when_told():
    made = []

    def make() -> int:
        made.append(1)
        return len(made)

    every = Every(0.3)
    values = [every.get(make, interval=0.1) for _ in range(7)]  # every 3rd update
    assert values == [1, 1, 1, 2, 2, 2, 3] and every.made == 3
    assert every.get(make, interval=0.1, fresh=True) == 4
    assert every.get(lambda: 4, interval=0.1, fresh=True) == 4 and every.made == 4  # the same value: nothing new made
    assert [every.get(make, interval=0.5) for _ in range(2)] == [5, 6]  # updates further apart than that: every one


def test_a_rerun_that_starts_while_the_last_run_still_trains_waits_for_it():
    """Streamlit's fast reruns start a widget's rerun on a new thread while the old run may still be in its training
    slice: the page's steps, settings and drawing on the two threads must take turns, not interleave."""
    live = LiveRun(ToyConfig())
    live.start()
    failures: list[BaseException] = []

    def old_run() -> None:
        try:
            live.advance(seconds=1.0)
        except BaseException as e:  # noqa: BLE001 (reported below)
            failures.append(e)

    thread = threading.Thread(target=old_run)
    thread.start()
    while live.run.step_count < 3:  # the old run is in the middle of its slice
        time.sleep(0.001)
    for _ in range(5):  # the new run: buttons and a setting changed mid-run
        live.d_step()
        live.configure(replace(live.run.cfg, lr_g=live.run.cfg.lr_g * 1.01))
        live.g_step()
        live.scene(None, (0, 1))
    thread.join()
    assert failures == []
    run = live.run
    # each lone D step and G step is one of the steps; every other step did one of each: none was torn in two
    assert run.d_updates == run.g_updates == run.step_count - 5 and len(run.history) == run.step_count


def test_the_loss_surface_averages_over_a_stratified_noise_set_fixed_by_the_seed():
    """Quasi-random (scrambled Sobol): any 16 of its points cover each coordinate's 16 equal strata once each, which
    random draws almost never do; so the surface comes closer to G's expected loss than as many random vectors."""
    live = LiveRun(ToyConfig(n=3))
    z = live.z_surface
    assert z.shape == (SURFACE_NOISE, 8) and SURFACE_NOISE >= 16
    strata = (z[:16] * 16).floor().T
    assert all(sorted(row.tolist()) == list(range(16)) for row in strata)
    assert torch.equal(LiveRun(ToyConfig(n=3)).z_surface, z)
    assert not torch.equal(LiveRun(ToyConfig(n=3, seed=1)).z_surface, z)
