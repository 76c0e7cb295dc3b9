"""Trajectory charts (Plotly): the alliance over sessions with ruptures, repairs and the frame.

One line per member and instrument (the raw total when the case uses one alliance instrument;
percent of maximum only when instruments with different ranges share the panel);
for a one-member case also the bond / goal / task subscales, dotted. The band below the
instrument's cutoff is shaded; rupture episodes (strict 2 SD criterion) are marked at their
lowest point, red when unrepaired, green when repaired, with the repair session ringed.
A strip underneath shows attendance and homework for every session, with a legend for its
colours and for the rupture markers. ``labels`` names the raters (``m17`` -> "Alice"), so a
couple's or family's rupture says whose it is. The web app and ``alliance monitor plot`` both
draw with :func:`trajectory_figure`. Plotly is imported only here, when a chart is asked for.

With ``tracks`` (the outcome series read against the expected response,
:mod:`alliance.monitoring.progress`) a second panel under the alliance shows each outcome's
raw total on the same session axis, its expected path (dashed) and tolerance band (shaded),
the instrument's clinical cutoff, and the off-track ratings ringed; every mark has a legend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alliance.instruments import Catalog, builtin_catalog
from alliance.monitoring.casefile import Case
from alliance.monitoring.outcomes import Tracking
from alliance.monitoring.panel import COMPONENTS, component_subscales
from alliance.monitoring.policy import Policy, default_policy
from alliance.monitoring.report import CaseReport

ATTENDANCE_COLOURS = {"attended": "#2e7d32", "late": "#f9a825", "cancelled": "#90a4ae",
                      "late_cancelled": "#ef6c00", "no_show": "#c62828"}
HOMEWORK_COLOURS = {"none": "#eceff1", "completed": "#2e7d32", "partial": "#f9a825",
                    "not_done": "#c62828"}


class Sketch:
    """The plotly ``Figure`` methods :func:`trajectory_figure` calls, writing plain plotly
    JSON without building plotly objects (which costs the case page about 70 ms a chart):
    stacked rows sharing the x axis, scatter traces, row-wide rectangles and lines, axis
    titles and ranges. :meth:`to_plotly_json` gives what ``json.loads(fig.to_json())`` gives
    for the same calls, less the template (``tests/monitoring/test_plot_sketch.py``)."""

    def __init__(self, rows: int, row_heights: list[float], vertical_spacing: float) -> None:
        usable = 1 - vertical_spacing * (rows - 1)
        top = 1.0
        self.data: list[dict[str, Any]] = []
        self.layout: dict[str, Any] = {"shapes": []}
        for row in range(1, rows + 1):
            height = row_heights[row - 1] / sum(row_heights) * usable
            x, y = self._axes(row)
            self.layout["xaxis" + x[1:]] = {"anchor": y, "domain": [0.0, 1.0]}
            if row < rows:
                self.layout["xaxis" + x[1:]].update(matches=f"x{rows}", showticklabels=False)
            self.layout["yaxis" + y[1:]] = {"anchor": x,
                                            "domain": [max(top - height, 0.0), top]}
            top -= height + vertical_spacing

    @staticmethod
    def _axes(row: int) -> tuple[str, str]:
        suffix = "" if row == 1 else str(row)
        return "x" + suffix, "y" + suffix

    def add_scatter(self, *, row: int, col: int, **kw: Any) -> None:
        x, y = self._axes(row)
        if "legendgrouptitle_text" in kw:
            kw["legendgrouptitle"] = {"text": kw.pop("legendgrouptitle_text")}
        self.data.append({"type": "scatter", **kw, "xaxis": x, "yaxis": y})

    def add_hrect(self, *, y0: float, y1: float, row: int, col: int, line_width: float,
                  **kw: Any) -> None:
        x, y = self._axes(row)
        self.layout["shapes"].append({"type": "rect", "xref": f"{x} domain", "yref": y,
                                      "x0": 0, "x1": 1, "y0": y0, "y1": y1,
                                      "line": {"width": line_width}, **kw})

    def add_hline(self, *, y: float, line: dict[str, Any], row: int, col: int) -> None:
        x, yref = self._axes(row)
        self.layout["shapes"].append({"type": "line", "xref": f"{x} domain", "yref": yref,
                                      "x0": 0, "x1": 1, "y0": y, "y1": y, "line": line})

    def update_layout(self, *, template: str | None = None, **kw: Any) -> None:
        if "title" in kw:
            title = kw.pop("title")
            if title is None:
                self.layout.pop("title", None)
            else:
                self.layout["title"] = {"text": title}
        self.layout.update(kw)

    def _update_axis(self, name: str, row: int, title_text: str, **kw: Any) -> None:
        axis = self.layout[name + self._axes(row)[0][1:]]
        axis.update(title={"text": title_text}, **kw)

    def update_yaxes(self, *, title_text: str, row: int, col: int, **kw: Any) -> None:
        self._update_axis("yaxis", row, title_text, **kw)

    def update_xaxes(self, *, title_text: str, row: int, col: int, **kw: Any) -> None:
        self._update_axis("xaxis", row, title_text, **kw)

    def to_plotly_json(self) -> dict[str, Any]:
        layout = dict(self.layout)
        if not layout["shapes"]:
            del layout["shapes"]
        return {"data": self.data, "layout": layout}


def trajectory_figure(case: Case, report: CaseReport, policy: Policy | None = None,
                      catalog: Catalog | None = None,
                      labels: Mapping[str, str] | None = None,
                      tracks: Mapping[tuple[str, str], Tracking] | None = None,
                      sketch: bool = False) -> Any:
    """A Plotly figure of the case's trajectory (see the module docstring); with ``sketch``
    a :class:`Sketch` of it (plain plotly JSON, no plotly objects: the case page's SVG)."""
    names = dict(labels or {})

    def who(rater: str) -> str:
        return names.get(rater, rater)

    policy = policy if policy is not None else default_policy()
    catalog = catalog if catalog is not None else builtin_catalog()
    tracks = dict(tracks or {})
    strip = 3 if tracks else 2
    heights = [0.5, 0.32, 0.18] if tracks else [0.78, 0.22]
    if sketch:
        fig: Any = Sketch(strip, heights, 0.06)
    else:
        from plotly.subplots import make_subplots

        fig = make_subplots(rows=strip, cols=1, shared_xaxes=True, row_heights=heights,
                            vertical_spacing=0.06)
    alliance = {r.instrument for s in case.sessions for r in s.ratings
                if catalog.get(r.instrument) is not None
                and catalog[r.instrument].kind == "alliance" and r.score.total.valid}
    raw = len(alliance) == 1      # one instrument: its own units; several: percent of maximum
    scale = policy.params_for(catalog[next(iter(alliance))]) if raw else None

    def units(pom: float) -> float:
        return scale.low + pom / 100 * (scale.high - scale.low) if scale else pom

    series: dict[tuple[str, str], list[tuple[int, float, dict[str, float]]]] = {}
    for s in case.sessions:
        for r in s.ratings:
            if not r.score.total.valid or r.instrument not in alliance:
                continue
            subs = component_subscales(catalog[r.instrument])
            comps = {c: units(float(r.score[sub].pom))  # type: ignore[arg-type]
                     for c, sub in subs.items() if r.score[sub].pom is not None}
            series.setdefault((r.rater, r.instrument), []).append(
                (s.number, units(float(r.score.total.pom)), comps))  # type: ignore[arg-type]
    one_member = len(case.members) == 1
    for (rater, inst), points in sorted(series.items()):
        dash = "dash" if rater in ("therapist", "observer") else "solid"
        fig.add_scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                        mode="lines+markers", name=f"{who(rater)} · {inst} total",
                        line={"dash": dash, "width": 3}, row=1, col=1)
        if one_member and rater not in ("therapist", "observer"):
            for comp in COMPONENTS:
                pts = [(p[0], p[2][comp]) for p in points if comp in p[2]]
                if pts:
                    fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts],
                                    mode="lines",
                                    name=f"{who(rater)} · {comp}"
                                         + (" (on the total's scale)" if raw else ""),
                                    line={"dash": "dot", "width": 1.5}, row=1, col=1)
    instruments = sorted({inst for _, inst in series})
    for inst in instruments:
        params = policy.params_for(catalog[inst])
        if params.cutoff == params.cutoff:  # not NaN
            cut = (params.cutoff if raw else
                   100 * (params.cutoff - params.low) / (params.high - params.low))
            fig.add_hrect(y0=params.low if raw else 0, y1=cut, fillcolor="#ffcdd2",
                          opacity=0.25, line_width=0, row=1, col=1)
            fig.add_scatter(x=[None], y=[None], mode="markers", name=f"below {inst} cutoff",
                            marker={"symbol": "square", "size": 12, "color": "#ffcdd2"},
                            hoverinfo="skip", row=1, col=1)
    pom_at = {(rater, inst, n): pom for (rater, inst), pts in series.items() for n, pom, _ in pts}
    for ep in report.episodes:
        if ep.criterion != "2sd":
            continue
        low = pom_at.get((ep.member, ep.instrument, ep.low_session))
        if low is None:
            continue
        repaired = ep.status == "repaired"
        fig.add_scatter(x=[ep.low_session], y=[low], mode="markers",
                        marker={"symbol": "triangle-down", "size": 16,
                                "color": "#2e7d32" if repaired else "#c62828"},
                        name=f"{who(ep.member)}: rupture ({ep.status})", showlegend=True,
                        hovertext=f"{who(ep.member)}: rupture on {ep.instrument}; drop after "
                                  f"session {ep.start_session}; lowest at {ep.low_session}; "
                                  + (f"repaired by {ep.end_session}" if repaired
                                     else "not repaired"),
                        hoverinfo="text",
                        row=1, col=1)
        if repaired and ep.end_session is not None:
            end = pom_at.get((ep.member, ep.instrument, ep.end_session))
            if end is not None:
                fig.add_scatter(x=[ep.end_session], y=[end], mode="markers",
                                marker={"symbol": "circle-open", "size": 18,
                                        "color": "#2e7d32", "line": {"width": 3}},
                                name=f"{who(ep.member)}: repaired (ringed)",
                                hovertext=f"{who(ep.member)}: repaired at session "
                                          f"{ep.end_session}", hoverinfo="text", row=1, col=1)
    numbers = [s.number for s in case.sessions]
    fig.add_scatter(x=numbers, y=["attendance"] * len(numbers), mode="markers",
                    marker={"symbol": "square", "size": 14,
                            "color": [ATTENDANCE_COLOURS[s.attendance] for s in case.sessions]},
                    text=[s.attendance.replace("_", " ") for s in case.sessions],
                    hoverinfo="text+x", name="attendance", showlegend=False, row=strip, col=1)
    fig.add_scatter(x=numbers, y=["homework"] * len(numbers), mode="markers",
                    marker={"symbol": "square", "size": 14,
                            "color": [HOMEWORK_COLOURS[s.homework] for s in case.sessions]},
                    text=[s.homework.replace("_", " ") for s in case.sessions],
                    hoverinfo="text+x", name="homework", showlegend=False, row=strip, col=1)
    for group, colours in (("attendance", ATTENDANCE_COLOURS), ("homework", HOMEWORK_COLOURS)):
        for value, colour in colours.items():  # legend entries for the strip's colours
            fig.add_scatter(x=[None], y=[None], mode="markers", legendgroup=group,
                            legendgrouptitle_text=group, name=value.replace("_", " "),
                            marker={"symbol": "square", "size": 12, "color": colour},
                            showlegend=True, hoverinfo="skip", row=strip, col=1)
    for (rater, _inst), track in sorted(tracks.items()):
        _outcome_panel(fig, who(rater), track, catalog)
    headline = report.alert.headline if report.alert else "no alert"
    headline = " ".join(who(w) if w in names else w for w in headline.split(" "))
    fig.update_layout(title=f"Case {case.id} ({case.modality}): {headline}",
                      template="plotly_white", height=640, legend={"orientation": "v"})
    if scale is not None:
        pad = (scale.high - scale.low) * 0.02
        fig.update_yaxes(title_text=f"{next(iter(alliance))} total",
                         range=[scale.low - pad, scale.high + pad], row=1, col=1)
    else:
        fig.update_yaxes(title_text="alliance, percent of maximum", range=[0, 102],
                         row=1, col=1)
    if tracks:
        outcome_ids = sorted({inst for _, inst in tracks})
        fig.update_yaxes(title_text=" / ".join(outcome_ids) + " total", row=2, col=1)
    fig.update_xaxes(title_text="session", dtick=1, row=strip, col=1)
    return fig


