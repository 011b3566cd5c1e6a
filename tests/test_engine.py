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
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT, TINY_MODEL
import gan.sample
from gan import attributes, evaluate, train
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


@torch.no_grad()
def test_forward_gives_the_first_half_to_the_short_branch_and_the_second_to_the_long():
    """With one branch silenced, the block's output follows one half of the input channels and ignores the other."""
    block = CSPup(8, 4).eval()
    x = torch.randn(1, 8, 4, 4)
    first, second = x.clone(), x.clone()
    first[:, :4] += 1.0
    second[:, 4:] += 1.0
    short_weight = block.short.weight.clone()
    block.short.weight.zero_()  # only the long branch speaks
    assert torch.allclose(block(x), block(first)) and not torch.allclose(block(x), block(second))
    block.short.weight.copy_(short_weight)
    block.long[-1].weight.zero_()  # only the short branch speaks
    assert torch.allclose(block(x), block(second)) and not torch.allclose(block(x), block(first))


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
    logs: list[str] = []
    assert len(load_dataset(tmp_path, 8, cache=False, log=logs.append).images) == 2
    assert any("official train split (2 images)" in line for line in logs)


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


def assert_same_weights(a: dict, b: dict) -> None:
    for name in ("g", "d", "g_ema"):
        for k in a[name]:
            torch.testing.assert_close(a[name][k], b[name][k], msg=f"{name}.{k}")


