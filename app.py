"""GAN lab: the home page. What the lessons are, and where the code lives."""
import streamlit as st

from gan.i18n import N_, _
from gan.navigation import open_page

open_page(N_("GAN lab"))
st.title(_("GAN lab"))
st.markdown(_("An interactive course companion for generative adversarial networks, in two halves."))
st.markdown(_(
    "**1 · A GAN you can solve by hand** (from the course's toy-GAN report). The generator is a single "
    "2×2 matrix *A* applied along every axis of a noise vector z of length N = 2ⁿ: "
    "y = tanh((A ⊗ A ⊗ … ⊗ A) z), z ~ U[0, 1]ᴺ. \"Real\" data come from a target matrix W, and a small "
    "MLP discriminator tells them apart. Because the whole generator is four numbers, you can watch "
    "a GAN recover them, or fail to."))
st.markdown(_(
    "- **Basis transforms**: what G_A does to each basis vector, the N×N matrix it never builds, and "
    "one noise vector before and after.\n"
    "- **Weight recovery, live**: the game itself. Real and generated samples over D's map, G's pushes "
    "and loss surface, while D and G train together (k_d D-steps per k_g G-steps), one at a time, or "
    "step by step, with BCE, least-squares or feature-matching losses. Watch the entries of A walk "
    "towards W, up to the symmetries that make W unidentifiable."))
st.markdown(_(
    "**2 · Faces** (from the course's CSPup/CelebA report). A generator built from CSPup blocks, "
    "trained on 26,017 CelebA photos; the checkpoints ship with the app, so nothing trains in class."))
st.markdown(_(
    "- **Faces**: sample grids with a truncation control, interpolation between seeds (lerp or "
    "slerp), the same latents through the training run, attribute sliders along latent directions, "
    "a photo projected into the latent space, the closed-form (SeFa) directions, and the "
    "discriminator's verdict on real and generated faces.\n"
    "- **Experiments**: the report's convergence knobs (learning rates, weight decay, SGD for D, several "
    "G steps, Tanh, latent size) and known failures, each rerun against one baseline: losses, FD_attr, "
    "diversity and the same latents through training, side by side, with a verdict for each."))
st.markdown(_(
    "Everything the pages do lives in the `gan` package: `gan.toy` (the toy GAN), `gan.models`, `gan.data`, "
    "`gan.train` (`python -m gan.train`), `gan.sample`, `gan.evaluate`, `gan.experiments`. Pick a page in "
    "the sidebar."))