def _outcome_panel(fig: Any, who: str, track: Tracking, catalog: Catalog) -> None:
    """The outcome's raw totals with the expected path, the tolerance band, the clinical
    cutoff and the off-track ratings, in the middle panel."""
    inst = catalog.get(track.instrument)
    xs = [p.session for p in track.points]
    fig.add_scatter(x=xs + xs[::-1], y=[p.upper for p in track.points]
                    + [p.lower for p in track.points][::-1], fill="toself",
                    fillcolor="rgba(96,125,139,0.18)", line={"width": 0}, hoverinfo="skip",
                    name=f"{track.instrument}: tolerance band ({track.band})", row=2, col=1)
    fig.add_scatter(x=xs, y=[p.expected for p in track.points], mode="lines",
                    line={"dash": "dash", "color": "#607d8b"},
                    name=f"{track.instrument}: expected path", row=2, col=1)
    fig.add_scatter(x=xs, y=[p.score for p in track.points], mode="lines+markers",
                    line={"width": 3, "color": "#6a1b9a"},
                    name=f"{who} · {track.instrument} total", row=2, col=1)
    off = [p for p in track.points if p.off_track]
    if off:
        fig.add_scatter(x=[p.session for p in off], y=[p.score for p in off], mode="markers",
                        marker={"symbol": "circle-open", "size": 16, "color": "#c62828",
                                "line": {"width": 3}},
                        name=f"{track.instrument}: outside the band (worse)", row=2, col=1)
    cut = inst.cutoff() if inst is not None else None
    if cut is not None:
        fig.add_hline(y=cut.below, line={"dash": "dot", "color": "#c62828", "width": 1},
                      row=2, col=1)
        fig.add_scatter(x=[None], y=[None], mode="lines",
                        line={"dash": "dot", "color": "#c62828"},
                        name=f"{track.instrument} clinical cutoff ({cut.below:g})",
                        hoverinfo="skip", row=2, col=1)
