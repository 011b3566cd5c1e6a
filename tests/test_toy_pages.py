"""The toy-GAN pages in AppTest: Basis transforms, and Weight recovery started, stepped, paused, finished, diverged."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT
from gan.toy.model import PRESETS, preset_entries

BASIS = str(ROOT / "pages" / "1_Basis_transforms.py")
RECOVERY = str(ROOT / "pages" / "2_Weight_recovery.py")


def run_page(path: str) -> AppTest:
    at = AppTest.from_file(path, default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def steps_taken(at: AppTest) -> int:
    return at.session_state["toy_run"].step_count


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

def test_recovery_page_steps_starts_pauses_and_resets():
    at = run_page(RECOVERY)
    assert "Press Start" in at.info[0].value
    ok(button(at, "Step").click().run())
    assert steps_taken(at) == 1
    ok(button(at, "Start").click().run())
    for _ in range(3):  # each run is one live update: a chunk of training, then the charts
        ok(at.run())
    assert steps_taken(at) > 1
    assert at.session_state["toy_running"]
    (chart,) = at.get("vega_lite_chart")  # one spec: losses, D, four entries, gradient, error
    assert sum(len(row["hconcat"]) for row in json.loads(chart.proto.spec)["vconcat"]) == 8
    ok(button(at, "Pause").click().run())
    assert not at.session_state["toy_running"]
    assert at.get("download_button")  # the results show when paused
    ok(button(at, "Reset").click().run())
    assert steps_taken(at) == 0


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
        if not at.session_state["toy_running"]:
            break
        ok(at.run())
    assert steps_taken(at) == 6 and not at.session_state["toy_running"]
    assert button(at, "Start").disabled
    run = at.session_state["toy_run"]
    assert run.cfg.target[0] == 0.5 and run.cfg.init[1] == 1.0 and run.cfg.regime == "generator"
    assert run.cfg.g_opt == "sgd" and run.cfg.ema == 0.5
    assert any("Symmetric error" in m.value for m in at.markdown)
    assert any("the running average" in m.value for m in at.markdown)
    assert at.get("download_button")


def test_changing_settings_mid_run_asks_for_a_reset():
    at = run_page(RECOVERY)
    ok(button(at, "Step").click().run())
    ok(at.number_input(key="seed").set_value(5).run())
    assert "press Reset" in at.info[0].value
    ok(button(at, "Reset").click().run())
    assert at.session_state["toy_run"].cfg.seed == 5


def test_a_diverging_run_stops_with_a_message_not_a_traceback():
    at = run_page(RECOVERY)
    at.selectbox(key="d_opt").set_value("sgd")
    at.number_input(key="lr_d").set_value(1000.0).run()
    button(at, "Start").click().run()
    for _ in range(5):
        if not at.session_state["toy_running"]:
            break
        at.run()
    assert not at.exception, at.exception
    assert not at.session_state["toy_running"]
    assert "training diverged" in at.error[0].value


def test_a_nearly_singular_target_is_explained_on_the_page():
    at = run_page(RECOVERY)
    assert not at.warning  # the report's target is well conditioned
    for i, v in enumerate((0.25, 0.1, 0.4, 0.15)):  # sigma2/sigma1 ~ 0.02
        at.slider(key=f"w{i}").set_value(v)
    ok(at.run())
    assert len(at.warning) == 1 and "nearly singular" in at.warning[0].value
