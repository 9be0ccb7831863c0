"""Line markers for the inspect page: the features that type stars, in toggleable groups.

Wavelengths are the usual air values from the MK literature; the page draws them in vacuum
(`vacuum_lines`) because LAMOST and SDSS wavelengths are vacuum (a 1.5-2 Å difference in the
optical, enough to look misplaced on a zoomed line).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LineGroup:
    """A named set of lines drawn together. `bands` are (start, end) air Å ranges (molecular
    band heads and blends are drawn as shaded ranges), `lines` single air wavelengths."""

    key: str
    label: str
    color: str
    lines: tuple[tuple[str, float], ...] = ()
    bands: tuple[tuple[str, float, float], ...] = ()
    default_on: bool = True


LINE_GROUPS: dict[str, LineGroup] = {}


def register(group: LineGroup) -> LineGroup:
    LINE_GROUPS[group.key] = group
    return group


register(LineGroup("balmer", "Balmer", "#1f77b4",
                   lines=(("Hα", 6562.8), ("Hβ", 4861.3), ("Hγ", 4340.5), ("Hδ", 4101.7),
                          ("Hε", 3970.1))))
register(LineGroup("cahk", "Ca II H&K", "#9467bd", lines=(("Ca II K", 3933.7), ("Ca II H", 3968.5))))
register(LineGroup("gband", "G band", "#8c564b", lines=(("G band", 4300.0),)))
register(LineGroup("mgb", "Mg b", "#2ca02c", bands=(("Mg b", 5167.3, 5183.6),)))
register(LineGroup("nad", "Na D", "#ff7f0e", lines=(("Na D2", 5890.0), ("Na D1", 5895.9))))
register(LineGroup("halpha", "Hα", "#d62728", lines=(("Hα", 6562.8),), default_on=False))
# TiO and CaH: band heads (the bands fade redwards of the head) drawn as 50-Å ranges.
register(LineGroup("tio", "TiO", "#e377c2", default_on=False,
                   bands=(("TiO", 4955.0, 5005.0), ("TiO", 5167.0, 5217.0),
                          ("TiO", 6159.0, 6209.0), ("TiO", 7054.0, 7104.0),
                          ("TiO", 7589.0, 7639.0), ("TiO", 8432.0, 8482.0))))
register(LineGroup("cah", "CaH", "#7f7f7f", default_on=False,
                   bands=(("CaH", 6382.0, 6432.0), ("CaH", 6830.0, 6880.0))))
# C2 Swan band heads are degraded to the blue: the band lies bluewards of the head.
register(LineGroup("c2", "C2 Swan", "#17becf", default_on=False,
                   bands=(("C2", 4687.0, 4737.0), ("C2", 5115.0, 5165.0), ("C2", 5586.0, 5636.0))))


def _to_vacuum(w: float) -> float:
    from ..preprocess import air_to_vacuum

    return float(air_to_vacuum(np.array([w]))[0])


def vacuum_lines() -> list[dict]:
    """Every group with its lines and bands converted to vacuum Å, as JSON-ready dicts."""
    out = []
    for g in LINE_GROUPS.values():
        out.append({
            "key": g.key,
            "label": g.label,
            "color": g.color,
            "default_on": g.default_on,
            "lines": [{"name": n, "wave": round(_to_vacuum(w), 2)} for n, w in g.lines],
            "bands": [{"name": n, "start": round(_to_vacuum(a), 2), "end": round(_to_vacuum(b), 2)}
                      for n, a, b in g.bands],
        })
    return out
