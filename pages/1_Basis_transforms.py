"""Basis transforms: what G_A(z) = tanh((A ⊗ … ⊗ A) z) does, one basis vector at a time."""
import streamlit as st
import torch

from gan.i18n import N_, _, language
from gan.navigation import open_page
from gan.serving import configure_torch
from gan.toy.model import PRESETS, generate, preset_entries
from gan.toy.plots import basis_figure, matrix_figure, noise_figure, png

configure_torch()
open_page(N_("Basis transforms"))
st.title(_("Basis transforms"))
st.markdown(_(
    "The generator is one 2×2 matrix A applied along every axis of the noise z, viewed as a "
    "2×2×…×2 tensor: G_A(z) = tanh((A ⊗ … ⊗ A) z) with n factors and N = 2ⁿ. "
    "Pick A and n and see what G_A does to each basis vector, the N×N matrix it never builds, "
    "and one noise vector."
))

ENTRIES = ("basis_a00", "basis_a01", "basis_a10", "basis_a11")


@st.cache_data(max_entries=256, show_spinner=False)
def figures(entries: tuple[float, ...], n: int, lang: str) -> tuple[bytes, bytes]:
    """The basis small multiples and the matrix heatmap of A (entries row by row), as PNGs in a language."""
    A = torch.tensor(entries).reshape(2, 2)
    return png(basis_figure(A, n)), png(matrix_figure(A, n))


@st.cache_data(max_entries=256, show_spinner=False)
def noise_png(entries: tuple[float, ...], n: int, seed: int, lang: str) -> bytes:
    """One noise vector z (by seed) and G_A(z), as a PNG in a language."""
    z = torch.rand(1, 2 ** n, generator=torch.Generator().manual_seed(seed))
    return png(noise_figure(z[0], generate(torch.tensor(entries).reshape(2, 2), z)[0]))


def apply_preset() -> None:
    """Move the four entry sliders to the chosen preset (random: by the seed box)."""
    values = preset_entries(st.session_state.basis_preset, st.session_state.basis_preset_seed)
    for key, value in zip(ENTRIES, values):
        st.session_state[key] = value


with st.sidebar:
    st.selectbox(_("Preset"), list(PRESETS), format_func=_, key="basis_preset",
                 on_change=apply_preset)
    st.number_input(_("Seed for the random preset"), 0, 10_000, 0, key="basis_preset_seed", on_change=apply_preset)
    if ENTRIES[0] not in st.session_state:
        apply_preset()
    cols = st.columns(2)
    for i, key in enumerate(ENTRIES):
        cols[i % 2].slider(f"A[{i // 2},{i % 2}]", -2.0, 2.0, step=0.05, key=key)
    n = st.slider("n (N = 2ⁿ)", 1, 6, 3, key="basis_n")

entries = tuple(float(st.session_state[k]) for k in ENTRIES)
N = 2 ** n
basis_png, matrix_png = figures(entries, n, language())
st.subheader(_("G_A(eᵢ) for each of the {N} basis vectors").format(N=N))
st.caption(_("eᵢ is labelled by its position in the 2×…×2 tensor; each cell shows the N outputs G_A(eᵢ), on a "
             "scale from −1 to 1."))
st.image(basis_png)

left, right = st.columns([2, 3])
with left:
    st.subheader(_("The matrix"))
    st.image(matrix_png)
    st.caption(_("Entry (i, j) is the product of A[iₖ, jₖ] over the n binary digits of i and j."))
with right:
    st.subheader(_("One noise vector"))
    noise_seed = st.number_input(_("Noise seed"), 0, 10_000, 0, key="basis_noise_seed")
    st.image(noise_png(entries, n, int(noise_seed), language()))
