"""Faces: sample, interpolate, watch training progress, move along attribute directions and along directions
found without labels, project a photo into the latent space, and see faces as the discriminator does.

An uploaded generator is checked and loaded from the upload's bytes (gan.checkpoint, gan.limits); no
copy of it is ever written to disk, and Streamlit drops the bytes when the student's session ends.
"""
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import streamlit as st
import torch
from PIL import Image

from gan.attributes import attribute_label, load_classifier, load_directions, move_along
from gan.checkpoint import CheckpointError, Source, load_generator
from gan.data import DataError
from gan.discriminator import load_discriminator, mixed_round, rank, scores
from gan.face_charts import cosine_chart, direction_chart, error_chart, score_chart
from gan.i18n import N_, _, ngettext, number
from gan.navigation import open_page
from gan.project import DEFAULT_STEPS, REAL_IMAGES, PhotoError, project, read_photo, real_photos
from gan.sample import (CHECKPOINTS, generate, gif_bytes, grid, interpolate, latents, progress_run, seed_latent,
                        shipped_runs, shipped_scores)
from gan.sefa import describe, factorize, similarity, strips
from gan.serving import configure_torch

configure_torch()

MAX_UPLOAD_MB = 64
ROUND_SEEDS = 10_000  # the "real or fake?" rounds draw their faces from seeds no other tab starts at
UPLOADED = "uploaded file"  # the generator choice of an upload (the others are run names)
VERDICTS = {"real": N_("real"), "fake": N_("fake")}  # the student's marks in a "real or fake?" round


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
    up = st.sidebar.file_uploader(_("…or upload your own generator (.pt)"), type=["pt"], key="upload")
    if up is None:
        return None
    data = up.getvalue()
    if len(data) > MAX_UPLOAD_MB * 2**20:
        st.sidebar.error(_("That file is {size:.0f} MB; the limit is {limit} MB.").format(
            size=len(data) / 2**20, limit=MAX_UPLOAD_MB))
        return None
    return hashlib.sha256(data).hexdigest(), data


def metric(metadata: object, key: str) -> float:
    """metadata[key] if it is a number, else 0: an uploaded file's metadata is whatever its author wrote."""
    value = metadata.get(key) if isinstance(metadata, dict) else None
    return value if isinstance(value, (int, float)) else 0


def label(path: Path, run: str) -> str:
    return _("{run} · step {step}").format(run=run, step=number(int(path.stem.split("_")[1])))


open_page(N_("Faces"))
st.title(_("Faces"))
runs = shipped_runs()
choices = {run: (snaps[-1], run) for run, snaps in runs.items()}
upload = uploaded_file()
if upload is not None:
    choices = {UPLOADED: (None, None)} | choices
if not choices:
    st.info(_("No generator checkpoint is shipped in `checkpoints/` and none was uploaded. Train one with\n\n"
              "`python -m gan.train --data ../shared/data/celeba/img_align_celeba --out runs/celeba`\n\n"
              "then copy `runs/celeba/snapshots/` into `checkpoints/<name>/` (files named `step_XXXXXXX.pt`), "
              "or upload a `.pt` file in the sidebar."))
    st.stop()

# A new upload is a new choice, picked first; the language does not change the key, so it keeps the choice.
# The options' labels are made here, in the session's language: a format_func may also be called outside the
# script run (AppTest calls it from the test's thread), where gan.i18n would answer in English.
shown_choices = {c: _("uploaded file") if c == UPLOADED else label(*choices[c]) for c in choices}
picked = st.sidebar.selectbox(_("Generator"), list(choices), format_func=shown_choices.__getitem__,
                              key=f"generator_{upload[0][:16] if upload else 'shipped'}")
path, run = choices[picked]
try:
    g, meta, directions = loaded(path) if path else uploaded_generator(*upload)
except CheckpointError as e:
    st.error(_("This file cannot be used: {error}").format(error=e))
    st.stop()
