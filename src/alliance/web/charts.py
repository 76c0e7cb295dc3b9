"""The trajectory chart of a case page, built with Plotly's Python API.

Top panel: the total score per rater (one line per member in multi-member cases, plus the
therapist), the bond / goal / task subscales of the client in individual cases (dotted),
the instrument's cutoff as a shaded band, and rupture episodes from monitoring (an open
circle at the low point: red when unrepaired, green when repaired). Bottom strip:
attendance (colour) and homework (symbol) per session. The page has a table of the same
numbers, so nothing depends on JavaScript.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from alliance.store.models import Member, Response, Session

ATTENDANCE_COLOURS = {"attended": "#2e7d32", "late": "#f9a825", "cancelled": "#9e9e9e",
                      "late_cancelled": "#ef6c00", "no_show": "#c62828"}
HOMEWORK_SYMBOLS = {"none": "circle-open", "completed": "circle", "partial": "triangle-up",
                    "not_done": "x"}


def primary_instrument(responses: Sequence[Response]) -> str | None:
    """The instrument with most responses in the case; the chart plots its scores."""
    counts: dict[str, int] = defaultdict(int)
    for r in responses:
        counts[r.instrument_id] += 1
    return max(counts, key=lambda k: (counts[k], k)) if counts else None


def trajectory_figure(modality: str, members: Sequence[Member], sessions: Sequence[Session],
                      responses: Sequence[Response],
                      report: dict[str, Any] | None) -> dict[str, Any]:
    """A Plotly figure as a JSON-ready dict."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from alliance.instruments import get_instrument

    number = {s.id: s.number for s in sessions}
    label = {m.id: m.label for m in members}
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.82, 0.18],
                        vertical_spacing=0.04)
    instrument_id = primary_instrument(responses)
    if instrument_id is not None:
        inst = get_instrument(instrument_id)
        rows = [r for r in responses if r.instrument_id == instrument_id]
        series: dict[str, list[tuple[int, float]]] = defaultdict(list)
        subs: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for r in rows:
            who = "Therapist" if r.rater == "therapist" else label.get(r.member_id or -1, "Client")
            if r.total is not None:
                series[who].append((number[r.session_id], r.total))
            if modality == "individual" and r.rater != "therapist":
                for sub in inst.subscales:
                    raw = (r.scores.get(sub.id) or {}).get("raw")
                    if raw is not None:
                        subs[sub.title].append((number[r.session_id], raw * len(inst.items)
                                                / len(sub.items) if inst.method == "sum"
                                                else raw))
        for who, points in series.items():
            points.sort()
            fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                                     mode="lines+markers", name=f"{who} (total)",
                                     line={"width": 3 if who != "Therapist" else 2,
                                           "dash": "dash" if who == "Therapist" else "solid"}),
                          row=1, col=1)
        for title, points in subs.items():
            points.sort()
            fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                                     mode="lines", name=f"{title} (scaled to total)",
                                     line={"width": 1, "dash": "dot"}, visible="legendonly"
                                     if len(subs) > 3 else True), row=1, col=1)
        lo, hi = inst.score_range()
        cut = inst.cutoff()
        if cut is not None:
            fig.add_hrect(y0=lo, y1=cut.below, fillcolor="#c62828", opacity=0.08, line_width=0,
                          annotation_text=f"below cutoff ({cut.label})",
                          annotation_position="bottom left", row=1, col=1)
        fig.update_yaxes(range=[lo, hi], title_text=f"{inst.title} total", row=1, col=1)
        totals = {(number[r.session_id]): r.total for r in rows if r.total is not None}
        for ep in (report or {}).get("episodes", []):
            low = ep.get("low_session")
            if low in totals:
                repaired = ep.get("status") == "repaired"
                fig.add_trace(go.Scatter(
                    x=[low], y=[totals[low]], mode="markers", showlegend=False,
                    marker={"size": 18, "symbol": "circle-open",
                            "color": "#2e7d32" if repaired else "#c62828", "line": {"width": 3}},
                    hovertext=f"rupture ({ep.get('criterion')}): {ep.get('status')}",
                    hoverinfo="text"), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=[s.number for s in sessions], y=[0] * len(sessions), mode="markers", showlegend=False,
        marker={"size": 12, "color": [ATTENDANCE_COLOURS[s.attendance] for s in sessions],
                "symbol": [HOMEWORK_SYMBOLS[s.homework] for s in sessions]},
        hovertext=[f"session {s.number}: {s.attendance.replace('_', ' ')}, homework "
                   f"{s.homework.replace('_', ' ')}" for s in sessions], hoverinfo="text"),
        row=2, col=1)
    fig.update_yaxes(visible=False, row=2, col=1)
    fig.update_xaxes(title_text="session", dtick=1 if len(sessions) <= 20 else 2, row=2, col=1)
    fig.update_layout(margin={"l": 50, "r": 10, "t": 10, "b": 40}, height=420,
                      legend={"orientation": "h", "y": -0.2}, template="plotly_white")
    result: dict[str, Any] = json.loads(fig.to_json())
    return result
