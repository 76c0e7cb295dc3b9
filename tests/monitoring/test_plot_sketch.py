"""The case page's chart is built without plotly objects (:class:`Sketch`); it must give the
same plotly JSON as the plotly figure for the same case, so the SVG and the interactive chart
show the same marks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alliance.monitoring import monitor_case, parse_cases, synthetic
from alliance.monitoring.outcomes import load_expected_response
from alliance.monitoring.plot import trajectory_figure
from alliance.monitoring.progress import assess_progress


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


@pytest.mark.parametrize("index", range(0, 40, 3))
def test_the_sketch_gives_the_plotly_figures_json(index: int) -> None:
    data, _ = synthetic.generate(40, 5, outcomes=True)
    case = parse_cases(data)[index]
    models = {i: load_expected_response(i) for i in ("phq-9", "ors")}
    progress = assess_progress(case, monitor_case(case), models)
    figures = []
    for sketch in (False, True):
        fig = trajectory_figure(case, progress.report, tracks=progress.tracks, sketch=sketch)
        fig.update_layout(title=None, height=620, margin={"l": 50, "r": 10, "t": 10, "b": 40},
                          legend={"orientation": "h", "y": -0.12})
        got = json.loads(fig.to_json()) if not sketch else fig.to_plotly_json()
        got["layout"].pop("template", None)
        if got["layout"].get("title") == {}:
            del got["layout"]["title"]
        figures.append(_rounded(got))
    plotly, sketched = figures
    assert sketched["layout"] == plotly["layout"]
    assert sketched["data"] == plotly["data"]
