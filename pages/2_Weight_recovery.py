"""Weight recovery, live: the game itself. Real and generated samples, D's map, G's pushes and loss surface."""
import streamlit as st
import torch

from gan.i18n import N_, _, number
from gan.navigation import open_page
from gan.serving import LIVE_TRAINING, configure_torch
from gan.toy.charts import curves, diagram, game
from gan.toy.live import ENTRY_NAMES, MAX_STEPS, SPEEDS, LiveRun, parse_number
from gan.toy.optim import D_OPTIMIZERS, G_OPTIMIZERS, OPTIMIZER_NAMES
from gan.toy.plots import outputs_figure
from gan.toy.symmetries import WHY_EQUIVALENT, closest_equivalent, near_singular_note
from gan.toy.training import LOSS_NAMES, LOSSES, REGIMES, ToyConfig, history_csv

DEFAULTS = ToyConfig()  # what `python -m gan.toy recover` runs
REGIME_NAMES = {"joint": N_("joint"), "discriminator": N_("discriminator only"), "generator": N_("generator only")}
REGIME_HELP = {
    "joint": N_("k_d D-steps, then k_g G-steps, every iteration"),
    "discriminator": N_("G frozen at its initial A; only D learns"),
    "generator": N_("D learns against the initial G for the pretrain steps, then is frozen; then only G learns"),
}
PLANES = {"principal": N_("principal directions"), "coordinates": N_("two output coordinates")}
INITS = {"random": N_("random by seed"), "set": N_("set")}
PAIRS = [(i, j) for i in range(4) for j in range(i + 1, 4)]
DIAGRAM_HEIGHT = 190  # pixels, fixed: the page below does not jump while it is drawn afresh

configure_torch()
open_page(N_("Weight recovery"))
st.title(_("Weight recovery, live"))
st.markdown(_(
    "Real samples are G_W(z) = tanh((W ⊗ … ⊗ W) z); the generator is G_A with a learnable 2×2 A; an "
    "MLP discriminator D tells them apart. Watch the generated samples move onto the real ones while D "
    "reshapes the ground under them, and A walk towards W or one of the matrices that produce the same "
    "distribution."
))
state = st.session_state


def matrix_sliders(label: str, letter: str, prefix: str, default: tuple[float, ...]) -> tuple[float, ...]:
    st.markdown(label)
    cols = st.columns(2)
    return tuple(cols[i % 2].slider(f"{letter}[{i // 2},{i % 2}]", -2.0, 2.0, default[i], 0.05, key=f"{prefix}{i}")
                 for i in range(4))


def settings() -> ToyConfig:
    """The sidebar's settings; ValueError with a readable message for a bad one."""
    with st.sidebar:
        st.subheader(_("The run"), help=_("These build a new run: a change waits for Reset."))
        target = matrix_sliders(_("W (target)"), "W", "w", DEFAULTS.target)
        init = None
        if st.radio(_("Initial A"), list(INITS), format_func=lambda k: _(INITS[k]), key="init_mode",
                    horizontal=True) == "set":
            init = matrix_sliders(_("A at step 0"), "A", "a", (0.5, 0.5, 0.5, 0.5))
        n = st.slider("n (N = 2ⁿ)", 1, 6, DEFAULTS.n, key="n")
        seed = st.number_input(_("Seed"), 0, 1_000_000, DEFAULTS.seed, key="seed")
        st.subheader(_("Training"), help=_("These take effect from the next step, without a reset."))
        regime = st.selectbox(_("Regime"), REGIMES, format_func=lambda k: _(REGIME_NAMES[k]), key="regime",
                              help="; ".join(f"{_(REGIME_NAMES[k])}: {_(v)}" for k, v in REGIME_HELP.items()))
        pretrain = DEFAULTS.pretrain
        if regime == "generator":
            pretrain = st.number_input(_("D pretrain steps"), 0, 1000, DEFAULTS.pretrain, key="pretrain")
        loss = st.selectbox(_("Loss"), LOSSES, format_func=lambda k: _(LOSS_NAMES[k]), key="loss")
        d_col, g_col = st.columns(2)
        d_opt = d_col.selectbox(_("D optimizer"), D_OPTIMIZERS, format_func=lambda k: _(OPTIMIZER_NAMES[k]),
                                key="d_opt")
        lr_d = d_col.text_input(_("D learning rate"), f"{DEFAULTS.lr_d:g}", key="lr_d")
        k_d = d_col.number_input("k_d", 1, 10, DEFAULTS.k_d, key="k_d")
        g_opt = g_col.selectbox(_("G optimizer"), G_OPTIMIZERS, format_func=lambda k: _(OPTIMIZER_NAMES[k]),
                                key="g_opt",
                                help=_("Adam, full matrix: Adam's step divided by the square root of the whole 4×4 "
                                       "second-moment matrix of A's gradient, not just its diagonal. It walks fast "
                                       "along the combinations of A's entries that D barely sees."))
        lr_g = g_col.text_input(_("G learning rate"), f"{DEFAULTS.lr_g:g}", key="lr_g")
        k_g = g_col.number_input("k_g", 1, 10, DEFAULTS.k_g, key="k_g")
        batch = st.select_slider(_("Batch"), (32, 64, 128, 256, 512, 1024, 2048), DEFAULTS.batch, key="batch")
        steps = st.number_input(_("Iterations (at most {most})").format(most=MAX_STEPS), 1, MAX_STEPS, DEFAULTS.steps,
                                key="steps")
        ema = st.number_input(_("Averaging decay of A"), 0.0, 0.999, DEFAULTS.ema, 0.01, format="%.3f", key="ema",
                              help=_("The run reports the running average of A: avg ← decay·avg + (1 − decay)·A. "
                                     "0 reports the last A."))
    return ToyConfig(target=target, init=init, n=n, regime=regime, loss=loss, d_opt=d_opt, g_opt=g_opt,
                     lr_d=parse_number(lr_d, _("D learning rate")), lr_g=parse_number(lr_g, _("G learning rate")),
                     k_d=k_d, k_g=k_g, batch=batch, pretrain=pretrain, steps=steps, ema=ema, seed=seed)


