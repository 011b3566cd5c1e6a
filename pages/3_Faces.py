"""Faces: sample, interpolate, watch training progress and move along attribute directions.

An uploaded generator is checked and loaded from the upload's bytes (gan.checkpoint, gan.limits); no
copy of it is ever written to disk, and Streamlit drops the bytes when the student's session ends.
"""
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
import torch
from PIL import Image

from gan.attributes import load_directions, move_along
from gan.checkpoint import CheckpointError, Source, load_generator
from gan.sample import generate, gif_bytes, grid, interpolate, latents, seed_latent, shipped_runs, shipped_scores
from gan.serving import configure_torch

configure_torch()

st.set_page_config(page_title="Faces · GAN lab", layout="wide")
MAX_UPLOAD_MB = 64


def model(source: Source):
    """The EMA generator of a checkpoint file or of uploaded bytes, its metadata and its attribute directions."""
    g, ckpt = load_generator(source)
    meta = {k: ckpt.get(k) for k in ("step", "epoch", "data", "metrics", "config", "fraction")}
    return g, meta, load_directions(ckpt)


@st.cache_resource(max_entries=12, show_spinner=False)
def generator(path: str, mtime: float):
    """A shipped generator, cached per file version."""
    return model(Path(path))


@st.cache_resource(max_entries=4, ttl=3600, show_spinner=False)
def uploaded_generator(digest: str, _data: bytes):
    """An uploaded generator, cached by content; at most 4 at a time (<= 200 MB each by gan.limits), for an hour."""
    return model(_data)


def loaded(path: Path):
    return generator(str(path), path.stat().st_mtime)


# The cached drawings below take the generator unhashed (_g) and are keyed by `key`, which names it.
@st.cache_data(max_entries=64, show_spinner=False)
def sample(key: tuple, _g, n: int, seed: int, psi: float) -> np.ndarray:
    return generate(_g, latents(n, seed, _g.cfg.latent, psi))


@st.cache_data(max_entries=32, show_spinner=False)
def frames(key: tuple, _g, seed_a: int, seed_b: int, steps: int, mode: str, psi: float) -> np.ndarray:
    dim = _g.cfg.latent
    return generate(_g, interpolate(seed_latent(seed_a, dim) * psi, seed_latent(seed_b, dim) * psi, steps, mode))


