"""Vega-Lite specs for the Experiments page: the browser draws them from plain rows of data."""
from __future__ import annotations

from gan.i18n import _


def _x() -> dict:
    return {"field": "images", "type": "quantitative", "title": _("images seen by D"), "axis": {"format": "~s"}}


def _colour() -> dict:
    return {"field": "experiment", "type": "nominal", "legend": {"orient": "top", "title": None}}


def losses_spec() -> dict:
    """D's and G's losses of every experiment against images seen, overlaid, one panel per loss.

    Rows: experiment, images, d_loss, g_loss.
    """
    return {
        "transform": [{"fold": ["d_loss", "g_loss"], "as": ["loss", "value"]},
                      {"lookup": "loss", "from": {"data": {"values": [{"loss": "d_loss", "panel": _("D's loss")},
                                                                       {"loss": "g_loss", "panel": _("G's loss")}]},
                                                  "key": "loss", "fields": ["panel"]}}],
        "facet": {"column": {"field": "panel", "type": "nominal", "title": None}},
        "spec": {"width": 330, "height": 200, "mark": {"type": "line", "opacity": 0.85, "clip": True},
                 "encoding": {"x": _x(), "y": {"field": "value", "type": "quantitative", "title": None,
                                                  "scale": {"zero": False}},
                              "color": _colour()}},
        "resolve": {"scale": {"y": "independent"}},
    }


def metrics_spec(collapse_line: float) -> dict:
    """FD_attr (log scale) and diversity ratio along the run, with the collapse threshold on the diversity panel.

    Rows: experiment, images, fd_attr, diversity.
    """
    def line(field: str, scale: dict) -> dict:
        return {"mark": {"type": "line", "point": True, "clip": True},
                "encoding": {"x": _x(), "y": {"field": field, "type": "quantitative", "title": None, "scale": scale},
                             "color": _colour()}}

    threshold = {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#888"},
                 "encoding": {"y": {"datum": collapse_line}}}
    return {"hconcat": [
        {"width": 330, "height": 200, "title": _("FD_attr against held-out faces (lower is better)"),
         "layer": [line("fd_attr", {"type": "log"})]},
        {"width": 330, "height": 200, "title": _("Diversity ratio, generated / real (dashed: collapse below)"),
         "layer": [line("diversity", {"zero": False}), threshold]},
    ]}