def view_settings(N: int) -> tuple[tuple[int, int] | None, tuple[int, int]]:
    """The data view's plane (None: principal directions) and the loss surface's two entries of A."""
    with st.sidebar:
        st.subheader(_("Views"))
        plane = st.radio(_("Data view plane"), list(PLANES), format_func=lambda k: _(PLANES[k]), key="plane",
                         horizontal=True)
        coordinates = None
        if plane == "coordinates":
            for key in ("coord_i", "coord_j"):  # n may have shrunk since
                state[key] = min(state.get(key, 0 if key == "coord_i" else 1), N - 1)
            left, right = st.columns(2)
            i = left.number_input(_("coordinate"), 0, N - 1, key="coord_i")
            j = right.number_input(_("and"), 0, N - 1, key="coord_j")
            coordinates = (i, j) if i != j else (i, (i + 1) % N)
        entries = st.selectbox(_("Loss surface over"), PAIRS, index=PAIRS.index((0, 1)), key="surface",
                               format_func=lambda p: _("{a} and {b}").format(a=ENTRY_NAMES[p[0]], b=ENTRY_NAMES[p[1]]))
    return coordinates, entries


def results(run) -> None:
    A = run.weights()
    match, matched, error = closest_equivalent(A, run.W, run.cfg.n)
    st.subheader(_("Recovered A, W and the equivalent it matched"))
    cols = st.columns(3)
    for col, (heading, M) in zip(cols, ((_("A (recovered: the running average)"), A), (_("W (target)"), run.W),
                                        (_("matched: {name}").format(name=_(match)), matched))):
        col.markdown(f"**{heading}**")
        col.dataframe(M.numpy().round(3), hide_index=True)
    st.markdown(_("Symmetric error **{error:.4f}**. {why}").format(error=error, why=_(WHY_EQUIVALENT[match])))
    z = torch.rand(5, 2 ** run.cfg.n, generator=torch.Generator().manual_seed(run.cfg.seed))
    panels = [(_("before: G_A₀"), run.A0), (_("after: G_A"), A),
              (_("ideal: G_W' ({name})").format(name=_(match)), matched)]
    st.pyplot(outputs_figure(panels, z), clear_figure=True)
    st.caption(_("The same five noise vectors through each generator (the report's plot). The ideal uses the "
                 "equivalent of W that A matched: the same distribution as G_W, and comparable sample by sample."))
    st.download_button(_("Download the history (CSV)"), history_csv(run.history), "toy_gan_history.csv", "text/csv",
                       key="download")


try:
    cfg, problem = settings(), None
except ValueError as e:
    cfg, problem = None, str(e)
if "toy" not in state:
    state.toy = LiveRun(DEFAULTS)
live = state.toy
note = None
if cfg is not None:
    try:
        note = live.configure(cfg)
    except ValueError as e:
        problem = str(e)
coordinates, entries = view_settings(live.run.N)
live.speed = SPEEDS[st.select_slider(_("Speed"), list(SPEEDS), value="full speed", key="speed", format_func=_,
                                     help=_("Slow motion to watch single steps; full speed trains as fast as the "
                                            "server's share allows."))]
