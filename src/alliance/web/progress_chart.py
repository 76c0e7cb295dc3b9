"""The progress chart of a trainee: each competency's score (0-1) per finished session, as an
inline SVG (no JavaScript), with a table beside it on the page for the same numbers.

>>> svg = progress_svg({"repair": [0.25, 0.75]})
>>> svg.startswith("<svg") and "polyline" in svg and "repair" in svg
True
>>> progress_svg({})
''
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT, PAD = 560, 200, 30
# one colour per competency (colour-blind-safe Okabe-Ito palette)
COLOURS = {"noticing": "#0072B2", "repair": "#D55E00", "assessment": "#009E73",
           "intervention": "#CC79A7", "frame": "#E69F00"}


def progress_svg(series: Mapping[str, Sequence[float]]) -> str:
    """An SVG line per competency over its scores in order; empty without any score."""
    series = {c: list(v) for c, v in series.items() if v}
    if not series:
        return ""
    longest = max(len(v) for v in series.values())
    step = (WIDTH - 2 * PAD) / max(longest - 1, 1)

    def y(score: float) -> float:
        return round(HEIGHT - PAD - score * (HEIGHT - 2 * PAD), 1)

    parts = [f'<svg class="progress-chart" viewBox="0 0 {WIDTH} {HEIGHT + 20}" role="img" '
             f'aria-label="Scores per competency over sessions" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="{PAD}" y1="{y(0)}" x2="{WIDTH - PAD}" y2="{y(0)}" stroke="#999"/>',
             f'<line x1="{PAD}" y1="{y(1)}" x2="{WIDTH - PAD}" y2="{y(1)}" stroke="#ddd"/>',
             f'<text x="2" y="{y(0) + 4}" font-size="10">0</text>',
             f'<text x="2" y="{y(1) + 4}" font-size="10">1</text>']
    for n, (competency, scores) in enumerate(series.items()):
        colour = COLOURS.get(competency, "#555")
        points = " ".join(f"{round(PAD + i * step, 1)},{y(s)}" for i, s in enumerate(scores))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{points}"><title>{escape(competency)}</title></polyline>')
        parts += [f'<circle cx="{round(PAD + i * step, 1)}" cy="{y(s)}" r="3" '
                  f'fill="{colour}"/>' for i, s in enumerate(scores)]
        parts.append(f'<text x="{PAD + n * 105}" y="{HEIGHT + 12}" font-size="11" '
                     f'fill="{colour}">■ {escape(competency)}</text>')
    parts.append("</svg>")
    return "".join(parts)
