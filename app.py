"""GAN lab: home page. Run with `streamlit run app.py`; the lessons are in pages/."""
import streamlit as st

st.set_page_config(page_title="GAN lab", page_icon="🎛️", layout="wide")

st.title("GAN lab")
st.markdown(
    """
An interactive course companion for generative adversarial networks, in two halves.

**1 · A GAN you can solve by hand** (from the course's toy-GAN report). The generator is a single
2×2 matrix *A* applied along every axis of a noise vector z of length N = 2ⁿ:
y = tanh((A ⊗ A ⊗ … ⊗ A) z), z ~ U[0, 1]ᴺ. "Real" data come from a target matrix W, and a small
MLP discriminator tells them apart. Because the whole generator is four numbers, you can watch
a GAN recover them, or fail to.

- **Basis transforms**: what G_A does to each basis vector, the N×N matrix it never builds, and
  one noise vector before and after.
- **Weight recovery, live**: train D alone, G alone against a frozen D, or both together
  (k_d D-steps per k_g G-steps) with BCE, least-squares or feature-matching losses, and watch the
  entries of A walk towards W, up to the symmetries that make W unidentifiable.

**2 · Faces** (from the course's CSPup/CelebA report). A generator built from CSPup blocks,
trained on 26,017 CelebA photos; the checkpoints ship with the app, so nothing trains in class.

- **Faces**: sample grids with a truncation control, interpolation between seeds (lerp or
  slerp) as frames and a GIF, the same latents through every snapshot of the training run,
  and attribute sliders (smiling, male, young, eyeglasses, blond hair) along latent directions.
- **Experiments**: the report's convergence knobs (learning rates, weight decay, SGD for D, several
  G steps, Tanh, latent size) and known failures, each rerun against one baseline: losses, FD_attr,
  diversity and the same latents through training, side by side, with a verdict for each.

Everything the pages do lives in the `gan` package: `gan.toy` (the toy GAN), `gan.models`,
`gan.data`, `gan.train` (`python -m gan.train`), `gan.sample`, `gan.evaluate`, `gan.experiments`. Pick a page in
the sidebar.
"""
)