run = live.run
busy = live.running or run.done
start, pause, d_step, g_step, iteration, restart = st.columns(6)
start.button(_("Start"), key="start", type="primary", disabled=busy, width="stretch", on_click=live.start)
pause.button(_("Pause"), key="pause", disabled=not live.running, width="stretch", on_click=live.pause)
d_step.button(_("D step"), key="d_step", disabled=busy, width="stretch", on_click=live.d_step,
              help=_("One step of D's optimizer"))
g_step.button(_("G step"), key="g_step", disabled=busy, width="stretch", on_click=live.g_step,
              help=_("One step of G's optimizer"))
iteration.button(_("Iteration"), key="iteration", disabled=busy, width="stretch", on_click=live.iteration,
                 help=_("One iteration of the regime: k_d D-steps, then k_g G-steps"))
restart.button(_("Reset"), key="reset", width="stretch", on_click=lambda: live.reset(cfg or run.cfg))
st.caption(_("Learning rates, k_d, k_g, the loss, the optimizers, the batch and the regime take effect from the next "
             "step; each change is a labelled rule on the curves. W, n, the seed and the initial A build the run: "
             "they need Reset."))
if problem:
    st.error(_("{problem}. The run keeps its last good settings.").format(problem=problem))
if note:
    st.info(note)
if warning := near_singular_note(run.W):
    st.warning(warning)
if live.message:
    st.error(live.message)

every = live.interval(LIVE_TRAINING.interval())  # between live updates: 0.14 s alone, 0.4 s in a class
timed = live.running  # the live views rerun on a timer until the next full run


def model_view() -> None:
    """The model with its latest numbers, drawn afresh every few live updates (the browser lays a Graphviz chart out
    anew on every change: a spike of 0.15-0.2 s, measured), in one of two places by turns: it redraws a chart in
    place by tweening every path of the old drawing into the new, but draws a new chart directly. In between, the
    same chart again, which the browser leaves as it is; no fragment of its own, so no script run of its own."""
    dot = live.model_chart.get(lambda: diagram(live.run), every, fresh=not live.running)
    for slot in range(2):
        if slot == live.model_chart.made % 2:
            st.graphviz_chart(dot, width="stretch", height=DIAGRAM_HEIGHT)
        else:
            st.empty()


@st.fragment(run_every=every if timed else None)
def live_view() -> None:
    # A full rerun when the run finished or diverged at the last update, which drew it (it stops the timer and shows
    # the results; a rerun at once would drop that update's views, not yet sent), or when a class began or ended
    # training since Start (the timer is set by a full run: a run started alone must not keep a lone pace).
    if timed and (not live.running or live.interval(LIVE_TRAINING.interval()) != every):
        st.rerun()
    with LIVE_TRAINING.turn(id(live), per_second=1 / every) as seconds, live.lock:  # one update, one thread
        if live.running:
            live.advance(seconds)
        run = live.run
        model_view()
        if not run.history:
            st.info(_("Press Start to train, or take one D step, one G step or one iteration."))
        last = run.history[-1] if run.history else None
        match, matched, _error = closest_equivalent(run.A.detach(), run.W, run.cfg.n)
        if last:
            changed = "".join(_(" · last change, after step {step}: {label}").format(**c) for c in run.changes[-1:])
            st.markdown(_("**Iteration {step} of {steps}** · {d} D steps, {g} G steps · symmetric error of A "
                          "**{error:.4f}** (nearest: {match}), of its running average **{ema_error:.4f}**{changed}")
                        .format(step=number(last["step"]), steps=number(run.cfg.steps), d=number(last["d_updates"]),
                                g=number(last["g_updates"]), error=last["error"], match=_(match),
                                ema_error=last["ema_error"], changed=changed))
        scene = live.scene(coordinates, entries)
        st.vega_lite_chart(game(scene, run.cfg.loss))
        where = (_("N = 2: the plane is the whole output space, so D's map is exact") if scene.plane.exact else
                 _("N = {N}: the plane is a slice through the real data's mean; D's map is D on that slice")
                 .format(N=run.N))
        outlines = _(" Lines: G_A's and G_W's images of the unit square.") if scene.outlines else ""
        st.caption(_("Left: {where}. Black arrows: −∂loss_G/∂x, where G's loss pushes each generated sample "
                     "(projected on the plane, the longest a tenth of the view).{outlines} Right: G's loss against "
                     "the current D over two entries of A, the other two as they are now; white: A's path, "
                     "diamonds: W's equivalents. G descends this landscape while D keeps reshaping it, so the "
                     "ground moves under A at every D step.").format(where=where, outlines=outlines))
        # Drawn afresh every few updates while training (the browser's dearest chart), else the last one; and drawn
        # before the first step too, empty, so that the browser has built the chart before training starts.
        st.vega_lite_chart(live.curves_chart.get(lambda: curves(run, matched), every, fresh=not live.running))


live_view()
if run.history and not live.running:
    results(run)
