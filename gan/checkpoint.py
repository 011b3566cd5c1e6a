"""Checkpoint files: one documented dict, written atomically, read with weights_only=True.

Full training checkpoint (RUN_DIR/checkpoint.pt), a dict with:
    format      "gan-lab/1"
    kind        "train"
    config      ModelConfig.to_dict()  (rebuilds both networks)
    args        the training flags (dict of plain values)
    g_ema, g, d state dicts; opt_g, opt_d optimizer state dicts
    step        global step (D updates done); epoch; pos (batches done in that epoch)
    data        {"source", "images", "skipped", "image_size"}
    metrics     {"seconds", "images_seen", ...}
Generator-only export (what the app ships): format, kind="generator", config, g_ema (fp16),
step, epoch, data, metrics, and optionally "directions" (attribute name -> latent direction).
"""
from __future__ import annotations

import os
import pickle
import tempfile
import warnings
from pathlib import Path

import torch

from gan.models import Generator, ModelConfig

FORMAT = "gan-lab/1"


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the message says why."""


# Keys every checkpoint of a kind must hold, and their types (load_checkpoint checks them).
REQUIRED = {
    "train": {"args": dict, "g_ema": dict, "g": dict, "d": dict, "opt_g": dict, "opt_d": dict,
              "step": int, "epoch": int, "pos": int, "metrics": dict},
    "generator": {"g_ema": dict, "step": int},
}


def save_atomic(obj: dict, path: str | Path) -> None:
    """torch.save to a temporary file in the same folder, fsync, then rename over path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: str | Path) -> None:
    """Delete the temporary files that save_atomic leaves behind when its process is killed mid-write."""
    for tmp in Path(folder).glob(".*.pt.*.tmp"):
        tmp.unlink(missing_ok=True)


def read_weights_only(path: str | Path, what: str = "checkpoint") -> object:
    """torch.load(path, weights_only=True) on the CPU; every way it can fail becomes one CheckpointError."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a {what} file")
    if not path.is_file():
        raise CheckpointError(f"{what} not found: {path}")
    try:
        with warnings.catch_warnings():  # torch warns about old pickle protocols before it refuses a file
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # the weights-only unpickler cannot tell garbage from a pickle carrying code
        raise CheckpointError(f"{path} is not a readable weights-only PyTorch file: it is corrupt, or it holds "
                              f"objects other than tensors and plain values (code, custom classes) and was "
                              f"refused unread") from None
    except Exception as e:  # a corrupt file can fail in any way while it is parsed
        detail = str(e).splitlines()[0] if str(e) else ""
        raise CheckpointError(f"{path} is not a readable PyTorch file (corrupt or truncated?): "
                              f"{type(e).__name__} {detail}".rstrip()) from None


def load_checkpoint(path: str | Path, kinds: tuple[str, ...] = ("train", "generator")) -> dict:
    """Load and validate a checkpoint dict with weights_only=True; CheckpointError on anything wrong."""
    ckpt = read_weights_only(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a gan-lab checkpoint (expected format {FORMAT!r})")
    if ckpt.get("kind") not in kinds:
        raise CheckpointError(f"{path} is a {ckpt.get('kind')!r} checkpoint; expected one of {kinds}")
    for key, kind in REQUIRED[ckpt["kind"]].items():
        if not isinstance(ckpt.get(key), kind):
            raise CheckpointError(f"{path} is damaged: its {key!r} is missing or not a {kind.__name__}")
    try:
        ckpt["model_config"] = ModelConfig(**ckpt["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path} has an invalid model config: {e}") from None
    return ckpt


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> tuple[Generator, dict]:
    """The EMA generator of a train or generator checkpoint, in eval mode, float32, plus the checkpoint dict.

    Weights are kept channels-last: oneDNN's convolutions run about 1.5x faster so on the CPU.
    """
    ckpt = load_checkpoint(path)
    g = Generator(ckpt["model_config"])
    try:
        g.load_state_dict({k: v.float() for k, v in ckpt["g_ema"].items()})
    except (KeyError, RuntimeError, AttributeError) as e:
        raise CheckpointError(f"{path}: generator weights do not match its config: "
                              f"{str(e).splitlines()[0]}") from None
    return g.to(device, memory_format=torch.channels_last).eval(), ckpt


def export_generator(ckpt: dict, path: str | Path, extra: dict | None = None) -> None:
    """Write the small generator-only file (fp16 EMA weights) the app loads."""
    small = {
        "format": FORMAT, "kind": "generator", "config": ckpt["config"],
        "g_ema": {k: v.half() if v.is_floating_point() else v for k, v in ckpt["g_ema"].items()},
        "step": ckpt["step"], "epoch": ckpt.get("epoch", 0),
        "data": ckpt.get("data", {}), "metrics": ckpt.get("metrics", {}),
    }
    save_atomic({**small, **(extra or {})}, path)
