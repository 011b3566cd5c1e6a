"""The toy-GAN pages in AppTest: Basis transforms, and Weight recovery started, stepped, retuned, finished, diverged."""
import json
import math

import pytest
import torch
from streamlit.testing.v1 import AppTest

from conftest import page_test
from gan.serving import LIVE_TRAINING
from gan.toy.live import CURVES_SECONDS
from gan.toy.model import PRESETS, preset_entries

BASIS, RECOVERY = "1_Basis_transforms.py", "2_Weight_recovery.py"


def run_page(path: str) -> AppTest:
    at = page_test(path).run()
    assert not at.exception, at.exception
    return at


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def live(at: AppTest):
    return at.session_state["toy"]


def steps_taken(at: AppTest) -> int:
    return live(at).run.step_count


def d_weights(at: AppTest) -> list:
    return [p.detach().clone() for p in live(at).run.D.parameters()]


def a_now(at: AppTest):
    return live(at).run.A.detach().clone()


# ------------------------------------------------------------------------------------------ Basis transforms

def test_basis_page_draws_every_preset_and_n():
    at = run_page(BASIS)
    assert len(at.get("image")) == 3  # basis small multiples, the matrix, one noise vector
    ok(at.slider(key="basis_n").set_value(1).run())
    for name in PRESETS:
        ok(at.selectbox(key="basis_preset").set_value(name).run())
        shown = tuple(at.session_state[f"basis_a{k}"] for k in ("00", "01", "10", "11"))
        assert shown == pytest.approx(preset_entries(name, 0))
    ok(at.slider(key="basis_a01").set_value(-1.5).run())
    ok(at.number_input(key="basis_noise_seed").set_value(3).run())


def test_random_preset_follows_its_seed():
    at = run_page(BASIS)
    at.selectbox(key="basis_preset").set_value("random").run()
    first = at.session_state["basis_a00"], at.session_state["basis_a11"]
    ok(at.number_input(key="basis_preset_seed").set_value(7).run())
    assert (at.session_state["basis_a00"], at.session_state["basis_a11"]) != first


# ------------------------------------------------------------------------------------------ Weight recovery

def test_recovery_page_starts_pauses_and_resets_with_every_view():
    at = run_page(RECOVERY)
    assert "Press Start" in at.info[0].value
    before = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert len(before) == 2 and len(at.get("graphviz_chart")) == 1  # the game, the curves (empty) and the model
    ok(button(at, "Start").click().run())
    for _ in range(3):  # each run is one live update: a chunk of training, then the views
        ok(at.run())
    assert steps_taken(at) > 1 and live(at).running
    game, curves = (json.loads(c.proto.spec) for c in at.get("vega_lite_chart"))
    assert [p["title"]["text"].split(":")[0] for p in game["hconcat"]] == [
        "The data", "G's loss over A[0,0] and A[0,1], against D as it is now"]
    assert game["config"]["aria"] is curves["config"]["aria"] is False  # no per-mark descriptions to build per update
    titles = [panel["title"]["text"] for row in curves["vconcat"] for panel in row["hconcat"]]
    assert len(titles) == 6 and titles[-1].startswith("Energy distance")  # losses, D, A, gradient, errors, distance
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    ok(at.run())
    assert steps_taken(at) > 1 and [c.proto.spec for c in at.get("vega_lite_chart")] == specs == before  # new data,
    # same specs, from before the first step on: the browser updates the charts in place instead of building them anew
    x = game["hconcat"][0]["layer"][0]["encoding"]["x"]["scale"]
    assert x["domain"] == list(live(at).frames[None][:2])  # the data view's box: fixed, the picture does not jump
    assert "mean D P(real)" in at.get("graphviz_chart")[0].proto.spec and "G's loss" in at.get("graphviz_chart")[0].proto.spec
    ok(button(at, "Pause").click().run())
    assert not live(at).running
    assert at.get("download_button")  # the results show when paused
    ok(button(at, "Reset").click().run())
    assert steps_taken(at) == 0