key = (str(path), path.stat().st_mtime) if path else ("upload", upload[0])
labels = [attribute_label(name) for name in directions["names"]] if directions else []  # as shown
shown_names = dict(zip(directions["names"], labels)) if directions else {}  # a format_func (see shown_choices)
seen, params = metric(meta["metrics"], "images_seen"), metric(meta["metrics"], "params_g")
st.sidebar.caption(_("{size}px, latent {latent}, step {step}, {seen:.1f}M images seen, G {params:.1f}M params")
                   .format(size=meta["config"]["image_size"], latent=meta["config"]["latent"], step=number(meta["step"]),
                           seen=seen / 1e6, params=params / 1e6))
measured = shipped_scores(path) if path else None
if measured:
    if measured["real_FD_attr"] is not None:
        scored = _("Against held-out faces: FD_attr {fd:.2f}, lower is closer (real photos score {real:.2f}); "
                   "diversity {diversity:.2f}× that of real faces. See checkpoints/README.md.")
    else:
        scored = _("Against held-out faces: FD_attr {fd:.2f}, lower is closer; diversity {diversity:.2f}× that of "
                   "real faces. See checkpoints/README.md.")
    st.sidebar.caption(scored.format(fd=measured["FD_attr"], real=measured["real_FD_attr"],
                                     diversity=measured["diversity_ratio"]))
psi = st.sidebar.slider(_("Truncation ψ"), 0.0, 1.5, 1.0, 0.05, key="psi",
                        help=_("Latents are scaled by ψ: below 1 the faces get safer and more alike, above 1 wilder."))

tab_grid, tab_walk, tab_progress, tab_attr, tab_sefa, tab_project, tab_d = st.tabs(
    [_("Samples"), _("Interpolation"), _("Training progress"), _("Attributes"), _("Directions without labels"),
     _("Can the GAN draw this face?"), _("The discriminator's view")])


@st.fragment
def samples_tab() -> None:
    c1, c2 = st.columns(2)
    n = c1.select_slider(_("Samples"), [16, 36, 64], value=16, key="grid_n")
    seed = c2.number_input(_("Seed"), 0, 2**31 - 1, 0, key="grid_seed")
    images = sample(key, g, n, int(seed), psi)
    picture = grid(images)
    st.image(picture.resize((picture.width * 2, picture.height * 2), Image.Resampling.NEAREST),
             caption=ngettext("{n} sample, seed {seed}, ψ = {psi}", "{n} samples, seed {seed}, ψ = {psi}", n)
             .format(n=n, seed=seed, psi=psi))
    d1, d2 = st.columns(2)
    d1.download_button(_("Grid (PNG)"), lambda: png_bytes(picture), f"faces_seed{seed}.png", "image/png",
                       key="grid_png")
    d2.download_button(_("All samples (ZIP of PNGs)"), lambda: zip_of_pngs(images, f"seed{seed}"),
                       f"faces_seed{seed}.zip", "application/zip", key="grid_zip")


@st.fragment
def interpolation_tab() -> None:
    c1, c2, c3, c4 = st.columns(4)
    a = c1.number_input(_("Seed A"), 0, 2**31 - 1, 1, key="walk_a")
    b = c2.number_input(_("Seed B"), 0, 2**31 - 1, 2, key="walk_b")
    steps = c3.slider(_("Frames"), 3, 24, 10, key="walk_steps")
    mode = c4.radio(_("Path"), ["slerp", "lerp"], horizontal=True, key="walk_mode",
                    help=_("slerp follows the sphere where Gaussian latents live; lerp cuts through the middle, "
                           "where latents are rarer and faces duller."))
    strip = frames(key, g, int(a), int(b), steps, mode, psi)
    st.image(list(strip), width=96, caption=[f"{i / (steps - 1):.2f}" for i in range(steps)])
    st.download_button(_("Download GIF"), lambda: gif_bytes(strip), f"walk_{a}_{b}_{mode}.gif", "image/gif",
                       key="walk_gif")


