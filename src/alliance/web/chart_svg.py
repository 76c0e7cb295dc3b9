"""The trajectory chart drawn on the server as inline SVG, so the case page shows it with its
first paint and without JavaScript; plotly.js is loaded only when the clinician asks for the
interactive chart (zoom, hover).

It draws the figure :func:`alliance.monitoring.plot.trajectory_figure` builds (its plotly
JSON), so there is still one builder: the subset that builder uses (scatter traces with lines,
markers and filled bands; rectangles and lines spanning a panel; stacked panels sharing the
session axis; axis titles) and an HTML legend that wraps at any width. Each point carries a
``<title>`` (the browser's own tooltip), so the hover text needs no script either.

>>> fig = {"data": [{"x": [1, 2], "y": [3, 4], "mode": "lines+markers", "name": "total",
...                  "xaxis": "x", "yaxis": "y"}],
...        "layout": {"yaxis": {"domain": [0, 1], "range": [0, 5]}, "height": 200}}
>>> html = chart_html(fig)
>>> "<polyline" in html and "legendtext" in html and "total" in html
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

WIDTH = 900
# plotly's default colour sequence, for traces that name no colour of their own
COLOURWAY = ("#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692",
             "#B6E880", "#FF97FF", "#FECB52")
DASHES = {"dash": "8 5", "dot": "2 4", "dashdot": "8 4 2 4"}


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]``.

    >>> nice_ticks(0, 27)
    [0, 5, 10, 15, 20, 25]
    >>> nice_ticks(0.88, 7.12)
    [1, 2, 3, 4, 5, 6, 7]
    """
    if high <= low:
        return [low]
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 2.5, 5, 10)), key=lambda v: abs(v - raw))
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


@dataclass
class Panel:
    """One stacked panel: its y axis (numbers or categories) mapped to pixels."""

    top: float
    bottom: float
    low: float
    high: float
    categories: list[str]
    title: str

    def y(self, value: Any) -> float:
        if self.categories:
            n = len(self.categories)
            share = (self.categories.index(value) + 0.5) / n
            return self.top + share * (self.bottom - self.top)
        span = (self.high - self.low) or 1.0
        return self.bottom - (float(value) - self.low) / span * (self.bottom - self.top)


