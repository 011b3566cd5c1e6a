"""Vega-Lite specs for the Experiments page: the browser draws them from plain rows of data."""
from __future__ import annotations

VERDICT_COLOURS = {"converged": "#2e7d32", "slow": "#f9a825", "collapsed": "#c62828", "diverged": "#6a1b9a"}


def _x() -> dict:
    return {"field": "images", "type": "quantitative", "title": "images seen by D", "axis": {"format": "~s"}}


def _colour() -> dict:
    return {"field": "experiment", "type": "nominal", "legend": {"orient": "top", "title": None}}


def losses_spec() -> dict:
    """D's and G's losses of every experiment against images seen, overlaid, one panel per loss.

    Rows: experiment, images, d_loss, g_loss.
    """
    return {
        "transform": [{"fold": ["d_loss", "g_loss"], "as": ["loss", "value"]},
                      {"calculate": "datum.loss == 'd_loss' ? \"D's loss\" : \"G's loss\"", "as": "panel"}],
        "facet": {"column": {"field": "panel", "type": "nominal", "title": None}},
        "spec": {"width": 330, "height": 200, "mark": {"type": "line", "opacity": 0.85, "clip": True},
                 "encoding": {"x": _x(), "y": {"field": "value", "type": "quantitative", "title": None,
                                                  "scale": {"zero": False}},
                              "color": _colour()}},
        "resolve": {"scale": {"y": "independent"}},
    }


def metrics_spec() -> dict:
    """FD_attr (log scale) and diversity ratio along the run, with the collapse line on the diversity panel.

    Rows: experiment, images, fd_attr, diversity.
    """
    def panel(field: str, title: str, scale: dict) -> dict:
        return {"width": 330, "height": 200, "title": title,
                "mark": {"type": "line", "point": True, "clip": True},
                "encoding": {"x": _x(), "y": {"field": field, "type": "quantitative", "title": None, "scale": scale},
                             "color": _colour()}}

    return {"hconcat": [panel("fd_attr", "FD_attr against held-out faces (lower is better)", {"type": "log"}),
                        panel("diversity", "Diversity ratio, generated / real (1 = as varied as real faces)",
                              {"zero": False})]}
