"""Crafted checkpoint files, as a student could upload them to a class server: each is refused cheaply.

Every file here is refused in every loader (generator, train resume, classifier) with one CheckpointError,
before a network of its claimed size is built; one child process loads them all and must stay under
the issue's budget for a file of up to 64 MB: 3 s and 1.5 GB each.
"""
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from conftest import ROOT, TINY_MODEL
from gan import train
from gan.attributes import load_classifier, load_directions
from gan.checkpoint import CheckpointError, load_checkpoint, load_generator
from gan.limits import cost
from gan.models import Generator, ModelConfig
from gan.sample import batch_size

GENERATOR = ROOT / "checkpoints" / "cspup64-lean" / "step_0018565.pt"
CLASSIFIER = ROOT / "checkpoints" / "attributes.pt"
pytestmark = pytest.mark.skipif(not GENERATOR.exists() or not CLASSIFIER.exists(), reason="no shipped checkpoints")


def rewritten(good: Path, change) -> dict:
    ckpt = torch.load(good, weights_only=True)
    change(ckpt)
    return ckpt


def set_weight(key: str, value: torch.Tensor):
    return lambda c: c["g_ema"].__setitem__(key, value)


def crafted_generators() -> dict[str, dict]:
    """Generator files that must be refused, by what is wrong with them."""
    stem = torch.load(GENERATOR, weights_only=True)["g_ema"]["stem.0.weight"]
    return {
        "huge_config": rewritten(GENERATOR, lambda c: c["config"].update(g_widths=[400_000, 128, 64, 32, 16])),
        "enormous_config": rewritten(GENERATOR, lambda c: c["config"].update(g_widths=[2**40, 128, 64, 32, 16])),
        "huge_bottleneck": rewritten(GENERATOR, lambda c: c["config"].update(bottleneck=1e9)),
        "mismatched_shape": rewritten(GENERATOR, set_weight("stem.0.weight", stem[:, :64].clone())),
        "zero_size_tensor": rewritten(GENERATOR, set_weight("stem.0.weight", torch.empty(0, 128))),
        "broadcast_giant": rewritten(GENERATOR, set_weight("stem.0.weight", torch.zeros(1).expand(10**6, 10**6))),
        "nan_weights": rewritten(GENERATOR, set_weight("stem.0.weight", torch.full_like(stem, float("nan")))),
        "missing_weight": rewritten(GENERATOR, lambda c: c["g_ema"].pop("head.0.weight")),
        "giant_directions": rewritten(GENERATOR, lambda c: c["directions"].update(
            vectors=torch.zeros(1).expand(10**6, 10**6))),
        "many_directions": rewritten(GENERATOR, lambda c: c["directions"].update(
            names=["Smiling"] * 100_000, vectors=torch.zeros(1).expand(100_000, 128),
            scores=torch.zeros(1).expand(100_000, c["directions"]["t"].shape[0]))),
    }


def save(obj: dict, path: Path) -> Path:
    torch.save(obj, path)
    return path


def compressed(good: Path, path: Path) -> Path:
    """The same records, deflated: torch.save never compresses, a zip bomb does."""
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    return path


