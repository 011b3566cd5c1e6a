"""The live toy lab as Vega-Lite specs over Arrow tables (drawn in the browser), and the model as a Graphviz graph."""
from __future__ import annotations

import json

import pyarrow as pa
import torch

from gan.i18n import N_, _
from gan.toy.live import ENTRY_NAMES, Scene
from gan.toy.training import LOSS_NAMES, ToyGAN

REAL, FAKE = "#1b7837", "#762a83"  # green and purple, as GAN Lab draws them
CANVAS = {"embedOptions": {"renderer": "canvas"}}  # vega-embed reads it: one bitmap, not thousands of SVG nodes
# No ARIA: a canvas has no element per mark to carry it, yet Vega-Lite would build every mark's description
# ("1st principal direction: 0.12; ...") at every update, with number formatting, through Streamlit's expression
# interpreter: most of the browser's work per update.
QUIET = {"aria": False}
LIVE_POINTS = 200  # points per curve: the browser redraws them all at every update
SERIES = {"d_loss": N_("D loss"), "g_loss": N_("G loss"), "d_real": "D(real)", "d_fake": "D(fake)",
          "a00": "A[0,0]", "a01": "A[0,1]", "a10": "A[1,0]", "a11": "A[1,1]", "grad_norm": N_("gradient norm"),
          "error": "A", "ema_error": N_("running average of A"), "distance": N_("energy distance")}  # shown: _(name)


def kinds() -> tuple[str, str, dict]:
    """The two kinds of samples as the legend names them, and their colour scale."""
    real, generated = _("real samples"), _("generated samples")
    return real, generated, {"domain": [real, generated], "range": [REAL, FAKE]}


def table(**columns: torch.Tensor | list) -> pa.Table:
    return pa.table({k: v.numpy() if isinstance(v, torch.Tensor) else v for k, v in columns.items()})


def title(text: str) -> dict:
    return {"text": text, "fontSize": 11, "fontWeight": "normal", "anchor": "start"}


def axis(field: str, name: str, domain: tuple[float, float] | None = None) -> dict:
    """A quantitative position channel over a fixed domain, or one from the data. Either way the spec stays the
    same from one update to the next, so the browser updates the chart's data in place instead of building it
    anew; a fixed domain also spares it the axes' redrawing."""
    scale = {"nice": False, "zero": False, **({"domain": list(domain)} if domain else {})}
    return {"field": field, "type": "quantitative", "title": name, "scale": scale}


# ------------------------------------------------------------------------------------------ the game

