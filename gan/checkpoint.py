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

Files are untrusted (a class server loads students' uploads). Before torch.load, the file must be
torch.save's zip format with stored (uncompressed) records and a small pickle: no zip bombs, no
legacy pickles, no million-object pickles. After it, every network the file describes is built on
the meta device, capped and compared with the file's tensors (gan/limits.py) before any real weights
are made. A file of up to 64 MB is so refused or loaded in well under 3 s and 1.5 GB (bench/README.md).
"""
from __future__ import annotations

import io
import os
import pickle
import tempfile
import warnings
import zipfile
from pathlib import Path

import torch

from gan.i18n import _, number
from gan.limits import LimitError, check_tensors, on_meta, what_label
from gan.models import Discriminator, Generator, ModelConfig, default_widths

FORMAT = "gan-lab/1"
MAX_PICKLE_BYTES = 1 << 20  # the object structure of a file; shipped ones have ~10 KB, a train checkpoint ~30 KB
MAX_DIRECTORY_BYTES = 1 << 20  # the zip's list of records; ~10 KB for ~100 tensors (parsing 400 k records takes 4 s)
Source = str | Path | bytes  # a file, or the bytes of an upload


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


def check_container(source: Source, name: str) -> None:
    """CheckpointError unless source is a zip of few, stored records and a pickle of at most MAX_PICKLE_BYTES.

    torch.save writes exactly that. A compressed record could inflate a small file to any size, a legacy
    (non-zip) file makes torch allocate what its header claims, and a huge pickle or zip directory is slow
    to parse.
    """
    try:
        with io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb") as f:
            end = zipfile._EndRecData(f)  # the end-of-directory record alone: how large the directory is
            directory = end[zipfile._ECD_SIZE] if end else 0
            records = zipfile.ZipFile(f).infolist() if directory <= MAX_DIRECTORY_BYTES else []
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise CheckpointError(_("{name} is not a readable weights-only PyTorch file: it is not in torch.save's "
                                "zip format (corrupt, truncated, or a plain pickle that may carry code) and was "
                                "refused unread").format(name=name)) from None
    if directory > MAX_DIRECTORY_BYTES:
        raise CheckpointError(_("{name} lists {size} bytes of zip records (ours list a few KB, at most "
                                "{limit}); refused unread").format(name=name, size=number(directory),
                                                                   limit=number(MAX_DIRECTORY_BYTES)))
    if any(r.compress_type != zipfile.ZIP_STORED for r in records):
        raise CheckpointError(_("{name} has compressed records, which torch.save never writes; refused unread")
                              .format(name=name))
    pickles = [r for r in records if r.filename.endswith("/data.pkl")]
    if len(pickles) != 1 or pickles[0].file_size > MAX_PICKLE_BYTES:
        size = pickles[0].file_size if len(pickles) == 1 else 0
        raise CheckpointError(_("{name} is not a checkpoint of ours: {count} pickle record(s) of {size} bytes "
                                "(at most one of {limit}); refused unread").format(
            name=name, count=len(pickles), size=number(size), limit=number(MAX_PICKLE_BYTES)))


def read_weights_only(source: Source, what: str = "checkpoint") -> object:
    """torch.load(source, weights_only=True) on the CPU; every way it can fail becomes one CheckpointError."""
    name = _("the uploaded file") if isinstance(source, bytes) else str(source)
    if not isinstance(source, bytes):
        source = Path(source)
        if source.is_dir():
            raise CheckpointError(_("{path} is a folder, not a {what} file").format(path=source, what=what_label(what)))
        if not source.is_file():
            raise CheckpointError(_("{what} not found: {path}").format(what=what_label(what), path=source))
    check_container(source, name)
    try:
        with warnings.catch_warnings():  # torch warns about old pickle protocols before it refuses a file
            warnings.simplefilter("ignore")
            f = io.BytesIO(source) if isinstance(source, bytes) else source
            return torch.load(f, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # the weights-only unpickler cannot tell garbage from a pickle carrying code
        raise CheckpointError(_("{name} is not a readable weights-only PyTorch file: it is corrupt, or it holds "
                                "objects other than tensors and plain values (code, custom classes) and was "
                                "refused unread").format(name=name)) from None
    except Exception as e:  # a corrupt file can fail in any way while it is parsed
        detail = str(e).splitlines()[0] if str(e) else ""
        raise CheckpointError(_("{name} is not a readable PyTorch file (corrupt or truncated?): {error}").format(
            name=name, error=f"{type(e).__name__} {detail}".rstrip())) from None


def check_args(args: dict, cfg: ModelConfig) -> None:
    """LimitError unless a train checkpoint's flags rebuild the model of its config (gan.train.model_config).

    A flag the file lacks is not compared: resuming takes its default, which builds a default-sized model.
    """
    g_default, d_default = default_widths(cfg.image_size)
    wanted = {"latent": cfg.latent, "image_size": cfg.image_size, "g_act": cfg.g_act, "bottleneck": cfg.bottleneck,
              "d_norm": cfg.d_norm, "g_widths": cfg.g_widths, "d_widths": cfg.d_widths}
    defaults = {"g_widths": g_default, "d_widths": d_default}
    given = {k: tuple(args[k] or defaults[k]) if k in defaults else args[k] for k in wanted if k in args}
    if given != {k: wanted[k] for k in given}:
        raise LimitError(_("its training flags describe another model than its config: {flags}").format(flags=given))


def check_optimizer(state: dict, model: torch.nn.Module, what: str) -> None:
    """LimitError unless every per-parameter tensor of an optimizer state is a scalar or its parameter's shape."""
    shapes = [p.shape for p in model.parameters()]
    per_param = state.get("state")
    if not isinstance(per_param, dict) or not isinstance(state.get("param_groups"), list):
        raise LimitError(_("its {what} optimizer state is malformed").format(what=what_label(what)))
    for index, entry in per_param.items():
        if not isinstance(index, int) or not 0 <= index < len(shapes) or not isinstance(entry, dict):
            raise LimitError(_("its {what} optimizer state names parameter {index}, which the model lacks").format(
                what=what_label(what), index=repr(index)))
        for key, v in entry.items():
            if isinstance(v, torch.Tensor) and v.numel() != 1 and v.shape != shapes[index]:
                raise LimitError(_("its {what} optimizer's {key} of parameter {index} is {shape}; the parameter is "
                                   "{expected}").format(what=what_label(what), key=repr(key), index=index,
                                                        shape=tuple(v.shape), expected=tuple(shapes[index])))


def check_directions(ckpt: dict) -> None:
    """LimitError unless the optional "directions" entry (gan.attributes) has tensors of consistent, small shapes.

    Checked before any of them is converted: a crafted tensor can claim any shape on a tiny storage.
    """
    d = ckpt.get("directions")
    if d is None:
        return
    try:
        k, shapes = len(d["names"]), tuple(tuple(d[key].shape) for key in ("vectors", "t", "scores"))
    except (KeyError, AttributeError, TypeError) as e:
        raise LimitError(_("its directions are malformed: missing or wrong {error}").format(error=e)) from None
    latent, (vectors, t, scores) = ckpt["config"]["latent"], shapes
    if not 1 <= k <= 64 or not all(isinstance(n, str) for n in d["names"]):
        raise LimitError(_("its directions need 1 to 64 names, each a string; it has {count}").format(count=k))
    if vectors != (k, latent) or len(t) != 1 or not 1 <= t[0] <= 100 or scores != (k, t[0]):
        raise LimitError(_("its directions have shapes {shapes}; expected ({k}, {latent}), (T,) with T <= 100, "
                           "and ({k}, T)").format(shapes=shapes, k=k, latent=latent))


def check_networks(ckpt: dict) -> None:
    """Build every network the checkpoint describes on the meta device, capped, and compare its tensors."""
    cfg = ckpt["model_config"]
    g = on_meta(lambda: Generator(cfg), (1, cfg.latent), "generator")
    check_tensors(g.state_dict(), ckpt["g_ema"], "generator")
    check_directions(ckpt)
    if ckpt["kind"] == "train":
        check_args(ckpt["args"], cfg)
        d = on_meta(lambda: Discriminator(cfg), (1, 3, cfg.image_size, cfg.image_size), "discriminator")
        check_tensors(g.state_dict(), ckpt["g"], "generator")
        check_tensors(d.state_dict(), ckpt["d"], "discriminator")
        check_optimizer(ckpt["opt_g"], g, "generator")
        check_optimizer(ckpt["opt_d"], d, "discriminator")


def load_checkpoint(source: Source, kinds: tuple[str, ...] = ("train", "generator")) -> dict:
    """Load and validate a checkpoint dict with weights_only=True; CheckpointError on anything wrong."""
    name = _("the uploaded file") if isinstance(source, bytes) else str(source)
    ckpt = read_weights_only(source)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(_("{name} is not a gan-lab checkpoint (expected format {format})").format(
            name=name, format=repr(FORMAT)))
    if ckpt.get("kind") not in kinds:
        raise CheckpointError(_("{name} is a {kind} checkpoint; expected one of {kinds}").format(
            name=name, kind=repr(ckpt.get("kind")), kinds=kinds))
    for key, kind in REQUIRED[ckpt["kind"]].items():
        if not isinstance(ckpt.get(key), kind):
            raise CheckpointError(_("{name} is damaged: its {key} is missing or not a {type}").format(
                name=name, key=repr(key), type=kind.__name__))
    try:
        ckpt["model_config"] = ModelConfig(**ckpt["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(_("{name} has an invalid model config: {error}").format(name=name, error=e)) from None
    try:
        check_networks(ckpt)
    except LimitError as e:
        raise CheckpointError(_("{name} cannot be used: {error}").format(name=name, error=e)) from None
    except (TypeError, ValueError, RuntimeError, OverflowError, IndexError) as e:  # sizes no network can have
        raise CheckpointError(_("{name} has an invalid model config: {error}").format(
            name=name, error=f"{type(e).__name__} {e}")) from None
    return ckpt


def load_generator(source: Source, device: str | torch.device = "cpu") -> tuple[Generator, dict]:
    """The EMA generator of a train or generator checkpoint, in eval mode, float32, plus the checkpoint dict.

    Weights are kept channels-last: oneDNN's convolutions run about 1.5x faster so on the CPU.
    """
    ckpt = load_checkpoint(source)
    g = Generator(ckpt["model_config"])
    g.load_state_dict({k: v.float() for k, v in ckpt["g_ema"].items()})  # shapes and keys checked above
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
