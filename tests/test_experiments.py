"""The report's experiments: the named set covers every knob, runs resume and skip, results summarize."""
from __future__ import annotations

import builtins
import json
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from conftest import ROOT, TINY_MODEL, make_image_folder, page_test
from gan import experiment_results, experiments, sweep
from gan.checkpoint import load_checkpoint
from gan.experiment_results import verdict


def parsed(name: str):
    return sweep.parsed_flags(experiments.BY_NAME[name], 32)


BASE = parsed("baseline")

# Each knob of the report: how a run's flags show that it turned it, against the baseline.
REPORT_KNOBS = {
    "lower learning rate for D": lambda a: a.lr_d < BASE.lr_d,
    "higher learning rate for G": lambda a: a.lr_g > BASE.lr_g,
    "weight decay on D": lambda a: a.wd_d > BASE.wd_d,
    "weight decay on G": lambda a: a.wd_g > BASE.wd_g,
    "SGD for D": lambda a: a.d_optim == "sgd" != BASE.d_optim,
    "G trained 2 times per D step": lambda a: a.g_steps == 2,
    "G trained 5 times per D step": lambda a: a.g_steps == 5,
    "Tanh in G": lambda a: a.g_act == "tanh" != BASE.g_act,
    "another latent size": lambda a: a.latent != BASE.latent,
}


@pytest.mark.parametrize("knob", REPORT_KNOBS)
def test_every_knob_of_the_report_has_an_experiment(knob):
    turned = [e.name for e in experiments.EXPERIMENTS if e.name != "baseline" and REPORT_KNOBS[knob](parsed(e.name))]
    assert turned, f"no experiment changes {knob}"


def test_the_set_holds_the_baseline_the_preset_and_known_failures():
    assert len(experiments.EXPERIMENTS) >= 12
    assert parsed("report-preset").lr_g == 4e-4 and parsed("report-preset").g_act == "tanh"
    hinge = parsed("hinge-sn-b256")
    assert (hinge.loss, hinge.d_norm, hinge.batch_size) == ("hinge", "spectral", 256)
    assert parsed("no-ema").ema == 0
    assert parsed("small-batch").batch_size < BASE.batch_size
    small_64 = sweep.parsed_flags(experiments.BY_NAME["small-batch"], 64)
    assert small_64.batch_size < sweep.parsed_flags(experiments.BY_NAME["baseline"], 64).batch_size
    assert sweep.parsed_flags(experiments.BY_NAME["baseline"], 64).image_size == 64