def data_view(s: Scene, loss: str, size: int = 360) -> tuple[dict, dict[str, pa.Table]]:
    """Real and generated samples in the plane over D's map, G's arrows and (n = 1) the unit square's images,
    in the run's fixed box. The real samples are a dataset of their own: the same bytes at every update, which
    the browser does not redraw."""
    du, dv = s.cell
    (u, v), keep = s.centres.T, ~s.d_values.isnan()
    real, generated, scale = kinds()
    u0, u1, v0, v1 = s.frame
    longest = s.arrows.norm(dim=1).max().clamp_min(1e-12)
    push = s.arrows * (0.1 * max(u1 - u0, v1 - v0) / longest)  # the longest arrow: a tenth of the view
    tip = s.fake[: len(push)] + push
    data = {
        "dmap": table(u=u[keep] - du / 2, u2=u[keep] + du / 2, v=v[keep] - dv / 2, v2=v[keep] + dv / 2,
                      d=s.d_values[keep]),
        "real": table(u=s.real[:, 0], v=s.real[:, 1], kind=[real] * len(s.real)),
        "generated": table(u=s.fake[:, 0], v=s.fake[:, 1]),
        "arrows": table(u=s.fake[: len(push), 0], v=s.fake[: len(push), 1], u2=tip[:, 0], v2=tip[:, 1]),
        "outlines": table(u=torch.cat([o[:, 0] for o in s.outlines.values()]) if s.outlines else [],
                          v=torch.cat([o[:, 1] for o in s.outlines.values()]) if s.outlines else [],
                          order=[i for o in s.outlines.values() for i in range(len(o))],
                          kind=[(generated if name == "G_A" else real) for name, o in s.outlines.items()
                                for _ in range(len(o))]),
    }
    x, y = axis("u", s.plane.axes[0], (u0, u1)), axis("v", s.plane.axes[1], (v0, v1))
    score = _("D(x), raw score") if loss == "lsq" else _("D(x) = P(real)")
    spec = {
        "title": title(_("The data: real (green) and generated (purple) samples over D's map")),
        "width": size, "height": size,
        "layer": [
            {"data": {"name": "dmap"}, "mark": {"type": "rect", "opacity": 0.6},
             "encoding": {"x": x, "x2": {"field": "u2"}, "y": y, "y2": {"field": "v2"},
                          "color": {"field": "d", "type": "quantitative", "title": score,
                                    "scale": {"scheme": "purplegreen", "domain": [0, 1], "clamp": True},
                                    "legend": {"orient": "bottom", "gradientLength": 160}}}},
            {"data": {"name": "outlines"}, "mark": {"type": "line", "strokeWidth": 1.5, "clip": True},
             "encoding": {"x": x, "y": y, "order": {"field": "order", "type": "quantitative"},
                          "detail": {"field": "kind"},
                          "color": {"field": "kind", "type": "nominal", "scale": scale, "legend": None}}},
            {"data": {"name": "real"}, "mark": {"type": "circle", "size": 14, "opacity": 0.75, "clip": True},
             "encoding": {"x": x, "y": y,  # the legend names both kinds
                          "color": {"field": "kind", "type": "nominal", "scale": scale,
                                    "legend": {"orient": "bottom", "title": None}}}},
            {"data": {"name": "generated"},
             "mark": {"type": "circle", "size": 14, "opacity": 0.75, "color": FAKE, "clip": True},
             "encoding": {"x": x, "y": y}},
            {"data": {"name": "arrows"}, "mark": {"type": "rule", "color": "#111", "strokeWidth": 1.2, "clip": True},
             "encoding": {"x": x, "y": y, "x2": {"field": "u2"}, "y2": {"field": "v2"}}},
            {"data": {"name": "arrows"}, "mark": {"type": "point", "shape": "circle", "size": 10, "filled": True,
                                                  "color": "#111", "clip": True},
             "encoding": {"x": {**x, "field": "u2"}, "y": {**y, "field": "v2"}}},
        ],
        "resolve": {"scale": {"color": "independent"}},
    }
    return spec, data


def surface_view(s: Scene, size: int = 300) -> tuple[dict, dict[str, pa.Table]]:
    """G's loss over two entries of A (the others as they are now), A's path so far, and W's equivalents."""
    i, j = s.entries
    du, dv = (s.surface_u[1] - s.surface_u[0]).item(), (s.surface_v[1] - s.surface_v[0]).item()
    a, b = torch.cartesian_prod(s.surface_u, s.surface_v).T
    data = {
        "surface": table(a=a - du / 2, a2=a + du / 2, b=b - dv / 2, b2=b + dv / 2, loss=s.surface.flatten()),
        "path": table(a=s.path[:, 0], b=s.path[:, 1], order=torch.arange(len(s.path))),
        "now": table(a=s.path[-1:, 0], b=s.path[-1:, 1], name=[_("A now")]),
        "equivalents": table(a=[e[1] for e in s.equivalents], b=[e[2] for e in s.equivalents],
                             name=[_(e[0]) for e in s.equivalents]),
    }
    x, y = axis("a", ENTRY_NAMES[i]), axis("b", ENTRY_NAMES[j])
    spec = {
        "title": title(_("G's loss over {a} and {b}, against D as it is now").format(a=ENTRY_NAMES[i],
                                                                                  b=ENTRY_NAMES[j])),
        "width": size, "height": size,
        "layer": [
            {"data": {"name": "surface"}, "mark": "rect",
             "encoding": {"x": x, "x2": {"field": "a2"}, "y": y, "y2": {"field": "b2"},
                          "color": {"field": "loss", "type": "quantitative", "title": _("G's loss"),
                                    "scale": {"scheme": "viridis", "reverse": True},
                                    "legend": {"orient": "bottom", "gradientLength": 140}}}},
            {"data": {"name": "path"}, "mark": {"type": "line", "color": "white", "strokeWidth": 1.5, "clip": True},
             "encoding": {"x": x, "y": y, "order": {"field": "order", "type": "quantitative"}}},
            {"data": {"name": "now"}, "mark": {"type": "point", "filled": True, "size": 70, "color": FAKE,
                                               "stroke": "white", "clip": True},
             "encoding": {"x": x, "y": y, "tooltip": {"field": "name"}}},
            {"data": {"name": "equivalents"}, "mark": {"type": "point", "shape": "diamond", "filled": True, "size": 80,
                                                       "color": REAL, "stroke": "white", "clip": True},
             "encoding": {"x": x, "y": y, "tooltip": {"field": "name"}}},
            {"data": {"name": "equivalents"}, "mark": {"type": "text", "dy": -10, "fontSize": 10, "color": "white",
                                                       "clip": True},
             "encoding": {"x": x, "y": y, "text": {"field": "name"}}},
        ],
    }
    return spec, data


