"""Weight recovery, live: a GAN recovers a 2x2 matrix W, up to symmetry, or fails to, while you watch."""
import pyarrow as pa
import streamlit as st
import torch

from gan.serving import LIVE_TRAINING, configure_torch
from gan.toy.model import as_matrix
from gan.toy.optim import D_OPTIMIZERS, G_OPTIMIZERS, OPTIMIZER_NAMES
from gan.toy.plots import outputs_figure
from gan.toy.symmetries import WHY_EQUIVALENT, closest_equivalent, near_singular_note
from gan.toy.training import LOSS_NAMES, LOSSES, REGIMES, Diverged, ToyConfig, ToyGAN, history_csv, validate

DEFAULTS = ToyConfig()  # what `python -m gan.toy recover` runs
MAX_STEPS = 3000  # per run: one session cannot start unbounded compute
CHUNK_SECONDS = 0.05  # training per live update; at 5 updates a second, at most a quarter of a core
LIVE_POINTS = 300  # points per live chart
REGIME_HELP = {
    "joint": "k_d D-steps, then k_g G-steps, every iteration",
    "discriminator": "G frozen at its initial A; only D learns",
    "generator": "D learns against the initial G for the pretrain steps, then is frozen; then only G learns",
}

configure_torch()
st.set_page_config(page_title="Weight recovery · GAN lab", layout="wide")
st.title("Weight recovery, live")
st.markdown(
    "Real samples are G_W(z) = tanh((W ⊗ … ⊗ W) z); the generator is G_A with a learnable 2×2 A; an "
    "MLP discriminator D tells them apart. Watch A walk towards W, or towards one of the matrices "
    "that produce the same distribution as W."
)
state = st.session_state


def matrix_sliders(label: str, prefix: str, default: tuple[float, ...]) -> tuple[float, ...]:
    st.markdown(label)
    cols = st.columns(2)
    return tuple(cols[i % 2].slider(f"{label[:1]}[{i // 2},{i % 2}]", -2.0, 2.0, default[i], 0.05, key=f"{prefix}{i}")
                 for i in range(4))


def settings() -> ToyConfig:
    with st.sidebar:
        target = matrix_sliders("W (target)", "w", DEFAULTS.target)
        init = None
        if st.radio("Initial A", ("random by seed", "set"), key="init_mode", horizontal=True) == "set":
            init = matrix_sliders("A at step 0", "a", (0.5, 0.5, 0.5, 0.5))
        n = st.slider("n (N = 2ⁿ)", 1, 6, DEFAULTS.n, key="n")
        regime = st.selectbox("Regime", REGIMES, key="regime",
                              help="; ".join(f"{k}: {v}" for k, v in REGIME_HELP.items()))
        pretrain = DEFAULTS.pretrain
        if regime == "generator":
            pretrain = st.number_input("D pretrain steps", 0, 1000, DEFAULTS.pretrain, key="pretrain")
        loss = st.selectbox("Loss", LOSSES, format_func=LOSS_NAMES.get, key="loss")
        d_col, g_col = st.columns(2)
        d_opt = d_col.selectbox("D optimizer", D_OPTIMIZERS, format_func=OPTIMIZER_NAMES.get, key="d_opt")
        lr_d = d_col.number_input("D learning rate", 1e-5, 1e3, DEFAULTS.lr_d, 1e-3, format="%.4g", key="lr_d")
        k_d = d_col.number_input("k_d", 1, 10, DEFAULTS.k_d, key="k_d")
        g_opt = g_col.selectbox("G optimizer", G_OPTIMIZERS, format_func=OPTIMIZER_NAMES.get, key="g_opt",
                                help="Adam, full matrix: Adam's step divided by the square root of the whole 4×4 "
                                     "second-moment matrix of A's gradient, not just its diagonal. It walks fast "
                                     "along the combinations of A's entries that D barely sees.")
        lr_g = g_col.number_input("G learning rate", 1e-5, 1e3, DEFAULTS.lr_g, 1e-3, format="%.4g", key="lr_g")
        k_g = g_col.number_input("k_g", 1, 10, DEFAULTS.k_g, key="k_g")
        batch = st.select_slider("Batch", (32, 64, 128, 256, 512, 1024, 2048), DEFAULTS.batch, key="batch")
        steps = st.number_input(f"Iterations (at most {MAX_STEPS})", 1, MAX_STEPS, DEFAULTS.steps, key="steps")
        ema = st.number_input("Averaging decay of A", 0.0, 0.999, DEFAULTS.ema, 0.01, format="%.3f", key="ema",
                              help="The run reports the running average of A: avg ← decay·avg + (1 − decay)·A. "
                                   "0 reports the last A.")
        seed = st.number_input("Seed", 0, 1_000_000, DEFAULTS.seed, key="seed")
    return ToyConfig(target=target, init=init, n=n, regime=regime, loss=loss, d_opt=d_opt, g_opt=g_opt,
                     lr_d=lr_d, lr_g=lr_g, k_d=k_d, k_g=k_g, batch=batch, pretrain=pretrain, steps=steps, ema=ema,
                     seed=seed)