def test_list_json_names_and_flags():
    out = subprocess.run([sys.executable, "-m", "gan.experiments", "list", "--json"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    rows = json.loads(out)
    assert [r["name"] for r in rows] == [e.name for e in experiments.EXPERIMENTS]
    assert all(isinstance(r["flags"], list) for r in rows)


def test_unknown_experiment_is_a_clear_error(capsys):
    assert experiments.main(["run", "nope", "--out", "x", "--data", "x", "--eval-data", "x"]) == 2
    assert "unknown experiment(s) nope" in capsys.readouterr().err


# ---------------------------------------------------------------------------------- run, resume, skip

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Experiments over the tiny test model (4 images a step) and a folder of 24 images to train and score on."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(experiments.BASE, 32, tuple(TINY_MODEL))
        mp.setenv("PYTHONPATH", str(ROOT))
        mp.setenv("GAN_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield make_image_folder(tmp_path_factory.mktemp("data") / "images")


def run(names, out, data, steps):
    return experiments.main(["run", *names, "--out", str(out), "--data", str(data), "--eval-data", str(data),
                             "--budget-images", str(4 * steps), "--eval-n", "24"])


@pytest.fixture(scope="module")
def swept(tiny, tmp_path_factory):
    """Two experiments trained for 3 steps and scored."""
    out = tmp_path_factory.mktemp("sweep") / "exp"
    assert run(["baseline", "no-ema"], out, tiny, 3) == 0
    return out


def test_run_scores_every_snapshot(swept):
    for name in ("baseline", "no-ema"):
        scores = json.loads((swept / name / "scores.json").read_text())
        assert scores["exit_code"] == 0 and scores["eval_n"] == 24
        steps = [s["step"] for s in scores["snapshots"]]
        assert steps == sorted(set(steps)) and steps[-1] == 3
        assert all((swept / name / s["grid"]).is_file() for s in scores["snapshots"])
        assert all(s["fd_attr"] > 0 and 0 < s["diversity"] for s in scores["snapshots"])


def test_a_rerun_skips_finished_experiments(swept, tiny, capsys):
    stamp = (swept / "baseline" / "scores.json").stat().st_mtime_ns
    assert run(["baseline", "no-ema"], swept, tiny, 3) == 0
    assert capsys.readouterr().out.count("finished before, skipped") == 2
    assert (swept / "baseline" / "scores.json").stat().st_mtime_ns == stamp


def test_a_cut_off_run_resumes_to_the_budget(tiny, tmp_path):
    out = tmp_path / "exp"
    args = experiments.get_args(["run", "baseline", "--out", str(out), "--data", str(tiny),
                                 "--eval-data", str(tiny), "--budget-images", "8"])
    cut = sweep.train_command(experiments.BY_NAME["baseline"], args, out / "baseline", threads=1)
    subprocess.run(cut, cwd=ROOT, check=True, capture_output=True)  # trained to step 2 and saved, then cut off
    assert load_checkpoint(out / "baseline" / "checkpoint.pt")["step"] == 2
    assert run(["baseline"], out, tiny, 5) == 0
    assert "resumed" in (out / "baseline" / "train.log").read_text()
    assert load_checkpoint(out / "baseline" / "checkpoint.pt")["step"] == 5
    assert json.loads((out / "baseline" / "scores.json").read_text())["snapshots"][-1]["step"] == 5


def test_summarize_writes_compact_results_the_page_reads(swept, tmp_path):
    shipped = tmp_path / "shipped"
    assert experiments.main(["summarize", str(swept), "--to", str(shipped)]) == 0
    results = experiment_results.load(shipped)
    assert {r["name"] for r in results} == {"baseline", "no-ema"}
    fds = [r["fd_attr"] for r in results]
    assert fds == sorted(fds)
    for r in results:
        assert {"name", "flags", "images_seen", "fd_attr", "diversity", "verdict", "image_size"} <= set(r)
        assert r["verdict"] in experiment_results.VERDICTS and r["image_size"] == 32 and r["images_seen"] == 12
        assert sum(f.stat().st_size for f in r["dir"].rglob("*") if f.is_file()) < 1_000_000
        assert [row["step"] for row in experiment_results.losses(r)] == [1, 2, 3]
    assert next(r for r in results if r["name"] == "no-ema")["flags"] == ["--ema", "0"]


def test_summarize_without_results_says_what_to_run(tmp_path, capsys):
    assert experiments.main(["summarize", str(tmp_path), "--to", str(tmp_path / "to")]) == 2
    assert "no scored experiment" in capsys.readouterr().err


# ---------------------------------------------------------------------------------- the verdict rule

def test_verdict_converged_when_fd_falls_and_faces_stay_varied():
    assert verdict([9.0, 5.0, 3.0, 2.0], [0.6, 0.8, 0.9, 0.95], False, 2.1)[0] == "converged"


def test_verdict_collapsed_when_diversity_drops():
    assert verdict([9.0, 5.0, 4.5, 4.4], [0.7, 0.8, 0.6, 0.4], False, 2.0)[0] == "collapsed"


def test_verdict_diverged_on_nan_or_when_fd_climbs_back():
    assert verdict([9.0, 5.0], [0.8, 0.9], True, 2.0)[0] == "diverged"
    assert verdict([9.0, 2.0, 6.0], [0.8, 0.9, 0.9], False, 2.0)[0] == "diverged"
    assert verdict([9.0, None], [0.8, None], False, 2.0)[0] == "diverged"


def test_verdict_slow_against_the_baseline():
    assert verdict([9.0, 6.0, 4.0], [0.8, 0.9, 0.9], False, 2.0)[0] == "slow"
    assert verdict([9.0, 6.0, 4.0], [0.8, 0.9, 0.9], False, None)[0] == "converged"


# ---------------------------------------------------------------------------------- TensorBoard

def test_tensorboard_writes_an_event_file(image_folder, tmp_path):
    pytest.importorskip("tensorboard")
    from gan.train import main
    assert main([*TINY_MODEL, "--data", str(image_folder), "--out", str(tmp_path / "run"), "--max-steps", "3",
                 "--log-every", "1", "--tensorboard"]) == 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard")).Reload()
    assert {"d_loss", "g_loss", "d_real", "d_fake", "img_per_s"} <= set(events.Tags()["scalars"])
    assert [e.step for e in events.Scalars("g_loss")] == [1, 2, 3]
    assert events.Tags()["images"] == ["samples"]


def test_tensorboard_missing_stops_before_training(image_folder, tmp_path, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("torch.utils.tensorboard") or name.startswith("tensorboard"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    monkeypatch.delitem(sys.modules, "torch.utils.tensorboard", raising=False)
    from gan.train import main
    assert main([*TINY_MODEL, "--data", str(image_folder), "--out", str(tmp_path / "run"), "--tensorboard"]) == 2
    assert "pip install tensorboard" in capsys.readouterr().err
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


# ---------------------------------------------------------------------------------- the page



def page(root, monkeypatch) -> AppTest:
    monkeypatch.setattr(experiment_results, "SHIPPED", root)
    at = page_test("4_Experiments.py").run()
    assert not at.exception, at.exception
    return at


def test_page_with_the_shipped_results_compares_and_moves_through_time(monkeypatch):
    shipped = experiment_results.load(experiment_results.SHIPPED)
    assert len(shipped) >= 12, "checkpoints/experiments should ship at least 12 experiments"
    at = page(experiment_results.SHIPPED, monkeypatch)
    ranked = at.dataframe[0].value
    assert list(ranked["experiment"]) == [r["name"] for r in shipped]
    assert set(ranked["verdict"]) <= set(experiment_results.VERDICTS)
    picked = at.multiselect[0].value
    assert 2 <= len(picked) <= 4 and "baseline" in picked and len(at.get("vega_lite_chart")) == 2
    last = [c for img in at.get("image") for c in img.captions]
    assert len(last) == len(picked) and all(f"{r['images_seen']:,} images" in c for r, c in
                                            zip([next(s for s in shipped if s["name"] == n) for n in picked], last))
    at.select_slider[0].set_value(0).run()
    assert not at.exception
    first = [c for img in at.get("image") for c in img.captions]
    assert len(first) == len(picked) and first != last


def test_page_with_one_experiment_picked_asks_for_two(monkeypatch):
    at = page(experiment_results.SHIPPED, monkeypatch)
    at.multiselect[0].set_value([at.multiselect[0].value[0]]).run()
    assert not at.exception and any("at least two" in i.value for i in at.info)


def test_page_without_results_says_how_to_make_them(tmp_path, monkeypatch):
    at = page(tmp_path, monkeypatch)
    assert any("python -m gan.experiments run" in i.value for i in at.info)
    assert not at.dataframe