def test_while_it_trains_the_game_is_drawn_at_every_update_and_the_curves_at_every_few():
    at = run_page(RECOVERY)
    ok(button(at, "Start").click().run())
    games, histories = [], []
    for _ in range(math.ceil(CURVES_SECONDS / LIVE_TRAINING.fast) + 1):  # a lone session's updates in a second, and one
        ok(at.run())
        game, curves = at.get("vega_lite_chart")
        games.append(next(d.data.data for d in game.proto.datasets if d.name == "generated"))
        histories.append(next(d.data.data for d in curves.proto.datasets if d.name == "history"))
    assert live(at).running and len(set(games)) == len(games)  # G moved at every update, and the view followed
    assert 2 <= len(set(histories)) < len(histories)  # the curves: drawn afresh every few updates (once here, alone;
    # more often when other tests' sessions make a crowd), the same bytes in between
    ok(button(at, "Pause").click().run())
    assert at.get("vega_lite_chart")[1].proto.datasets != curves.proto.datasets  # paused: the curves as they are


def test_a_d_step_moves_d_and_not_a_and_a_g_step_moves_a_and_not_d():
    at = run_page(RECOVERY)
    A, D = a_now(at), d_weights(at)
    ok(button(at, "D step").click().run())
    assert steps_taken(at) == 1 and torch.equal(a_now(at), A)
    assert not all(torch.equal(x, y) for x, y in zip(d_weights(at), D))
    D = d_weights(at)
    ok(button(at, "G step").click().run())
    assert steps_taken(at) == 2 and not torch.equal(a_now(at), A)
    assert all(torch.equal(x, y) for x, y in zip(d_weights(at), D))
    assert any("1 D steps, 1 G steps" in m.value for m in at.markdown)


def test_an_iteration_takes_k_d_d_steps_then_k_g_g_steps():
    at = run_page(RECOVERY)
    at.number_input(key="k_d").set_value(3)
    ok(at.number_input(key="k_g").set_value(2).run())
    ok(button(at, "Iteration").click().run())
    record = live(at).run.history[-1]
    assert (record["d_updates"], record["g_updates"]) == (3, 2)
    assert live(at).run.opt_d.t == 3 and live(at).run.opt_g.t == 2  # the optimizers' own step counts


def test_a_learning_rate_changed_mid_run_is_used_from_the_next_step_without_a_reset():
    at = run_page(RECOVERY)
    at.selectbox(key="g_opt").set_value("sgd").run()
    ok(button(at, "G step").click().run())
    run = live(at).run
    ok(at.text_input(key="lr_g").set_value("0.04").run())
    assert live(at).run is run and run.opt_g.lr == 0.04 and steps_taken(at) == 1  # the same run, retuned
    assert run.changes == [dict(step=1, label="lr_g 0.01 → 0.04")]
    before = a_now(at)
    ok(button(at, "G step").click().run())
    assert not torch.equal(a_now(at), before)
    changes = next(d for d in at.get("vega_lite_chart")[1].proto.datasets if d.name == "changes")
    assert changes.data.data  # the change is drawn as a rule on every curve
    assert not at.info or "Reset" not in at.info[0].value


def test_settings_that_build_the_run_wait_for_reset_and_the_page_says_so():
    at = run_page(RECOVERY)
    ok(button(at, "Iteration").click().run())
    ok(at.number_input(key="seed").set_value(5).run())
    assert "the seed changed" in at.info[0].value and "Reset" in at.info[0].value
    assert live(at).run.cfg.seed == 0 and steps_taken(at) == 1
    ok(button(at, "Reset").click().run())
    assert live(at).run.cfg.seed == 5 and steps_taken(at) == 0


@pytest.mark.parametrize("text, message", [("0", "learning rates must be positive"),
                                           ("fast", "'fast' is not a number")])