def game(s: Scene, loss: str) -> dict:
    """The data view and the loss surface side by side, one spec with named datasets."""
    (left, left_data), (right, right_data) = data_view(s, loss), surface_view(s)
    return {"hconcat": [left, right], "datasets": {**left_data, **right_data},
            "resolve": {"scale": {"color": "independent"}}, "usermeta": CANVAS, "config": QUIET}


# ------------------------------------------------------------------------------------------ the curves

def panel(heading: str, fields: list[str], width: int, height: int, targets: bool = False, labels: bool = False,
          data: str = "history") -> dict:
    """One line chart of fields of a dataset, with each change of settings as a vertical rule (labelled if
    `labels`) and, if `targets`, the rows of the `targets` dataset as dashed horizontal rules in their series'
    colours. The spec depends on nothing that changes while a run trains, so an update only sends new data."""
    names = {f: _(SERIES[f]) for f in fields}
    color = {"field": "key", "type": "nominal", "scale": {"scheme": "tableau10", "domain": fields},
             "legend": {"orient": "top", "title": None,
                        "labelExpr": f"{json.dumps(names, ensure_ascii=False)}[datum.label]"}}
    lines = {
        "data": {"name": data},
        "transform": [{"fold": fields, "as": ["key", "value"]}],  # no expression per row: Streamlit runs them
        # through Vega's interpreter, which cost more than the drawing (the legend names the series instead)
        "mark": {"type": "line", "clip": True},
        "encoding": {
            "x": {"field": "step", "type": "quantitative", "title": _("step")},
            "y": {"field": "value", "type": "quantitative", "title": None, "scale": {"zero": False}},
            "color": color,
        },
    }
    dashed = {"data": {"name": "targets"}, "mark": {"type": "rule", "strokeDash": [5, 3]},
              "encoding": {"y": {"field": "value", "type": "quantitative"}, "color": color}}
    rules = {"data": {"name": "changes"}, "mark": {"type": "rule", "color": "#888", "strokeDash": [3, 2]},
             "encoding": {"x": {"field": "at", "type": "quantitative"}}}
    text = {"data": {"name": "changes"},
            "mark": {"type": "text", "angle": 270, "align": "right", "baseline": "bottom", "dx": -4, "dy": -2,
                     "fontSize": 9, "color": "#555"},
            "encoding": {"x": {"field": "at", "type": "quantitative"}, "y": {"value": 0},
                         "text": {"field": "label"}}}
    return {"title": title(heading), "width": width, "height": height,
            "layer": [lines, *([dashed] if targets else []), rules, *([text] if labels else [])]}