def reset(cfg: ToyConfig) -> None:
    state.toy_run, state.toy_running, state.toy_message = ToyGAN(cfg), False, None


def advance(seconds: float, max_steps: int) -> None:
    """Train the session's run a little; a divergence stops it with its message."""
    try:
        state.toy_run.train_for(seconds, max_steps)
    except Diverged as e:
        state.toy_running, state.toy_message = False, str(e)
    if state.toy_run.done:
        state.toy_running = False


SERIES = {"d_loss": "D loss", "g_loss": "G loss", "d_real": "D(real)", "d_fake": "D(fake)", "a00": "A[0,0]",
          "a01": "A[0,1]", "a10": "A[1,0]", "a11": "A[1,1]", "grad_norm": "gradient norm", "error": "A",
          "ema_error": "running average of A", "target": "target"}


def panel(title: str, fields: list[str], width: int, height: int, target: float | None = None) -> dict:
    """One line chart of the live table's fields (and a dashed constant target), folded in the browser."""
    constant = [] if target is None else [{"calculate": repr(target), "as": "target"}]
    return {
        "title": {"text": title, "fontSize": 11, "fontWeight": "normal", "anchor": "start"},
        "width": width, "height": height,
        "transform": [*constant, {"fold": fields + ["target"] * bool(constant), "as": ["key", "value"]},
                      {"calculate": f"{SERIES}[datum.key]", "as": "series"},
                      {"calculate": "datum.key == 'target'", "as": "dashed"}],
        "mark": {"type": "line", "clip": True},
        "encoding": {
            "x": {"field": "step", "type": "quantitative", "title": "iteration"},
            "y": {"field": "value", "type": "quantitative", "title": None, "scale": {"zero": False}},
            "color": {"field": "series", "type": "nominal", "legend": {"orient": "top", "title": None}},
            "strokeDash": {"field": "dashed", "type": "nominal", "legend": None},
        },
    }