@pytest.fixture(scope="module")
def crafted(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("crafted")
    files = {name: save(obj, folder / f"{name}.pt") for name, obj in crafted_generators().items()}
    files["compressed"] = compressed(GENERATOR, folder / "compressed.pt")
    legacy = folder / "legacy.pt"
    torch.save({"format": "gan-lab/1", "kind": "generator"}, legacy, _use_new_zipfile_serialization=False)
    files["legacy"] = legacy
    one = torch.zeros(1)
    with zipfile.ZipFile(folder / "many_records.pt", "w") as z:  # a directory slow to parse
        for i in range(40_000):
            z.writestr(f"archive/data/{i}", b"")
    files["many_records"] = folder / "many_records.pt"
    files["huge_pickle"] = save({"format": "gan-lab/1", "kind": "generator",
                                 "junk": [one[:1] for _ in range(100_000)]}, folder / "huge_pickle.pt")
    return files


def test_the_shipped_files_pass_every_check():
    g, ckpt = load_generator(GENERATOR)
    assert load_directions(ckpt)["vectors"].shape == (len(ckpt["directions"]["names"]), g.cfg.latent)
    assert load_classifier(CLASSIFIER).names


def test_every_crafted_generator_is_refused_with_a_reason(crafted):
    reasons = {}
    for name, path in crafted.items():
        with pytest.raises(CheckpointError) as e:
            ckpt = load_checkpoint(path)
            load_directions(ckpt)  # what the Faces page does next
        reasons[name] = str(e.value)
    assert "limits are 50 M parameters" in reasons["huge_config"]
    assert "limits are 50 M parameters" in reasons["enormous_config"]
    assert "needs (16384, 128)" in reasons["mismatched_shape"] and "(0, 128)" in reasons["zero_size_tensor"]
    assert "(1000000, 1000000)" in reasons["broadcast_giant"]
    assert "NaN" in reasons["nan_weights"]  # our call: a diverged run's faces are blank, so it is refused
    assert "compressed records" in reasons["compressed"]
    assert "refused unread" in reasons["legacy"] and "pickle record" in reasons["huge_pickle"]
    assert "bytes of zip records" in reasons["many_records"]


def test_uploaded_bytes_are_checked_like_files(crafted):
    with pytest.raises(CheckpointError, match="the uploaded file cannot be used"):
        load_generator(crafted["huge_config"].read_bytes())
    g, _ = load_generator(GENERATOR.read_bytes())
    assert g(torch.zeros(1, g.cfg.latent)).shape == (1, 3, 64, 64)


def test_crafted_classifiers_are_refused(tmp_path):
    good = torch.load(CLASSIFIER, weights_only=True)
    huge = {**good, "arch": {**good["arch"], "widths": [32, 64, 128, 10**7]}}
    big_image = {**good, "arch": {**good["arch"], "image_size": 10**6}}
    weights = good["state_dict"]
    nan = {**good, "state_dict": {**weights, "head.weight": weights["head.weight"] * float("nan")}}
    for obj in (huge, big_image, nan):
        with pytest.raises(CheckpointError, match="cannot be used"):
            load_classifier(save(obj, tmp_path / "c.pt"))


def test_crafted_train_checkpoints_are_refused_before_resuming(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(["--data", str(image_folder), "--out", str(out), "--max-steps", "1", *TINY_MODEL]) == 0
    good = torch.load(out / "checkpoint.pt", weights_only=True)
    wide_args = {**good, "args": {**good["args"], "g_widths": [400_000, 16, 8, 8]}}
    opt = good["opt_g"]
    bad_opt = {**good, "opt_g": {**opt, "state": {**opt["state"], 0: {**opt["state"][0],
                                                                      "exp_avg": torch.zeros(1).expand(10**6, 10**6)}}}}
    for bad in (wide_args, bad_opt):
        save(bad, out / "checkpoint.pt")
        with pytest.raises(CheckpointError, match="cannot be used"):
            load_checkpoint(out / "checkpoint.pt", kinds=("train",))
        assert train.main(["--resume", str(out)]) == 2
        assert "cannot be used" in capsys.readouterr().err


MEASURE = """
import json, resource, sys, time
from gan.checkpoint import CheckpointError, load_generator
load_generator(sys.argv[1])  # a good file first: imports and first-use costs are not the crafted files'
results = {}
for path in sys.argv[2:]:
    start = time.perf_counter()
    try:
        load_generator(path)
        outcome = "loaded"
    except CheckpointError:
        outcome = "refused"
    results[path] = {"outcome": outcome, "seconds": time.perf_counter() - start}
print(json.dumps({"results": results, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def test_crafted_files_are_refused_within_the_budget(crafted):
    """One process loads them all in turn: its peak memory bounds every single one of them."""
    assert all(p.stat().st_size <= 64 * 2**20 for p in crafted.values())
    out = subprocess.run([sys.executable, "-c", MEASURE, str(GENERATOR), *map(str, crafted.values())],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    report = json.loads(out.stdout.splitlines()[-1])
    print(json.dumps(report, indent=1))
    assert {r["outcome"] for r in report["results"].values()} == {"refused"}
    assert report["peak_rss_mb"] < 1500
    assert max(r["seconds"] for r in report["results"].values()) < 3


@pytest.mark.parametrize("widths, bottleneck", [((512, 256, 128, 64, 32), 0.5), ((1024, 128, 64, 32, 16), 0.25),
                                                ((16, 16, 16, 16, 244), 0.5), ((16, 16, 16, 8, 8), 30.0)])
def test_sampling_passes_keep_every_layer_output_small(widths, bottleneck):
    """However wide an allowed generator is, no layer output of one forward pass exceeds 2**24 elements."""
    cfg = ModelConfig(g_widths=widths, bottleneck=bottleneck)
    with torch.device("meta"):
        g = Generator(cfg)
    widest = cost(g, torch.empty(1, cfg.latent, device="meta")).activation
    assert widest * batch_size(cfg) <= 2**24 and batch_size(cfg) >= 1
    assert 2 * widest * batch_size(cfg) > 2**24 or batch_size(cfg) == 256  # and passes are not needlessly small