def test_a_bad_learning_rate_gets_a_clear_message_and_the_run_keeps_its_settings(text, message):
    at = run_page(RECOVERY)
    ok(button(at, "Iteration").click().run())
    at.text_input(key="lr_d").set_value(text).run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value and "keeps its last good settings" in at.error[0].value
    assert live(at).run.cfg.lr_d == 7e-3
    button(at, "Iteration").click().run()
    assert not at.exception and steps_taken(at) == 2


def test_slow_motion_takes_the_iterations_due_and_updates_less_often():
    at = run_page(RECOVERY)
    ok(at.select_slider(key="speed").set_value("3/s").run())
    assert live(at).speed == 3.0 and live(at).interval(0.18) == pytest.approx(1 / 3)
    ok(button(at, "Start").click().run())
    ok(at.run())
    assert 0 <= steps_taken(at) <= 10  # about 3 a second of wall time, not as many as fit


def test_the_data_view_can_show_two_output_coordinates_and_any_pair_of_entries():
    at = run_page(RECOVERY)
    at.radio(key="plane").set_value("two output coordinates").run()
    at.number_input(key="coord_j").set_value(5)
    at.selectbox(key="surface").set_value((1, 3))
    ok(button(at, "Iteration").click().run())
    game = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    layer = game["hconcat"][0]["layer"][0]["encoding"]
    assert (layer["x"]["title"], layer["y"]["title"]) == ("output coordinate 0", "output coordinate 5")
    assert "A[0,1] and A[1,1]" in game["hconcat"][1]["title"]["text"]
    ok(at.slider(key="n").set_value(1).run())
    assert at.number_input(key="coord_j").value == 5  # n waits for Reset
    ok(button(at, "Reset").click().run())  # N = 2: coordinate 5 no longer exists
    assert at.number_input(key="coord_j").value == 1 and live(at).run.N == 2


def test_recovery_page_runs_to_the_end_and_shows_the_result():
    at = run_page(RECOVERY)
    at.slider(key="w0").set_value(0.5)
    at.radio(key="init_mode").set_value("set").run()
    at.slider(key="a1").set_value(1.0)
    at.selectbox(key="regime").set_value("generator").run()
    at.number_input(key="pretrain").set_value(2)
    at.selectbox(key="loss").set_value("lsq")
    at.selectbox(key="g_opt").set_value("sgd")
    at.number_input(key="steps").set_value(6)
    at.number_input(key="ema").set_value(0.5)
    ok(button(at, "Start").click().run())
    for _ in range(10):
        if not live(at).running:
            break
        ok(at.run())
    assert steps_taken(at) == 6 and not live(at).running
    assert button(at, "Start").disabled
    run = live(at).run
    assert run.cfg.target[0] == 0.5 and run.cfg.init[1] == 1.0 and run.cfg.regime == "generator"
    assert run.cfg.g_opt == "sgd" and run.cfg.ema == 0.5
    assert any("Symmetric error" in m.value for m in at.markdown)
    assert any("the running average" in m.value for m in at.markdown)
    assert at.get("download_button")


def test_a_diverging_run_stops_with_a_message_not_a_traceback():
    at = run_page(RECOVERY)
    at.selectbox(key="d_opt").set_value("sgd")
    at.text_input(key="lr_d").set_value("1000").run()
    button(at, "Start").click().run()
    for _ in range(5):
        if not live(at).running:
            break
        at.run()
    assert not live(at).running
    at.run()  # the update after the one that diverged reruns the whole page, which shows the message
    assert not at.exception, at.exception
    assert "training diverged" in at.error[0].value


def test_a_nearly_singular_target_is_explained_on_the_page():
    at = run_page(RECOVERY)
    assert not at.warning  # the report's target is well conditioned
    for i, v in enumerate((0.25, 0.1, 0.4, 0.15)):  # sigma2/sigma1 ~ 0.02
        at.slider(key=f"w{i}").set_value(v)
    ok(at.run())
    assert len(at.warning) == 1 and "nearly singular" in at.warning[0].value
