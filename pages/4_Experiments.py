"""Experiments: the CelebA report's convergence knobs, rerun with one seed and compared side by side."""
from pathlib import Path

import pandas as pd
import streamlit as st

from gan import experiment_results as results
from gan.experiment_charts import losses_spec, metrics_spec

st.set_page_config(page_title="Experiments · GAN lab", layout="wide")

st.title("Why face GANs converge or collapse")
st.markdown(
    "The CSPup/CelebA report ran more than 40 experiments to make its GAN converge: learning rates, weight "
    "decay, SGD for D, several G steps per D step, Tanh in G, other latent sizes. Here each knob is one run "
    "that changes it against our own recipe, the **baseline**, with the same seed, the same data and the same "
    "latents. Every snapshot was scored against held-out faces: **FD_attr** (Fréchet distance of the attribute "
    "classifier's features; lower is better) and the **diversity ratio** (how varied the faces are against "
    "real ones; well below 1 is mode collapse).")


@st.cache_data(show_spinner=False)
def shipped(root: str, stamp: float) -> list[dict]:
    return results.load(root)


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def stamp(root: Path) -> float:
    return max((p.stat().st_mtime for p in root.glob("*/summary.json")), default=0.0)


runs = shipped(str(results.SHIPPED), stamp(results.SHIPPED))
if not runs:
    st.info("No experiment results ship with this copy of the app. Make them with\n\n"
            "```\npython -m gan.experiments run all --out runs/exp --data ../shared/data/celeba/img_align_celeba "
            "--eval-data ../shared/data/celeba-test\npython -m gan.experiments summarize runs/exp "
            "--to checkpoints/experiments\n```\n\n(`python -m gan.experiments list` names them; on a GPU add "
            "`--image-size 64 --budget-images 1000000 --parallel 6`.) Then reload this page.")
    st.stop()

first = runs[0]
st.caption(f"{len(runs)} experiments, each {first['image_size']} px and {first['budget_images']:,} images, "
           f"trained {first.get('hardware', '')}; scores on {first['eval_n']:,} generated and held-out faces.")

st.subheader("Every experiment, ranked by final FD_attr")
table = pd.DataFrame([{"experiment": r["name"], "verdict": r["verdict"], "FD_attr": r["fd_attr"],
                       "diversity ratio": r["diversity"], "what it changes": r["about"],
                       "flags": results.differing_flags(r)} for r in runs])
st.dataframe(table, hide_index=True,
             column_config={"FD_attr": st.column_config.NumberColumn(format="%.2f"),
                            "diversity ratio": st.column_config.NumberColumn(format="%.2f")})
st.caption("Verdict rule: " + results.VERDICT_RULE + ".")

st.subheader("Side by side")
names = [r["name"] for r in runs]
picked = st.multiselect("Experiments to compare (2 to 4)", names, default=results.default_pick(runs),
                        max_selections=4)
if len(picked) < 2:
    st.info("Pick at least two experiments to compare.")
    st.stop()
chosen = [next(r for r in runs if r["name"] == n) for n in picked]

for col, r in zip(st.columns(len(chosen)), chosen):
    with col:
        st.markdown(f"#### {r['name']}\n**{r['verdict']}**: {r['reason']}")
        st.markdown(f"{r['about']}  \n`{results.differing_flags(r)}`")
        if r.get("report_en"):
            st.caption(f"The report: “{r['report_en']}” (original: «{r['report']}»)")

st.vega_lite_chart(pd.DataFrame([row for r in chosen for row in results.losses(r)]), losses_spec())
st.caption("Losses are noisy and their scales differ between loss functions (BCE, hinge, least squares): "
           "a GAN's losses say whether the game is balanced, not how good the faces are. The scores below do.")
points = pd.DataFrame([{"experiment": r["name"], **s} for r in chosen for s in r["snapshots"]])
st.vega_lite_chart(points, metrics_spec(results.COLLAPSE_DIVERSITY))

st.markdown("**The same latents through training.** One slider moves every experiment's snapshot at once.")
count = min(len(r["snapshots"]) for r in chosen)
k = st.select_slider("Snapshot", options=list(range(count)), value=count - 1,
                     format_func=lambda i: f"{(chosen[0]['snapshots'][i]['fraction'] or 0):.0%} of the run")
for col, r in zip(st.columns(len(chosen)), chosen):
    snap = r["snapshots"][k]
    with col:
        st.image(str(Path(r["dir"]) / snap["grid"]), width="stretch",
                 caption=f"{r['name']}: {snap['images']:,} images, FD_attr {fmt(snap['fd_attr'])}, "
                         f"diversity {fmt(snap['diversity'])}")
