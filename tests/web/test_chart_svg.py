"""The trajectory chart drawn on the server: inline SVG on the case page (no plotly.js on
load), points where the hand computation puts them, a legend entry for every mark."""

from __future__ import annotations

import re
from typing import Any

from alliance.web.chart_svg import chart_html, nice_ticks

from .conftest import Web, make_case, plant_drop

FIGURE: dict[str, Any] = {
    "data": [
        {"x": [1, 2], "y": [5, 10], "mode": "lines+markers", "name": "Client <b>total</b>",
         "xaxis": "x", "yaxis": "y"},
        {"x": [1, 2], "y": ["attendance", "attendance"], "mode": "markers", "name": "strip",
         "showlegend": False, "text": ["attended", "no show"],
         "marker": {"symbol": "square", "color": ["#2e7d32", "#c62828"]},
         "xaxis": "x2", "yaxis": "y2"},
        {"x": [None], "y": [None], "mode": "markers", "name": "no show",
         "legendgroup": "attendance", "legendgrouptitle": {"text": "attendance"},
         "marker": {"symbol": "square", "color": "#c62828"}, "xaxis": "x2", "yaxis": "y2"},
    ],
    "layout": {"height": 300, "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
               "yaxis": {"domain": [0.5, 1.0], "range": [0, 10]},
               "yaxis2": {"domain": [0.0, 0.4]}},
}


def test_points_land_where_the_hand_computation_puts_them() -> None:
    html = chart_html(FIGURE)
    # plot area: x from 50 + 14 = 64 to 900 - 10 = 890; y from 10 to 300 - 40 = 260.
    # Panel 1 (domain 0.5-1): y 10 (top) to 135; x range 0.5-2.5 (half a session of margin).
    # Session 1 -> 64 + 0.5 / 2 * 826 = 270.5; score 5 of 0-10 -> 135 - 0.5 * 125 = 72.5.
    # Session 2 -> 64 + 1.5 / 2 * 826 = 683.5; score 10 -> 10.
    assert 'points="270.5,72.5 683.5,10.0"' in html
    # the strip's one category sits in the middle of panel 2 (domain 0-0.4: y 160-260), at
    # 210; a 10-pixel square there starts 5 pixels up and left of its centre
    assert '<rect x="265.5" y="205.0" width="10.0"' in html
    assert "<title>session 2: no show</title>" in html


def test_legend_lists_every_shown_mark_grouped_and_escaped() -> None:
    html = chart_html(FIGURE)
    names = re.findall(r'<span class="legendtext">([^<]*)</span>', html)
    assert names == ["Client &lt;b&gt;total&lt;/b&gt;", "no show"]   # the strip itself: no
    assert '<span class="legend-title">attendance</span>' in html
    assert "<b>" not in html


def test_ticks_are_round_numbers_covering_the_range() -> None:
    assert nice_ticks(0, 27) == [0, 5, 10, 15, 20, 25]
    assert nice_ticks(0.88, 7.12) == [1, 2, 3, 4, 5, 6, 7]
    assert nice_ticks(3, 3) == [3]


def test_case_page_draws_the_chart_inline_and_loads_no_plotly(web: Web) -> None:
    case_id, _ = make_case(web, web.people["dana"], sessions=0)
    plant_drop(web.db, web.people["dana"], case_id)
    html = web.session_for("dana").get(f"/cases/{case_id}").text
    assert '<svg class="chart-svg"' in html
    assert html.count("<polyline") >= 1 and "rupture" in html    # the planted drop is marked
    assert "plotly.min.js\"></script>" not in html               # only on request
    assert 'data-plotly="/static/' in html


def test_a_case_without_ratings_draws_only_the_attendance_strip(web: Web) -> None:
    case_id, _ = make_case(web, web.people["dana"], sessions=1)
    r = web.session_for("dana").get(f"/cases/{case_id}")
    assert r.status_code == 200
    svg = r.text[r.text.index('<svg class="chart-svg"'):r.text.index("</svg>")]
    assert "<polyline" not in svg                       # no rating, no line
    assert "<title>session 1: attended</title>" in svg    # the session's square
