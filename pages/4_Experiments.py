"""Experiments: the CelebA report's convergence knobs, rerun with one seed and compared side by side."""
from pathlib import Path

import pandas as pd
import streamlit as st

from gan import experiment_results as results
from gan.experiment_charts import losses_spec, metrics_spec
from gan.i18n import N_, _, language, number
from gan.navigation import open_page

open_page(N_("Experiments"))
st.title(_("Why face GANs converge or collapse"))
st.markdown(_(
    "The CSPup/CelebA report ran more than 40 experiments to make its GAN converge: learning rates, weight "
    "decay, SGD for D, several G steps per D step, Tanh in G, other latent sizes. Here each knob is one run "
    "that changes it against our own recipe, the **baseline**, with the same seed, the same data and the same "
    "latents. Every snapshot was scored against held-out faces: **FD_attr** (Fréchet distance of the attribute "
    "classifier's features; lower is better) and the **diversity ratio** (how varied the faces are against "
    "real ones; well below 1 is mode collapse)."))


@st.cache_data(show_spinner=False)
def shipped(root: str, stamp: float, lang: str) -> list[dict]:
    """The results under root, judged in a language (the verdicts' reasons are words)."""
    return results.load(root)


def fmt(x: float | None) -> str:
    return _("n/a") if x is None else f"{x:.2f}"


def stamp(root: Path) -> float:
    return max((p.stat().st_mtime for p in root.glob("*/summary.json")), default=0.0)


def quote(r: dict) -> str:
    """The report's words on this knob: the Russian original in Russian, its translation in English."""
    return r["report"] if language() == "ru" else r["report_en"]


runs = shipped(str(results.SHIPPED), stamp(results.SHIPPED), language())
if not runs:
    st.info(_("No experiment results ship with this copy of the app. Make them with\n\n"
              "```\n{run}\n{summarize}\n```\n\n(`python -m gan.experiments list` names them; on a GPU add "
              "`--image-size 64 --budget-images 1000000 --parallel 6`.) Then reload this page.").format(
        run="python -m gan.experiments run all --out runs/exp --data ../shared/data/celeba/img_align_celeba "
            "--eval-data ../shared/data/celeba-test",
        summarize="python -m gan.experiments summarize runs/exp --to checkpoints/experiments"))
    st.stop()

first = runs[0]
st.caption(_("{count} experiments, each {size} px and {images} images, trained {hardware}; scores on {n} "
             "generated and held-out faces.").format(count=len(runs), size=first["image_size"],
                                                     images=number(first["budget_images"]),
                                                     hardware=results.hardware(first), n=number(first["eval_n"])))

st.subheader(_("Every experiment, ranked by final FD_attr"))
columns = {"experiment": _("experiment"), "verdict": _("verdict"), "FD_attr": "FD_attr",
           "diversity": _("diversity ratio"), "about": _("what it changes"), "flags": _("flags")}
table = pd.DataFrame([{"experiment": r["name"], "verdict": _(r["verdict"]), "FD_attr": r["fd_attr"],
                       "diversity": r["diversity"], "about": _(r["about"]), "flags": results.differing_flags(r)}
                      for r in runs]).rename(columns=columns)
st.dataframe(table, hide_index=True,
             column_config={"FD_attr": st.column_config.NumberColumn(format="%.2f"),
                            columns["diversity"]: st.column_config.NumberColumn(format="%.2f")})
st.caption(_("Verdict rule: {rule}.").format(rule=results.verdict_rule()))

st.subheader(_("Side by side"))
names = [r["name"] for r in runs]
picked = st.multiselect(_("Experiments to compare (2 to 4)"), names, default=results.default_pick(runs),
                        max_selections=4, key="compare")
if len(picked) < 2:
    st.info(_("Pick at least two experiments to compare."))
    st.stop()
chosen = [next(r for r in runs if r["name"] == n) for n in picked]

for col, r in zip(st.columns(len(chosen)), chosen):
    with col:
        st.markdown(f"#### {r['name']}\n**{_(r['verdict'])}**: {r['reason']}")
        st.markdown(f"{_(r['about'])}  \n`{results.differing_flags(r)}`")
        if quote(r):
            st.caption(_("The report: “{words}”").format(words=quote(r)))

st.vega_lite_chart(pd.DataFrame([row for r in chosen for row in results.losses(r)]), losses_spec())
st.caption(_("Losses are noisy and their scales differ between loss functions (BCE, hinge, least squares): "
             "a GAN's losses say whether the game is balanced, not how good the faces are. The scores below do."))
points = pd.DataFrame([{"experiment": r["name"], **s} for r in chosen for s in r["snapshots"]])
st.vega_lite_chart(points, metrics_spec(results.COLLAPSE_DIVERSITY))

st.markdown(_("**The same latents through training.** One slider moves every experiment's snapshot at once."))
count = min(len(r["snapshots"]) for r in chosen)
k = st.select_slider(_("Snapshot"), options=list(range(count)), value=count - 1, key="snapshot",
                     format_func=lambda i: _("{share:.0%} of the run").format(
                         share=chosen[0]["snapshots"][i]["fraction"] or 0))
for col, r in zip(st.columns(len(chosen)), chosen):
    snap = r["snapshots"][k]
    with col:
        st.image(str(Path(r["dir"]) / snap["grid"]), width="stretch",
                 caption=_("{name}: {images} images, FD_attr {fd}, diversity {diversity}").format(
                     name=r["name"], images=number(snap["images"]), fd=fmt(snap["fd_attr"]),
                     diversity=fmt(snap["diversity"])))