@st.cache_data(max_entries=32, show_spinner=False)
def along(key: tuple, _g, _v: torch.Tensor, name: str, seed: int, ts: tuple[float, ...]) -> np.ndarray:
    z = seed_latent(seed, _g.cfg.latent)[None].expand(len(ts), -1)
    return generate(_g, move_along(z, _v, torch.tensor(ts)[:, None]))


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def zip_of_pngs(images: np.ndarray, prefix: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i, img in enumerate(images):
            z.writestr(f"{prefix}_{i:03d}.png", png_bytes(Image.fromarray(img)))
    return buf.getvalue()


def uploaded_file() -> tuple[str, bytes] | None:
    """(content digest, bytes) of an uploaded .pt; None if none or too large."""
    up = st.sidebar.file_uploader("…or upload your own generator (.pt)", type=["pt"])
    if up is None:
        return None
    data = up.getvalue()
    if len(data) > MAX_UPLOAD_MB * 2**20:
        st.sidebar.error(f"That file is {len(data) / 2**20:.0f} MB; the limit is {MAX_UPLOAD_MB} MB.")
        return None
    return hashlib.sha256(data).hexdigest(), data


def label(path: Path, run: str) -> str:
    return f"{run} · step {int(path.stem.split('_')[1]):,}"


st.title("Faces")
runs = shipped_runs()
choices = {label(snaps[-1], run): (snaps[-1], run) for run, snaps in runs.items()}
upload = uploaded_file()
if upload is not None:
    choices = {"uploaded file": (None, None)} | choices
if not choices:
    st.info("No generator checkpoint is shipped in `checkpoints/` and none was uploaded. Train one with\n\n"
            "`python -m gan.train --data ../shared/data/celeba/img_align_celeba --out runs/celeba`\n\n"
            "then copy `runs/celeba/snapshots/` into `checkpoints/<name>/` (files named `step_XXXXXXX.pt`), "
            "or upload a `.pt` file in the sidebar.")
    st.stop()

picked = st.sidebar.selectbox("Generator", list(choices))
path, run = choices[picked]
try:
    g, meta, directions = loaded(path) if path else uploaded_generator(*upload)
except CheckpointError as e:
    st.error(f"This file cannot be used: {e}")
    st.stop()
key = (str(path), path.stat().st_mtime) if path else ("upload", upload[0])
m = meta["metrics"] or {}
st.sidebar.caption(f"{meta['config']['image_size']}px, latent {meta['config']['latent']}, step {meta['step']:,}, "
                   f"{m.get('images_seen', 0) / 1e6:.1f}M images seen, G {m.get('params_g', 0) / 1e6:.1f}M params")
scores = shipped_scores(path)
if scores:
    real = f" (real photos score {scores['real_FD_attr']:.2f})" if scores["real_FD_attr"] is not None else ""
    st.sidebar.caption(f"Against held-out faces: FD_attr {scores['FD_attr']:.2f}, lower is closer{real}; "
                       f"diversity {scores['diversity_ratio']:.2f}× that of real faces. See checkpoints/README.md.")
psi = st.sidebar.slider("Truncation ψ", 0.0, 1.5, 1.0, 0.05,
                        help="Latents are scaled by ψ: below 1 the faces get safer and more alike, above 1 wilder.")

tab_grid, tab_walk, tab_progress, tab_attr = st.tabs(["Samples", "Interpolation", "Training progress", "Attributes"])


@st.fragment
def samples_tab() -> None:
    c1, c2 = st.columns(2)
    n = c1.select_slider("Samples", [16, 36, 64], value=16)
    seed = c2.number_input("Seed", 0, 2**31 - 1, 0, key="grid_seed")
    images = sample(key, g, n, int(seed), psi)
    picture = grid(images)
    st.image(picture.resize((picture.width * 2, picture.height * 2), Image.Resampling.NEAREST),
             caption=f"{n} samples, seed {seed}, ψ = {psi}")
    d1, d2 = st.columns(2)
    d1.download_button("Grid (PNG)", lambda: png_bytes(picture), f"faces_seed{seed}.png", "image/png")
    d2.download_button("All samples (ZIP of PNGs)", lambda: zip_of_pngs(images, f"seed{seed}"), f"faces_seed{seed}.zip",
                       "application/zip")


@st.fragment
def interpolation_tab() -> None:
    c1, c2, c3, c4 = st.columns(4)
    a = c1.number_input("Seed A", 0, 2**31 - 1, 1)
    b = c2.number_input("Seed B", 0, 2**31 - 1, 2)
    steps = c3.slider("Frames", 3, 24, 10)
    mode = c4.radio("Path", ["slerp", "lerp"], horizontal=True,
                    help="slerp follows the sphere where Gaussian latents live; lerp cuts through the middle, "
                         "where latents are rarer and faces duller.")
    strip = frames(key, g, int(a), int(b), steps, mode, psi)
    st.image(list(strip), width=96, caption=[f"{i / (steps - 1):.2f}" for i in range(steps)])
    st.download_button("Download GIF", lambda: gif_bytes(strip), f"walk_{a}_{b}_{mode}.gif", "image/gif")


@st.fragment
def progress_tab() -> None:
    if run is None or len(runs.get(run, [])) < 2:
        st.info("Training progress needs a run with several snapshots; pick a shipped run that has them.")
        return
    seed = st.number_input("Seed", 0, 2**31 - 1, 7, key="progress_seed")
    snaps = runs[run]
    st.caption("The same 8 latents through every snapshot kept along the run, top to bottom.")
    for snap in snaps:
        s_g, s_meta, _ = loaded(snap)
        imgs = sample((str(snap), snap.stat().st_mtime), s_g, 8, int(seed), 1.0)
        seen = (s_meta["metrics"] or {}).get("images_seen", 0)
        st.image(grid(imgs, nrow=8), caption=f"step {s_meta['step']:,} · {seen / 1e6:.2f}M images seen")


@st.fragment
def attributes_tab() -> None:
    if directions is None:
        st.info("This checkpoint carries no attribute directions (fit them with "
                "`python -m gan.attributes fit-directions --checkpoint FILE`).")
        return
    c1, c2, c3 = st.columns([2, 1, 3])
    name = c1.selectbox("Attribute", directions["names"])
    seed = c2.number_input("Seed", 0, 2**31 - 1, 3, key="attr_seed")
    t = c3.slider("Move along the direction", -3.0, 3.0, 0.0, 0.25)
    ts = (-3.0, -1.5, 0.0, 1.5, 3.0)
    left, right = st.columns([1, 2])
    k = directions["names"].index(name)
    v = directions["vectors"][k]
    left.image(along(key, g, v, name, int(seed), (t,))[0], width=256, caption=f"{name}, t = {t:+.2f}")
    right.image(list(along(key, g, v, name, int(seed), ts)), width=110, caption=[f"t = {x:+.1f}" for x in ts])
    curve = pd.DataFrame({"t": directions["t"].numpy(), "classifier score": directions["scores"][k].numpy()})
    right.caption(f"How well the direction works: the attribute classifier's mean score for '{name}' over "
                  "held-out seeds moved by t (1 = surely has it, 0 = surely not).")
    right.line_chart(curve, x="t", y="classifier score", height=220)


with tab_grid:
    samples_tab()
with tab_walk:
    interpolation_tab()
with tab_progress:
    progress_tab()
with tab_attr:
    attributes_tab()