@st.fragment
def progress_tab() -> None:
    shown = progress_run(run, runs) if run else None
    if shown is None:
        st.info(_("Training progress needs a run with several snapshots; pick a shipped run that has them."))
        return
    seed = st.number_input(_("Seed"), 0, 2**31 - 1, 7, key="progress_seed")
    snaps = runs[shown]
    if shown != run:
        st.caption(_("`{run}` kept no snapshots along its run. This is `{shown}`'s, trained beside it on the same "
                     "GPU, with the same data, recipe and length: a narrower network on the same road.")
                   .format(run=run, shown=shown))
    st.caption(_("The same 8 latents through every snapshot kept along the run, top to bottom."))
    for snap in snaps:
        s_g, s_meta, _directions = loaded(snap)
        imgs = sample((str(snap), snap.stat().st_mtime), s_g, 8, int(seed), 1.0)
        seen = int(metric(s_meta["metrics"], "images_seen"))
        st.image(grid(imgs, nrow=8), caption=ngettext("step {step} · {seen} image seen",
                                                      "step {step} · {seen} images seen", seen)
                 .format(step=number(s_meta["step"]), seen=number(seen)))


@st.fragment
def attributes_tab() -> None:
    if directions is None:
        st.info(_("This checkpoint carries no attribute directions (fit them with "
                  "`python -m gan.attributes fit-directions --checkpoint FILE`)."))
        return
    c1, c2, c3 = st.columns([2, 1, 3])
    name = c1.selectbox(_("Attribute"), directions["names"], format_func=shown_names.__getitem__, key="attr_name")
    seed = c2.number_input(_("Seed"), 0, 2**31 - 1, 3, key="attr_seed")
    t = c3.slider(_("Move along the direction"), -3.0, 3.0, 0.0, 0.25, key="attr_t")
    ts = (-3.0, -1.5, 0.0, 1.5, 3.0)
    left, right = st.columns([1, 2])
    k = directions["names"].index(name)
    v = directions["vectors"][k]
    left.image(along(key, g, v, name, int(seed), (t,))[0], width=256, caption=f"{labels[k]}, t = {t:+.2f}")
    right.image(list(along(key, g, v, name, int(seed), ts)), width=110, caption=[f"t = {x:+.1f}" for x in ts])
    right.caption(_("How well the direction works: the attribute classifier's mean score for '{name}' over "
                    "held-out seeds moved by t (1 = surely has it, 0 = surely not).").format(name=labels[k]))
    right.vega_lite_chart(direction_chart(directions["t"], directions["scores"][k]), width="stretch")


@st.cache_data(max_entries=16, show_spinner=False)
def sefa(key: tuple, _g) -> tuple[torch.Tensor, torch.Tensor]:
    return factorize(_g)


@st.cache_data(max_entries=16, show_spinner=False)
def sefa_strips(key: tuple, _g, top: int, seed: int, reach: float) -> np.ndarray:
    return strips(_g, sefa(key, _g)[1][:top], seed_latent(seed, _g.cfg.latent), torch.linspace(-reach, reach, 7))