def curves(run: ToyGAN, matched: torch.Tensor) -> dict:
    """Every scalar curve of the run in one spec: losses, D's means, A's entries, gradient, errors, distance."""
    stride = max(1, -(-len(run.history) // LIVE_POINTS))
    sampled = run.history[::-1][::stride][::-1]
    history = pa.table({k: [r[k] for r in sampled] for k in ("step", *SERIES) if k != "distance"})
    measured = [r for r in run.history if r["distance"] is not None]  # every 10th step: at most 300
    distances = table(step=[r["step"] for r in measured], distance=[r["distance"] for r in measured])
    changes = table(at=[c["step"] + 0.5 for c in run.changes], label=[c["label"] for c in run.changes])
    targets = table(key=["a00", "a01", "a10", "a11"], value=matched.flatten())
    scale = _("raw scores") if run.cfg.loss == "lsq" else _("probability of real")
    entries = [f"a{k // 2}{k % 2}" for k in range(4)]
    rows = [
        [panel(_("Losses"), ["d_loss", "g_loss"], 390, 150, labels=True),
         panel(_("Mean D(real) and D(fake), {scale}").format(scale=scale), ["d_real", "d_fake"], 390, 150)],
        [panel(_("A's entries and, dashed, the nearest equivalent of W"), entries, 390, 150, targets=True),
         panel(_("Norm of G's gradient ‖∂loss_G/∂A‖"), ["grad_norm"], 390, 150)],
        [panel(_("Symmetric error: max |A − W'|, nearest equivalent W'"), ["error", "ema_error"], 390, 150),
         panel(_("Energy distance, real vs generated samples"), ["distance"], 390, 150, data="distances")],
    ]
    independent = {"scale": {"color": "independent"}}
    return {"vconcat": [{"hconcat": row, "resolve": independent} for row in rows], "resolve": independent,
            "usermeta": CANVAS, "config": QUIET,
            "datasets": {"history": history, "distances": distances, "changes": changes, "targets": targets}}


# ------------------------------------------------------------------------------------------ the model

def diagram(run: ToyGAN) -> str:
    """z → G_A → fake, z → G_W → real, both → D → the two losses, with the latest numbers on it (DOT)."""
    last = run.history[-1] if run.history else None

    def number(key: str) -> str:
        return f"{last[key]:.3f}" if last else "–"

    A, W = (" ".join(f"{x:.2f}" for x in M.flatten().tolist()) for M in (run.A.detach(), run.W))
    d_out = _("score") if run.cfg.loss == "lsq" else "P(real)"
    data, generated, real = _("G_W, the data"), _("generated samples"), _("real samples")
    mean, d_loss, g_loss = _("mean D"), _("D's loss"), _("G's loss")
    return f"""digraph {{
  rankdir=LR; bgcolor="transparent"; node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];
  edge [color="#666"];
  z [label="z ~ U[0, 1]^{run.N}", fillcolor="#eeeeee"];
  GA [label="G_A = tanh(A⊗…⊗A z)\\nA = [{A}]", fillcolor="#e7d4e8"];
  GW [label="{data}\\nW = [{W}]", fillcolor="#d9f0d3"];
  D [label="D: MLP {run.N} → {run.cfg.hidden} → {run.cfg.hidden} → 1", fillcolor="#fde0b0"];
  fake [label="{generated}\\n{mean} {d_out} {number('d_fake')}", shape=ellipse, fillcolor="#e7d4e8"];
  real [label="{real}\\n{mean} {d_out} {number('d_real')}", shape=ellipse, fillcolor="#d9f0d3"];
  ld [label="{d_loss} {number('d_loss')}", shape=note, fillcolor="#ffffff"];
  lg [label="{g_loss} {number('g_loss')}\\n({_(LOSS_NAMES[run.cfg.loss])})", shape=note, fillcolor="#ffffff"];
  z -> GA -> fake -> D; z -> GW -> real -> D; D -> ld; D -> lg;
  lg -> GA [style=dashed, label=" ∂/∂A", fontsize=9, constraint=false];
}}"""