def _points(trace: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    return list(zip(trace.get("x") or [], trace.get("y") or [], strict=False))


def _axis_key(ref: str, prefix: str) -> str:
    return prefix + "axis" + ref[1:]


def _panels(fig: Mapping[str, Any], top: float, bottom: float) -> dict[str, Panel]:
    layout = fig.get("layout", {})
    panels = {}
    for key, axis in layout.items():
        if not key.startswith("yaxis"):
            continue
        ref = "y" + key[5:]
        traces = [t for t in fig.get("data", []) if t.get("yaxis", "y") == ref]
        values = [y for t in traces for _, y in _points(t) if y is not None]
        cats = list(dict.fromkeys(v for v in values if isinstance(v, str)))
        nums = [float(v) for v in values if not isinstance(v, str)]
        nums += [float(s[k]) for s in layout.get("shapes", []) if s.get("yref") == ref
                 for k in ("y0", "y1")]
        if axis.get("range"):
            low, high = (float(v) for v in axis["range"])
        elif nums:
            pad = (max(nums) - min(nums)) * 0.06 or 1.0
            low, high = min(nums) - pad, max(nums) + pad
        else:
            low, high = 0.0, 1.0
        d0, d1 = axis.get("domain", [0.0, 1.0])
        panels[ref] = Panel(top=top + (1 - d1) * (bottom - top),
                            bottom=top + (1 - d0) * (bottom - top), low=low, high=high,
                            categories=cats if cats and not nums else [],
                            title=(axis.get("title") or {}).get("text", ""))
    return panels


def _marker(shape: str, x: float, y: float, size: float, colour: str, tip: str,
            ring: float = 2) -> str:
    r = size / 2
    title = f"<title>{escape(tip)}</title>" if tip else ""
    if shape == "square":
        body = (f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{size:.1f}" height="{size:.1f}" '
                f'fill="{colour}" stroke="#fff" stroke-width="0.5">')
        return body + title + "</rect>"
    if shape == "triangle-down":
        pts = f"{x - r:.1f},{y - r:.1f} {x + r:.1f},{y - r:.1f} {x:.1f},{y + r:.1f}"
        return f'<polygon points="{pts}" fill="{colour}">{title}</polygon>'
    if shape == "circle-open":
        return (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="none" stroke="{colour}" '
                f'stroke-width="{ring:g}">{title}</circle>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}">{title}</circle>'


def _fmt(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _trace_svg(trace: Mapping[str, Any], colour: str, xpix: Any, panel: Panel) -> list[str]:
    out: list[str] = []
    pts = [(x, y) for x, y in _points(trace) if x is not None and y is not None]
    if not pts:
        return out
    line = trace.get("line") or {}
    dash = DASHES.get(line.get("dash", "solid"), "")
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    xy = " ".join(f"{xpix(x):.1f},{panel.y(y):.1f}" for x, y in pts)
    if trace.get("fill") == "toself":
        out.append(f'<polygon points="{xy}" fill="{trace.get("fillcolor", colour)}" '
                   f'stroke="none"><title>{escape(trace.get("name", ""))}</title></polygon>')
        return out
    mode = trace.get("mode", "lines+markers")
    name = str(trace.get("name", ""))
    if "lines" in mode and line.get("width", 2) > 0:
        out.append(f'<polyline points="{xy}" fill="none" stroke="{line.get("color", colour)}" '
                   f'stroke-width="{line.get("width", 2):g}"{dash_attr}>'
                   f'<title>{escape(name)}</title></polyline>')
    if "markers" in mode:
        marker = trace.get("marker") or {}
        colours = marker.get("color", line.get("color", colour))
        texts = trace.get("hovertext") or trace.get("text")
        ring = (marker.get("line") or {}).get("width", 2)
        for i, (x, y) in enumerate(pts):
            c = colours[i] if isinstance(colours, list) else colours
            if isinstance(texts, list):
                tip = f"session {x}: {texts[i]}"
            elif texts:
                tip = str(texts)
            else:
                tip = f"{name}: session {x}, {_fmt(y)}"
            size = marker.get("size", 7 if "lines" in mode else 10)
            out.append(_marker(marker.get("symbol", "circle"), xpix(x), panel.y(y), size,
                               c, tip, ring))
    return out


def _swatch(trace: Mapping[str, Any], colour: str) -> str:
    line = trace.get("line") or {}
    marker = trace.get("marker") or {}
    parts = []
    if trace.get("fill") == "toself":
        parts.append(f'<rect x="2" y="3" width="24" height="10" '
                     f'fill="{trace.get("fillcolor", colour)}"/>')
    mode = "" if trace.get("fill") == "toself" else trace.get("mode", "lines+markers")
    if "lines" in mode:
        dash = DASHES.get(line.get("dash", "solid"), "")
        parts.append(f'<line x1="1" y1="8" x2="27" y2="8" stroke="{line.get("color", colour)}" '
                     f'stroke-width="{min(line.get("width", 2), 3):g}"'
                     + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
    if "markers" in mode:
        c = marker.get("color", line.get("color", colour))
        c = c[0] if isinstance(c, list) else c
        parts.append(_marker(marker.get("symbol", "circle"), 14, 8,
                             min(marker.get("size", 7), 12), c, "",
                             (marker.get("line") or {}).get("width", 2)))
    return ('<svg class="swatch" width="28" height="16" viewBox="0 0 28 16" aria-hidden="true">'
            + "".join(parts) + "</svg>")


def _legend(entries: Iterable[tuple[Mapping[str, Any], str]]) -> str:
    groups: dict[str, list[str]] = {}
    for trace, colour in entries:
        group = (trace.get("legendgrouptitle") or {}).get("text", "")
        groups.setdefault(group, []).append(
            f'<li>{_swatch(trace, colour)}<span class="legendtext">'
            f'{escape(str(trace.get("name", "")))}</span></li>')
    return "".join(
        (f'<li class="legend-group"><span class="legend-title">{escape(group)}</span>'
         f'<ul>{"".join(items)}</ul></li>' if group else "".join(items))
        for group, items in groups.items())


def chart_html(fig: Mapping[str, Any], label: str = "Scores by session") -> str:
    """The figure as an inline ``<svg>`` and an HTML legend (``<ul class="chart-legend">``)."""
    layout = fig.get("layout", {})
    data: Sequence[Mapping[str, Any]] = fig.get("data", [])
    height = float(layout.get("height", 460))
    margin = {"l": 50, "r": 10, "t": 10, "b": 40, **(layout.get("margin") or {})}
    left, right = margin["l"] + 14, WIDTH - margin["r"]
    top, bottom = margin["t"], height - margin["b"]
    panels = _panels(fig, top, bottom)
    xs = [float(x) for t in data for x, _ in _points(t) if isinstance(x, int | float)]
    x_low, x_high = (min(xs) - 0.5, max(xs) + 0.5) if xs else (0.0, 1.0)

    def xpix(x: Any) -> float:
        return left + (float(x) - x_low) / (x_high - x_low) * (right - left)

    template = ((layout.get("template") or {}).get("layout") or {})
    colourway = template.get("colorway") or COLOURWAY
    parts = [f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
             f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
             f'font-family="system-ui, sans-serif" font-size="12">']
    lowest = max(panels.values(), key=lambda p: p.bottom, default=None)
    for ref, panel in panels.items():
        parts.append(f'<rect x="{left}" y="{panel.top:.1f}" width="{right - left}" '
                     f'height="{panel.bottom - panel.top:.1f}" fill="#fff" stroke="#cfd8dc"/>')
        if panel.categories:
            for cat in panel.categories:
                parts.append(f'<text x="{left - 4}" y="{panel.y(cat) + 4:.1f}" '
                             f'text-anchor="end" font-size="10">{escape(cat)}</text>')
        else:
            for tick in nice_ticks(panel.low, panel.high):
                y = panel.y(tick)
                parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" '
                             f'stroke="#eceff1"/><text x="{left - 4}" y="{y + 4:.1f}" '
                             f'text-anchor="end">{tick:g}</text>')
        if panel.title:
            mid = (panel.top + panel.bottom) / 2
            parts.append(f'<text transform="translate(12 {mid:.1f}) rotate(-90)" '
                         f'text-anchor="middle">{escape(panel.title)}</text>')
        for shape in layout.get("shapes", []):
            if shape.get("yref") != ref:
                continue
            y0, y1 = (panel.y(min(max(float(shape[k]), panel.low), panel.high))
                      for k in ("y0", "y1"))
            line = shape.get("line") or {}
            if shape.get("type") == "rect":
                parts.append(f'<rect x="{left}" y="{min(y0, y1):.1f}" width="{right - left}" '
                             f'height="{abs(y1 - y0):.1f}" fill="{shape.get("fillcolor")}" '
                             f'fill-opacity="{shape.get("opacity", 1)}"/>')
            else:
                dash = DASHES.get(line.get("dash", "solid"), "")
                parts.append(f'<line x1="{left}" x2="{right}" y1="{y0:.1f}" y2="{y1:.1f}" '
                             f'stroke="{line.get("color", "#333")}" '
                             f'stroke-width="{line.get("width", 1)}"'
                             + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
    if lowest is not None and xs:
        step = max(1, math.ceil((x_high - x_low) / 20))
        for n in range(math.ceil(x_low), math.floor(x_high) + 1, step):
            parts.append(f'<text x="{xpix(n):.1f}" y="{lowest.bottom + 14:.1f}" '
                         f'text-anchor="middle">{n}</text>')
        parts.append(f'<text x="{(left + right) / 2:.1f}" y="{lowest.bottom + 30:.1f}" '
                     f'text-anchor="middle">session</text>')
    legend = []
    for i, trace in enumerate(data):
        colour = colourway[i % len(colourway)]
        home = panels.get(trace.get("yaxis", "y"))
        if home is not None:
            parts += _trace_svg(trace, colour, xpix, home)
        if trace.get("showlegend", True) and trace.get("name"):
            legend.append((trace, colour))
    parts.append("</svg>")
    return "".join(parts) + f'<ul class="chart-legend">{_legend(legend)}</ul>'
