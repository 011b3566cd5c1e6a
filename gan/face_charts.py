"""Vega-Lite specs for the Faces page's latent-space tabs (SeFa, projection, the discriminator's view).

Their titles are in the session's language (gan.i18n); the data's field names stay English keys.
"""
from __future__ import annotations

import torch

from gan.i18n import _


def cosine_chart(cos: torch.Tensor, names: list[str]) -> dict:
    """A Vega-Lite heat map of cosine similarities: directions down, attributes (names as shown) across."""
    rows = [{"direction": _("direction {k}").format(k=k), "attribute": a, "cosine": round(float(cos[k, i]), 2)}
            for k in range(len(cos)) for i, a in enumerate(names)]
    direction, attribute, cosine = _("direction"), _("attribute"), _("cosine")
    return {"data": {"values": rows}, "mark": "rect",
            "encoding": {"y": {"field": "direction", "type": "ordinal", "sort": None, "title": None},
                         "x": {"field": "attribute", "type": "nominal", "sort": None, "title": None},
                         "color": {"field": "cosine", "type": "quantitative", "title": cosine,
                                   "scale": {"domain": [-1, 1], "scheme": "redblue"}},
                         "tooltip": [{"field": "direction", "title": direction},
                                     {"field": "attribute", "title": attribute},
                                     {"field": "cosine", "title": cosine}]}}


def direction_chart(t: torch.Tensor, scores: torch.Tensor) -> dict:
    """Vega-Lite: the attribute classifier's mean score of faces moved by t along a direction, on a 0-1 axis.

    A spec of our own, not st.line_chart: that builds its spec through pandas and Altair, about 100 ms of the
    server's CPU at every run of the page (a Vega-Lite dict: under 2 ms)."""
    rows = [{"t": round(float(a), 3), "score": round(float(s), 4)} for a, s in zip(t, scores)]
    return {"data": {"values": rows}, "mark": {"type": "line", "point": True}, "height": 220,
            "encoding": {"x": {"field": "t", "type": "quantitative", "title": "t"},
                         "y": {"field": "score", "type": "quantitative", "scale": {"domain": [0, 1]},
                               "title": _("classifier score")}}}


def error_chart(errors: list[float], random_error: float | None = None) -> dict:
    """Vega-Lite: the loss along the search, and the mean loss of random latents as a dashed rule."""
    curve = {"data": {"values": [{"step": i, "error": e} for i, e in enumerate(errors)]}, "mark": "line",
             "encoding": {"x": {"field": "step", "type": "quantitative", "title": _("step")},
                          "y": {"field": "error", "type": "quantitative", "scale": {"zero": True},
                                "title": _("reconstruction error")}}}
    rule = {"data": {"values": [{"random": random_error}]}, "mark": {"type": "rule", "strokeDash": [4, 4]},
            "encoding": {"y": {"field": "random", "type": "quantitative"}}}
    return {"layer": [curve] + ([rule] if random_error is not None else []), "height": 220}


def score_chart(s: torch.Tensor) -> dict:
    """Vega-Lite: a histogram of the faces' scores, and a dashed rule at 0, where D's verdict turns."""
    x = {"field": "score", "type": "quantitative", "bin": {"maxbins": 30}, "title": _("D's score (logit; > 0: real)")}
    return {"layer": [
        {"data": {"values": [{"score": round(float(v), 3)} for v in s]}, "mark": "bar",
         "encoding": {"x": x, "y": {"aggregate": "count", "type": "quantitative", "title": _("faces")}}},
        {"data": {"values": [{"zero": 0}]}, "mark": {"type": "rule", "strokeDash": [4, 4], "color": "black"},
         "encoding": {"x": {"field": "zero", "type": "quantitative"}}}], "height": 140}