@st.fragment
def sefa_tab() -> None:
    st.caption(_("Closed-form factorization (SeFa, Shen & Zhou 2021): the latent directions that move the "
                 "generator's first layer the most, found from its weights alone in milliseconds: no labels, no "
                 "samples. What each one means is for you to see; the classifier's directions only name it."))
    c1, c2, c3 = st.columns(3)
    top = c1.slider(_("Directions"), 1, 10, 5, key="sefa_top")
    seed = c2.number_input(_("Seed"), 0, 2**31 - 1, 0, key="sefa_seed")
    reach = c3.slider(_("How far along each (t)"), 1.0, 6.0, 3.0, 0.5, key="sefa_reach")
    values, found = sefa(key, g)
    share = values / values.sum()
    cos = similarity(found[:top], directions["vectors"]) if directions else None
    images = sefa_strips(key, g, top, int(seed), reach)
    for k in range(top):
        if cos is not None:  # xgettext:no-python-format ("% of" is no %-directive)
            caption = _("direction {k} · {share:.1f}% of the first layer's energy · most like {like} · "
                        "t from {low:+.1f} to {high:+.1f}")
        else:  # xgettext:no-python-format
            caption = _("direction {k} · {share:.1f}% of the first layer's energy · t from {low:+.1f} to {high:+.1f}")
        st.image(grid(images[k], nrow=len(images[k])),
                 caption=caption.format(k=k, share=100 * float(share[k]), low=-reach, high=reach,
                                        like=describe(cos[k], labels) if cos is not None else ""))
    if cos is not None:
        st.caption(_("Cosine similarity with the directions fitted with the attribute classifier "
                     "(+1: the same, −1: opposite, 0: unrelated)."))
        st.vega_lite_chart(cosine_chart(cos, labels), width="stretch")


@st.cache_resource(show_spinner=False)
def classifier():
    return load_classifier(CHECKPOINTS / "attributes.pt")


