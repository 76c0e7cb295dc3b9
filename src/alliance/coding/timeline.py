"""The session timeline: where markers, repair and the other moves fall in a session.

:func:`timeline_svg` draws it from a transcript report (the JSON contract of
:mod:`alliance.coding.report`), so the HTML report and the web page draw the same figure.
One lane per kind of move, a dot per coded utterance (its code names on hover), a line from
each rupture marker to the repair moves that answered it, and a ring around markers whose
episode stayed unresolved. Self-contained SVG: no script, all text escaped.

>>> svg = timeline_svg({"utterances": [{"index": 0, "codes": [{"code": "bond.reflection",
...     "family": "bond", "label": "Reflection"}]}], "episodes": []})
>>> svg.startswith("<svg") and "Reflection" in svg
True
"""

from __future__ import annotations

import html
from typing import Any

#: Lanes, top to bottom: (title, families drawn in it).
LANES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Rupture markers", ("withdrawal", "confrontation", "safety")),
    ("Repair moves", ("repair",)),
    ("Bond-building", ("bond",)),
    ("Collaboration", ("collaboration",)),
    ("Threats, unasked advice", ("threat",)),
)
FAMILY_COLOURS = {
    "withdrawal": "#b45309", "confrontation": "#b91c1c", "safety": "#7c3aed",
    "bond": "#0e7490", "repair": "#15803d", "threat": "#111827", "collaboration": "#1d4ed8",
}
RESOLUTION_COLOURS = {"resolved": "#15803d", "partial": "#d97706", "unresolved": "#b91c1c"}


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def timeline_svg(report: dict[str, Any], *, width: int = 760) -> str:
    """The timeline of one report as an inline SVG string."""
    utterances = report.get("utterances") or []
    n = max(1, max((u["index"] for u in utterances), default=0) + 1)
    left, lane_h, top = 150, 26, 18

    def x(i: int) -> float:
        return left + (i + 0.5) * width / n

    lane_of = {fam: top + k * lane_h for k, (_, fams) in enumerate(LANES) for fam in fams}
    height = top + len(LANES) * lane_h + 22
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="alliance-timeline" '
             f'width="{left + width + 10}" height="{height}" role="img" '
             f'aria-label="session timeline of markers and repairs">']
    for k, (title, _) in enumerate(LANES):
        y = top + k * lane_h
        parts.append(f'<text x="4" y="{y + 4}">{_esc(title)}</text>'
                     f'<line x1="{left}" y1="{y}" x2="{left + width}" y2="{y}" '
                     f'stroke="#e5e7eb"/>')
    resolution = {e["marker_index"]: e["resolution"] for e in report.get("episodes") or []}
    for e in report.get("episodes") or []:
        y0 = lane_of.get(str(e["marker_code"]).split(".")[0], top)
        for r in e.get("repair") or []:
            parts.append(f'<line x1="{x(e["marker_index"]):.1f}" y1="{y0}" '
                         f'x2="{x(r["index"]):.1f}" y2="{lane_of["repair"]}" '
                         f'stroke="#15803d" stroke-opacity=".4"/>')
    for u in utterances:
        by_lane: dict[int, list[dict[str, Any]]] = {}
        for c in u.get("codes") or []:
            by_lane.setdefault(lane_of.get(c["family"], top), []).append(c)
        for y, codes in by_lane.items():
            names = sorted({str(c.get("label") or c["code"]) for c in codes})
            title = _esc(f"#{u['index']}: {', '.join(names)}")
            colour = FAMILY_COLOURS.get(codes[0]["family"], "#6b7280")
            ring = ""
            if u["index"] in resolution:
                ring = (f' stroke="{RESOLUTION_COLOURS[resolution[u["index"]]]}" '
                        'stroke-width="2"')
            parts.append(f'<circle cx="{x(u["index"]):.1f}" cy="{y}" r="5" fill="{colour}"'
                         f'{ring}><title>{title}</title></circle>')
    axis = top + len(LANES) * lane_h + 4
    parts.append(f'<text x="{left}" y="{axis}">utterance 0</text>'
                 f'<text x="{left + width - 90}" y="{axis}">utterance {n - 1}</text></svg>')
    return "".join(parts)