def live_charts(run: ToyGAN) -> None:
    """Every live chart as one Vega-Lite spec over one Arrow table: one element per update, no pandas."""
    stride = max(1, -(-len(run.history) // LIVE_POINTS))
    rows = run.history[::-1][::stride][::-1]
    table = pa.table({k: [r[k] for r in rows] for k in ("step", *SERIES) if k != "target"})
    last = run.history[-1]
    match, matched, _ = closest_equivalent(run.A.detach(), run.W, run.cfg.n)
    st.markdown(f"**Iteration {last['step']:,} of {run.cfg.steps:,}** · symmetric error of A "
                f"**{last['error']:.4f}** (nearest: {match}), of its running average **{last['ema_error']:.4f}**")
    scale = "raw scores" if run.cfg.loss == "lsq" else "probability of real"
    entries = matched.flatten().tolist()
    spec = {"vconcat": [
        {"hconcat": [panel("Losses", ["d_loss", "g_loss"], 440, 180),
                     panel(f"Mean D(real) and D(fake), {scale}", ["d_real", "d_fake"], 440, 180)]},
        {"hconcat": [panel(f"A[{k // 2},{k % 2}] and, dashed, {match}", [f"a{k // 2}{k % 2}"], 200, 150, entries[k])
                     for k in range(4)]},
        {"hconcat": [panel("Norm of G's gradient ‖∂loss_G/∂A‖", ["grad_norm"], 440, 160),
                     panel("Symmetric error: max |A − W'| for the nearest equivalent W' of W", ["error", "ema_error"],
                           440, 160)]},
    ], "resolve": {"scale": {"color": "independent", "strokeDash": "independent"}}}
    st.vega_lite_chart(table, spec)


def results(run: ToyGAN) -> None:
    A = run.weights()
    match, matched, error = closest_equivalent(A, run.W, run.cfg.n)
    st.subheader("Recovered A, W and the equivalent it matched")
    cols = st.columns(3)
    for col, (title, M) in zip(cols, (("A (recovered: the running average)", A), ("W (target)", run.W),
                                      (f"matched: {match}", matched))):
        col.markdown(f"**{title}**")
        col.dataframe(M.numpy().round(3), hide_index=True)
    st.markdown(f"Symmetric error **{error:.4f}**. {WHY_EQUIVALENT[match]}")
    z = torch.rand(5, 2 ** run.cfg.n, generator=torch.Generator().manual_seed(run.cfg.seed))
    panels = [("before: G_A₀", run.A0), ("after: G_A", A), (f"ideal: G_W' ({match})", matched)]
    st.pyplot(outputs_figure(panels, z), clear_figure=True)
    st.caption("The same five noise vectors through each generator (the report's plot). The ideal uses the "
               "equivalent of W that A matched: the same distribution as G_W, and comparable sample by sample.")
    st.download_button("Download the history (CSV)", history_csv(run.history), "toy_gan_history.csv", "text/csv")


cfg = settings()
try:
    validate(cfg)
except ValueError as e:
    st.error(f"Cannot train with these settings: {e}")
    st.stop()
if "toy_run" not in state:
    reset(cfg)
elif state.toy_run.step_count == 0 and state.toy_run.cfg != cfg:
    state.toy_run = ToyGAN(cfg)  # nothing trained yet: follow the settings
run = state.toy_run

start, pause, step, restart = st.columns(4)
start.button("Start", type="primary", disabled=state.toy_running or run.done, width="stretch",
             on_click=lambda: state.update(toy_running=True))
pause.button("Pause", disabled=not state.toy_running, width="stretch", on_click=lambda: state.update(toy_running=False))
step.button("Step", disabled=state.toy_running or run.done, width="stretch", on_click=advance, args=(float("inf"), 1))
restart.button("Reset", width="stretch", on_click=reset, args=(cfg,))
if run.cfg != cfg:
    st.info("The settings changed: press Reset to start a new run with them.")
if note := near_singular_note(as_matrix(cfg.target)):
    st.warning(note)
if state.toy_message:
    st.error(state.toy_message)


every = LIVE_TRAINING.interval()  # between live updates: 0.18 s, or 0.4 s while a class trains at once


@st.fragment(run_every=every if state.toy_running else None)
def live() -> None:
    with LIVE_TRAINING.turn(id(state.toy_run), per_second=1 / every) as seconds:
        if state.toy_running:
            advance(min(CHUNK_SECONDS, seconds), max_steps=MAX_STEPS)
            if not state.toy_running:  # finished or diverged: a full rerun stops the timer and shows the results
                st.rerun()
        if state.toy_run.history:
            live_charts(state.toy_run)
        else:
            st.info("Press Start to train, or Step for one iteration.")


live()
if run.history and not state.toy_running:
    results(run)
