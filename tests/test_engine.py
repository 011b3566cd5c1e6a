"""The CSPup engine: models, data pipeline, training runs, checkpoints, sampling."""
import csv
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT, TINY_MODEL
import gan.sample
from gan import train
from gan.checkpoint import CheckpointError, load_checkpoint, load_generator, save_atomic
from gan.data import DataError, batches, find_images, load_dataset
from gan.models import CSPup, Discriminator, Generator, ModelConfig, default_widths
from gan.sample import gif_bytes, interpolate, main as sample_main, shipped_scores


# ---- models -----------------------------------------------------------------------------------
@pytest.mark.parametrize("act", ["leakyrelu", "tanh"])
def test_cspup_doubles_resolution(act):
    block = CSPup(16, 8, act)
    assert block(torch.randn(3, 16, 5, 7)).shape == (3, 8, 10, 14)


def test_gradient_reaches_both_branches():
    block = CSPup(8, 4)
    block(torch.randn(2, 8, 4, 4)).square().mean().backward()
    assert block.short.weight.grad.abs().sum() > 0
    assert all(m.weight.grad.abs().sum() > 0 for m in block.long if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d))


def test_branches_read_different_halves():
    """The short branch sees only the first half of the channels, the long branch only the second."""
    block = CSPup(8, 4).eval()
    x = torch.randn(1, 8, 4, 4)
    y = x.clone()
    y[:, :4] += 1.0  # change the first half only
    short_x, short_y = block.short(x[:, :4]), block.short(y[:, :4])
    long_x, long_y = block.long(x[:, 4:]), block.long(y[:, 4:])
    assert not torch.allclose(short_x, short_y) and torch.allclose(long_x, long_y)