def uint8_image(x: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) in [-1, 1] -> (H, W, 3) uint8."""
    return ((x[0].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def photo_source() -> tuple[str, bytes | Path] | None:
    """(name, photo) from an upload or from the $GAN_LAB_REAL_IMAGES folder; None when there is none."""
    up = st.file_uploader(_("A photo of a face (it is cropped to the centre square)"),
                          type=["jpg", "jpeg", "png", "webp"], key="project_upload")
    if up is not None:
        return f"upload {hashlib.sha256(up.getvalue()).hexdigest()[:12]}", up.getvalue()
    try:
        photos = real_photos()
    except DataError as e:
        st.warning(_("`${variable}` names no usable folder: {error}").format(variable=REAL_IMAGES, error=e))
        return None
    if not photos:
        st.info(_("Upload a photo, or start the app with `${variable}` naming a folder of face photos "
                  "(for example `../shared/data/celeba-test/img_align_celeba`) to pick one of them here.")
                .format(variable=REAL_IMAGES))
        return None
    i = st.number_input(_("…or photo number (of {count} in `${variable}`)").format(count=number(len(photos)),
                                                                                   variable=REAL_IMAGES),
                        0, len(photos) - 1, 0, key="project_photo")
    return photos[int(i)].name, photos[int(i)]


@st.fragment
def projection_tab() -> None:
    st.caption(_("Projection searches the latent space for the z whose face best redraws a photo: a pixel loss "
                 "plus a perceptual one (distances between the attribute classifier's feature maps), Adam on z "
                 "alone, from the best of 32 random latents. What it reaches is what the generator can draw. Faces "
                 "like CelebA's (frontal, well lit, celebrities) come out close. Glasses, hats, hands, profiles, "
                 "unusual light or faces unlike the training set's cannot be reached by any z: the GAN never "
                 "learnt them."))
    source = photo_source()
    if source is None:
        return
    name, photo = source
    try:
        target = read_photo(photo, g.cfg.image_size)
    except PhotoError as e:
        st.error(_("This photo cannot be used: {error}").format(error=e))
        return
    steps = st.slider(_("Steps"), 10, 300, DEFAULT_STEPS, 10, key="project_steps",
                      help=ngettext("{steps} step takes a few seconds on a laptop", "{steps} steps take a few "
                                    "seconds on a laptop", DEFAULT_STEPS).format(steps=DEFAULT_STEPS))
    done = st.session_state.get("projection")
    if st.button(_("Project"), type="primary", key="project_run"):
        progress = st.empty()  # the search as it runs; cleared when it is done
        cols = progress.container().columns(3)
        cols[0].image(uint8_image(target), width=192, caption=_("target"))
        face, chart = cols[1].empty(), cols[2].empty()

        def show(step: int, errors: list[float], frame: np.ndarray) -> None:
            face.image(frame, width=192, caption=_("G(z) at step {step}").format(step=step))
            chart.vega_lite_chart(error_chart(errors), width="stretch")

        try:
            result = project(g, classifier(), target, steps, callback=show)
        except CheckpointError as e:
            st.error(_("Projection needs the attribute classifier: {error}").format(error=e))
            return
        done = st.session_state["projection"] = {"for": (key, name, steps), "z": result.z, "errors": result.errors,
                                                 "random_error": result.random_error, "seconds": result.seconds,
                                                 "frames": result.frames}
        progress.empty()
    if not done or done["for"] != (key, name, steps):
        return
    cols = st.columns(3)
    cols[0].image(uint8_image(target), width=192, caption=_("target"))
    cols[1].image(done["frames"][-1][1], width=192,
                  caption=ngettext("G(z) after {steps} step", "G(z) after {steps} steps", steps).format(steps=steps))
    cols[2].vega_lite_chart(error_chart(done["errors"], done["random_error"]), width="stretch")
    st.caption(_("Error {error:.3f} after {seconds:.1f} s, from {start:.3f} for the best random start; random "
                 "latents score {random:.3f} on average (dashed).").format(
        error=done["errors"][-1], seconds=done["seconds"], start=done["errors"][0], random=done["random_error"]))
    along_the_way = done["frames"][:: max(1, len(done["frames"]) // 10)]
    st.image([f for _s, f in along_the_way], width=72,
             caption=[_("step {step}").format(step=s) for s, _f in along_the_way])
    found_z_view(done["z"])


def found_z_view(z: torch.Tensor) -> None:
    """What the found latent can do: the attribute sliders and an interpolation to a random face."""
    st.subheader(_("What the found z can do"))
    left, right = st.columns(2)
    if directions is not None:
        attr = left.selectbox(_("Attribute"), directions["names"], format_func=shown_names.__getitem__,
                              key="project_attr")
        t = left.slider(_("Move along it"), -3.0, 3.0, 1.5, 0.25, key="project_t")
        v = directions["vectors"][directions["names"].index(attr)]
        ts = (-abs(t), 0.0, abs(t)) if t else (0.0,)
        left.image(list(generate(g, move_along(z[None].expand(len(ts), -1), v, torch.tensor(ts)[:, None]))),
                   width=110, caption=[f"{shown_names[attr]} {x:+.2f}" for x in ts])
    seed = right.number_input(_("Interpolate to the face of seed"), 0, 2**31 - 1, 1, key="project_seed")
    walk = generate(g, interpolate(z, seed_latent(int(seed), g.cfg.latent), 6, "slerp"))
    right.image(list(walk), width=72, caption=[f"{i / 5:.1f}" for i in range(6)])


@st.cache_resource(max_entries=4, show_spinner=False)
def discriminator(path: str, mtime: float):
    return load_discriminator(path)


@st.cache_data(max_entries=16, show_spinner=False)
def ranked(key: tuple, d_key: tuple, _g, _d, n: int, seed: int) -> tuple[np.ndarray, torch.Tensor]:
    return rank(_d, generate(_g, latents(n, seed, _g.cfg.latent)))


@st.fragment
def discriminator_tab() -> None:
    d_file = CHECKPOINTS / run / "discriminator.pt" if run else None
    if d_file is None or not d_file.exists():
        st.info(_("A discriminator ships for the default generator only: pick it in the sidebar. Train one for "
                  "another generator with `python -m gan.discriminator train --checkpoint FILE --data … --out FILE`."))
        return
    try:
        d, d_ckpt = discriminator(str(d_file), d_file.stat().st_mtime)
    except CheckpointError as e:
        st.error(_("The discriminator cannot be used: {error}").format(error=e))
        return
    held = d_ckpt["metrics"].get("held_out", {})
    # xgettext:no-python-format ("% right" is no %-directive)
    st.caption(_("D was trained against this generator, frozen, until it told its faces from photos as well as it "
                 "could in a few CPU minutes (held out: {accuracy:.0f}% right, AUC {auc:.2f}). It learnt the "
                 "generator's typical look: the faces it calls most real are often the generator's odd ones, rare "
                 "among those it was shown, and its clean, typical faces the most fake. A discriminator judges "
                 "against what the generator draws most, not against an idea of a face.").format(
        accuracy=100 * held.get("accuracy", 0), auc=held.get("auc", 0)))
    c1, c2 = st.columns(2)
    n = c1.select_slider(_("Faces to rank"), [16, 32, 64], value=32, key="d_n")
    seed = c2.number_input(_("Seed"), 0, 2**31 - 1, 0, key="d_seed")
    images, s = ranked(key, (str(d_file), d_file.stat().st_mtime), g, d, n, int(seed))
    k = min(8, n // 2)
    st.markdown("**" + _("Most real to D") + "**")
    st.image(list(images[:k]), width=80, caption=[f"{float(x):+.2f}" for x in s[:k]])
    st.markdown("**" + _("Most fake to D") + "**")
    st.image(list(images[-k:]), width=80, caption=[f"{float(x):+.2f}" for x in s[-k:]])
    st.vega_lite_chart(score_chart(s), width="stretch")
    real_or_fake_round(d)


def real_or_fake_round(d) -> None:
    """Mixed real and generated faces; the student marks each, then sees the truth and D's verdicts."""
    try:
        photos = real_photos()
    except DataError as e:
        st.warning(_("`${variable}` names no usable folder: {error}").format(variable=REAL_IMAGES, error=e))
        return
    st.subheader(_("Real or fake?"))
    if not photos:
        st.info(_("Start the app with `${variable}` naming a folder of real face photos to play a round against D. "
                  "No real photo ships with the app (CelebA's licence).").format(variable=REAL_IMAGES))
        return
    number = st.session_state.setdefault("round", 0)
    verdicts = {m: _(text) for m, text in VERDICTS.items()}  # a format_func (see shown_choices)
    images, is_real = mixed_round(photos, g, 6, seed=ROUND_SEEDS + number)
    marks = []
    for row in range(0, len(images), 6):
        cols = st.columns(6)
        for i in range(row, min(row + 6, len(images))):
            cols[i - row].image(images[i], width=96)
            marks.append(cols[i - row].radio(_("Face {number}").format(number=i + 1), list(VERDICTS), index=None,
                                             format_func=verdicts.__getitem__, horizontal=True,
                                             key=f"round{number}_{i}", label_visibility="collapsed"))
    c1, c2 = st.columns(2)
    if c1.button(_("Reveal"), disabled=None in marks, help=_("Mark every face first"), key="reveal"):
        st.session_state["revealed"] = number
    if c2.button(_("New round"), key="new_round"):
        st.session_state["round"] = number + 1
        st.rerun(scope="fragment")
    if st.session_state.get("revealed") != number or None in marks:
        return
    s = scores(d, images)
    yours = np.array([m == "real" for m in marks])
    st.image(list(images), width=96, caption=[(_("real · D {score:+.1f}") if r else _("fake · D {score:+.1f}"))
                                             .format(score=float(x)) for r, x in zip(is_real, s)])
    st.success(ngettext("You were right on {yours} of {total} face, D on {d}.",
                        "You were right on {yours} of {total} faces, D on {d}.", len(images)).format(
        yours=int((yours == is_real).sum()), total=len(images), d=int(((s > 0).numpy() == is_real).sum())))


with tab_grid:
    samples_tab()
with tab_walk:
    interpolation_tab()
with tab_progress:
    progress_tab()
with tab_attr:
    attributes_tab()
with tab_sefa:
    sefa_tab()
with tab_project:
    projection_tab()
with tab_d:
    discriminator_tab()