@pytest.mark.parametrize("stop", [3, 6])  # mid-epoch, and right at the end of the first epoch (6 batches)
def test_resume_continues_exactly(image_folder, tmp_path, stop):
    """`stop` steps + resume to 8 gives the same weights, epoch and log as 8 steps straight."""
    data = ["--data", str(image_folder)]
    assert run_train(*data, "--out", str(tmp_path / "straight"), "--max-steps", "8") == 0
    split = tmp_path / "split"
    assert run_train(*data, "--out", str(split), "--max-steps", str(stop)) == 0
    with open(split / "losses.csv", "a") as f:  # as if killed after logging past its last checkpoint
        f.write("99,0,396,1.0,0.1,0.1,0.5,0.5,10\n")
    (split / ".checkpoint.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    assert train.main(["--resume", str(split), "--max-steps", "8"]) == 0
    a, b = load_checkpoint(tmp_path / "straight" / "checkpoint.pt"), load_checkpoint(split / "checkpoint.pt")
    assert (b["step"], b["epoch"], b["pos"]) == (a["step"], a["epoch"], a["pos"]) == (8, 1, 2)
    assert_same_weights(a, b)
    assert [int(r["step"]) for r in csv.DictReader(open(split / "losses.csv"))] == list(range(1, 9))
    assert not list(split.glob("*.tmp"))


def test_resume_with_a_new_kind_of_limit_extends_the_run(image_folder, tmp_path):
    out = tmp_path / "run"
    assert run_train("--data", str(image_folder), "--out", str(out), "--max-steps", "2") == 0
    assert train.main(["--resume", str(out), "--epochs", "1"]) == 0  # the saved --max-steps 2 no longer applies
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 6


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


def torchrun(*args: str) -> None:
    """A 2-process gloo run of gan.train on the CPU."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                             "-m", "gan.train", *args, "--device", "cpu"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_process_gloo_ddp_run_and_exact_resume(image_folder, tmp_path):
    data = [*TINY_MODEL, "--data", str(image_folder)]
    torchrun(*data, "--out", str(tmp_path / "straight"), "--max-steps", "4")
    ckpt = load_checkpoint(tmp_path / "straight" / "checkpoint.pt")
    assert ckpt["step"] == 4 and ckpt["metrics"]["images_seen"] == 4 * 4 * 2
    torchrun(*data, "--out", str(tmp_path / "split"), "--max-steps", "2")
    torchrun("--resume", str(tmp_path / "split"), "--max-steps", "4")
    assert_same_weights(ckpt, load_checkpoint(tmp_path / "split" / "checkpoint.pt"))


# ---- checkpoints ------------------------------------------------------------------------------
class Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def bad_file(tmp_path: Path, good: Path, kind: str) -> Path:
    """An unusable checkpoint file of one kind, made from a good file, as RUN_DIR/checkpoint.pt of its own folder."""
    path = tmp_path / "bad" / kind / "checkpoint.pt"
    path.parent.mkdir(parents=True)
    if kind == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind in ("garbage", "empty"):
        path.write_bytes(b"\x00\x01 not a checkpoint" if kind == "garbage" else b"")
    elif kind == "foreign":
        torch.save({"state_dict": {"w": torch.zeros(2)}}, path)
    elif kind == "code":
        with open(path, "wb") as f:
            pickle.dump({"format": "gan-lab/1", "payload": Evil()}, f)
    elif kind == "folder":
        path.mkdir()
    elif kind in ("bad_config", "damaged"):  # readable gan-lab dicts with impossible contents
        ckpt = torch.load(good, weights_only=True)
        bad = {**ckpt, "config": {**ckpt["config"], "latent": -1}} if kind == "bad_config" else \
            {k: v for k, v in ckpt.items() if k != "args"}
        torch.save(bad, path)
    return path  # "missing": nothing written


@pytest.fixture
def trained(image_folder, tmp_path) -> Path:
    out = tmp_path / "run"
    assert run_train("--data", str(image_folder), "--out", str(out), "--max-steps", "1") == 0
    return out


def cli_error(command: Callable[[], int | None], capsys) -> str:
    """What a CLI printed when it refused its input: it must exit non-zero with one `error:` line."""
    try:
        code = command()
    except SystemExit as e:  # argparse-style exits: SystemExit("error: ...")
        code, message = 1, str(e.code)
    else:
        message = capsys.readouterr().err
    assert code != 0 and message.startswith("error: ") and "Traceback" not in message, message
    return message


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty", "foreign", "code", "missing", "folder",
                                  "bad_config", "damaged"])
def test_bad_checkpoints_give_one_clear_error_in_every_cli(trained, tmp_path, kind, capsys, monkeypatch):
    path = bad_file(tmp_path, trained / "checkpoint.pt", kind)
    classifier = str(ROOT / "checkpoints" / "attributes.pt")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    cli_error(lambda: sample_main(["--checkpoint", str(path), "--grid", str(tmp_path / "g.png")]), capsys)
    cli_error(lambda: train.main(["--resume", str(path.parent)]), capsys)
    cli_error(lambda: evaluate.main(["--checkpoint", str(path), "--data", str(tmp_path), "--classifier", classifier]),
              capsys)
    cli_error(lambda: attributes.main(["fit-directions", "--checkpoint", str(path), "--classifier", classifier]), capsys)
    if kind == "code":
        assert "refused unread" in cli_error(lambda: sample_main(["--checkpoint", str(path), "--out", "x"]), capsys)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty", "code", "folder"])
def test_bad_classifier_files_give_one_clear_error(trained, tmp_path, kind, capsys):
    path = bad_file(tmp_path, ROOT / "checkpoints" / "attributes.pt", kind)
    generator = str(trained / "checkpoint.pt")
    cli_error(lambda: evaluate.main(["--checkpoint", generator, "--data", str(tmp_path), "--classifier", str(path)]),
              capsys)
    cli_error(lambda: attributes.main(["fit-directions", "--checkpoint", generator, "--classifier", str(path)]), capsys)


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


def test_a_run_folder_in_use_by_another_training_is_refused(image_folder, tmp_path, capsys):
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "run"
    assert run_train("--data", str(image_folder), "--out", str(out), "--max-steps", "1") == 0
    with open(out / ".lock", "w") as held:  # as a second process training this run would hold it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert run_train("--resume", str(out), "--max-steps", "2") == 2
        assert "in use by another gan.train process" in capsys.readouterr().err
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 1
    assert run_train("--resume", str(out), "--max-steps", "2") == 0