@pytest.mark.parametrize("size", [32, 64, 128])
def test_generator_and_discriminator_shapes(size):
    g_w, d_w = default_widths(size)
    cfg = ModelConfig(latent=32, image_size=size, g_widths=tuple(2 * max(1, w // 16) for w in g_w), d_widths=tuple(w // 8 for w in d_w))
    x = Generator(cfg)(torch.randn(2, 32))
    assert x.shape == (2, 3, size, size) and x.abs().max() <= 1.0
    assert Discriminator(cfg)(x).shape == (2,)


@pytest.mark.parametrize("norm", ["batch", "spectral", "none"])
def test_discriminator_norms(norm):
    cfg = ModelConfig(image_size=32, g_widths=(32, 16, 8, 8), d_widths=(8, 16, 32), d_norm=norm)
    assert Discriminator(cfg)(torch.randn(2, 3, 32, 32)).shape == (2,)


def test_config_rejects_wrong_widths():
    with pytest.raises(ValueError, match="g_widths"):
        ModelConfig(image_size=64, g_widths=(8, 8))


# ---- data -------------------------------------------------------------------------------------
def test_folder_is_searched_recursively_and_corrupt_images_are_skipped(image_folder, capsys):
    (image_folder / "part0" / "broken.jpg").write_bytes(b"this is not a jpeg")
    data = load_dataset(image_folder, 32)
    assert data.images.shape == (24, 3, 32, 32) and data.images.dtype == torch.uint8
    assert data.skipped == 1
    assert "skipped 1 unreadable" in capsys.readouterr().out


def test_decoded_images_are_cached(image_folder, isolated_cache):
    first = load_dataset(image_folder, 32)
    assert list(isolated_cache.glob("*.npy"))
    second = load_dataset(image_folder, 32)
    assert torch.equal(first.images, second.images)


def test_celeba_root_uses_the_official_train_split(tmp_path):
    root = tmp_path / "celeba" / "img_align_celeba"
    root.mkdir(parents=True)
    for i in range(1, 5):
        Image.new("RGB", (8, 8)).save(root / f"{i:06d}.jpg")
    (tmp_path / "celeba" / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg 1\n000003.jpg 0\n000004.jpg 2\n")
    assert [p.name for p in find_images(tmp_path)] == ["000001.jpg", "000003.jpg"]


@pytest.mark.parametrize("make", ["missing", "empty", "no_images"])
def test_unusable_folders_give_one_clear_error(tmp_path, make):
    folder = tmp_path / "data"
    if make != "missing":
        folder.mkdir()
    if make == "no_images":
        (folder / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="not found|no images"):
        find_images(folder)


def test_batches_flip_shard_and_scale():
    images = torch.arange(8, dtype=torch.uint8).view(8, 1, 1, 1).expand(8, 3, 2, 2).contiguous() * 30
    seen = set()
    for rank in range(2):
        stream = batches(images, 2, seed=0, rank=rank, world=2)
        for _ in range(2):
            epoch, x = next(stream)
            assert epoch == 0 and x.shape == (2, 3, 2, 2) and -1 <= x.min() and x.max() <= 1
            seen.update(((x[:, 0, 0, 0] + 1) * 127.5 / 30).round().int().tolist())
    assert seen == set(range(8))  # the two ranks' shards cover the epoch without overlap


# ---- training ---------------------------------------------------------------------------------
def run_train(*args: str) -> int:
    return train.main([*TINY_MODEL, "--log-every", "1", "--snapshots", "0.5,1.0", *args])


def test_three_step_run_writes_checkpoint_grid_csv_and_snapshots(image_folder, tmp_path):
    out = tmp_path / "run"
    assert run_train("--data", str(image_folder), "--out", str(out), "--max-steps", "3") == 0
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt["step"] == 3 and ckpt["kind"] == "train" and ckpt["data"]["images"] == 24
    assert {"g", "g_ema", "d", "opt_g", "opt_d", "config", "args", "metrics"} <= ckpt.keys()
    assert (out / "samples" / "step_0000003.png").is_file()
    rows = list(csv.DictReader(open(out / "losses.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    snaps = sorted((out / "snapshots").glob("*.pt"))
    assert len(snaps) == 2
    g, meta = load_generator(snaps[-1])
    assert meta["kind"] == "generator" and g(torch.randn(2, 16)).shape == (2, 3, 32, 32)


def test_resume_continues_exactly(image_folder, tmp_path):
    """3 steps + resume to 5 gives the same weights as 5 steps straight."""
    data = ["--data", str(image_folder)]
    assert run_train(*data, "--out", str(tmp_path / "straight"), "--max-steps", "5") == 0
    assert run_train(*data, "--out", str(tmp_path / "split"), "--max-steps", "3") == 0
    assert train.main(["--resume", str(tmp_path / "split"), "--max-steps", "5"]) == 0
    a = load_checkpoint(tmp_path / "straight" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "split" / "checkpoint.pt")
    assert b["step"] == 5
    for name in ("g", "d", "g_ema"):
        for k in a[name]:
            torch.testing.assert_close(a[name][k], b[name][k], msg=f"{name}.{k}")
    steps = [int(r["step"]) for r in csv.DictReader(open(tmp_path / "split" / "losses.csv"))]
    assert steps == [1, 2, 3, 4, 5]


def test_report_preset_sets_the_reports_knobs(image_folder, tmp_path):
    args = train.get_args(["--preset", "report", "--data", str(image_folder), "--out", str(tmp_path), "--lr-g", "1e-3"])
    assert (args.lr_d, args.wd_d, args.epochs, args.latent, args.g_act) == (2e-4, 1e-4, 15, 200, "tanh")
    assert args.lr_g == 1e-3  # an explicit flag wins over the preset


@pytest.mark.parametrize("flags", [["--loss", "hinge", "--d-norm", "spectral"], ["--loss", "lsgan", "--d-optim", "sgd"],
                                   ["--g-steps", "2", "--g-act", "tanh", "--wd-d", "1e-4"]])
def test_report_knobs_train(image_folder, tmp_path, flags):
    assert run_train("--data", str(image_folder), "--out", str(tmp_path / "run"), "--max-steps", "2", *flags) == 0


def test_diverging_run_stops_with_a_clear_message(image_folder, tmp_path, capsys):
    code = run_train("--data", str(image_folder), "--out", str(tmp_path / "run"), "--max-steps", "20",
                     "--loss", "lsgan", "--d-optim", "sgd", "--lr-d", "1e30", "--lr-g", "1e30")
    out = capsys.readouterr().out
    assert code == 3 and "diverged" in out
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_empty_folder_is_a_clear_cli_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert run_train("--data", str(tmp_path / "empty"), "--out", str(tmp_path / "run")) == 2
    assert "no images" in capsys.readouterr().err


def test_ctrl_c_saves_before_exiting(image_folder, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "gan.train", *TINY_MODEL, "--data", str(image_folder),
                             "--out", str(out), "--max-steps", "100000", "--log-every", "1"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while not (out / "losses.csv").exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == 0, output
    assert load_checkpoint(out / "checkpoint.pt")["step"] >= 1


def test_two_process_gloo_ddp_run(image_folder, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                             "-m", "gan.train", *TINY_MODEL, "--data", str(image_folder), "--out", str(out),
                             "--max-steps", "3", "--device", "cpu"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    ckpt = load_checkpoint(out / "checkpoint.pt")
    assert ckpt["step"] == 3 and ckpt["metrics"]["images_seen"] == 3 * 4 * 2


# ---- checkpoints ------------------------------------------------------------------------------
class Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def bad_files(tmp_path: Path, good: Path) -> dict[str, Path]:
    files = {"truncated": tmp_path / "truncated.pt", "garbage": tmp_path / "garbage.pt",
             "foreign": tmp_path / "foreign.pt", "code": tmp_path / "code.pt", "missing": tmp_path / "nope.pt"}
    files["truncated"].write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    files["garbage"].write_bytes(b"\x00\x01 not a checkpoint")
    torch.save({"state_dict": {"w": torch.zeros(2)}}, files["foreign"])
    with open(files["code"], "wb") as f:
        pickle.dump({"format": "gan-lab/1", "payload": Evil()}, f)
    return files


@pytest.fixture
def trained(image_folder, tmp_path) -> Path:
    out = tmp_path / "run"
    assert run_train("--data", str(image_folder), "--out", str(out), "--max-steps", "1") == 0
    return out


@pytest.mark.parametrize("kind", ["truncated", "garbage", "foreign", "code", "missing"])
def test_bad_checkpoints_give_one_clear_error(trained, tmp_path, kind, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = bad_files(tmp_path, trained / "checkpoint.pt")[kind]
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert sample_main(["--checkpoint", str(path), "--grid", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert not (tmp_path / "PWNED").exists()


def test_resume_from_a_bad_checkpoint_is_a_clear_error(trained, capsys):
    (trained / "checkpoint.pt").write_bytes(b"garbage")
    assert train.main(["--resume", str(trained)]) == 2
    assert "error:" in capsys.readouterr().err


def test_atomic_save_never_leaves_a_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    save_atomic({"v": torch.ones(3)}, path)

    def crash(obj, f):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_atomic({"v": torch.zeros(3)}, path)
    assert torch.equal(torch.load(path, weights_only=True)["v"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


# ---- sampling ---------------------------------------------------------------------------------
def test_sample_cli_writes_pngs_grid_and_gif(trained, tmp_path):
    ckpt = str(trained / "checkpoint.pt")
    assert sample_main(["--checkpoint", ckpt, "--n", "5", "--seed", "1", "--out", str(tmp_path / "pngs"),
                        "--grid", str(tmp_path / "grid.png")]) == 0
    pngs = sorted((tmp_path / "pngs").glob("*.png"))
    assert len(pngs) == 5 and Image.open(pngs[0]).size == (32, 32)
    assert Image.open(tmp_path / "grid.png").size[0] > 32
    assert sample_main(["--checkpoint", ckpt, "--interpolate", "1", "2", "--steps", "4",
                        "--gif", str(tmp_path / "walk.gif")]) == 0
    assert Image.open(tmp_path / "walk.gif").format == "GIF"


def test_gif_plays_forth_and_back():
    frames = np.stack([np.full((8, 8, 3), 40 * i, np.uint8) for i in range(4)])
    gif = Image.open(io.BytesIO(gif_bytes(frames)))
    assert gif.n_frames == 6  # 4 frames forth, 2 back


def test_slerp_keeps_the_endpoints_and_the_radius():
    a, b = torch.randn(64), torch.randn(64)
    path = interpolate(a, b, 5, "slerp")
    torch.testing.assert_close(path[0], a)
    torch.testing.assert_close(path[-1], b)
    assert (path.norm(dim=1) > 0.9 * min(a.norm(), b.norm())).all()  # lerp would shrink the middle


def test_shipped_scores_read_metrics_json_and_never_raise(tmp_path, monkeypatch):
    monkeypatch.setattr(gan.sample, "CHECKPOINTS", tmp_path / "checkpoints")
    run = tmp_path / "checkpoints" / "run"
    run.mkdir(parents=True)
    (run / "step_0000001.pt").write_bytes(b"")
    metrics = tmp_path / "checkpoints" / "metrics.json"
    assert shipped_scores(run / "step_0000001.pt") is None  # no metrics.json
    metrics.write_text(json.dumps({"results": {
        "checkpoints/run/step_0000001.pt": {"FD_attr": 2.5, "diversity_ratio": 0.9},
        "real-vs-real: DIR": {"FD_attr": 0.4, "diversity_ratio": 1.0}}}))
    assert shipped_scores(run / "step_0000001.pt") == {"FD_attr": 2.5, "diversity_ratio": 0.9, "real_FD_attr": 0.4}
    assert shipped_scores(run / "step_0000002.pt") is None  # not measured
    metrics.write_text("{truncated")
    assert shipped_scores(run / "step_0000001.pt") is None
