"""Plotly figure of an alliance-outcome model: effects with intervals, and the within view.

Left: every coefficient but the intercept as a point with its confidence interval (a
forest plot; the zero line marks "no effect"). Right: the within-person view: each
consecutive-session pair as the alliance's departure from the client's own average against
the next outcome's departure from that client's average next outcome, with the fitted
within-person slope. Plotly is imported only here, when a figure is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from alliance.outcome.model import AllianceOutcome


def effects_figure(result: AllianceOutcome) -> Any:
    """The two-panel figure described in the module docstring."""
    from plotly.subplots import make_subplots

    level = round(100 * result.confidence)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], horizontal_spacing=0.12,
                        subplot_titles=(f"Effects with {level}% intervals",
                                        "Within-person: this session and the next"))
    rows = result.table[result.table["term"] != "intercept"].iloc[::-1]
    fig.add_scatter(x=rows["estimate"], y=rows["term"], mode="markers", name="estimate",
                    marker={"size": 10, "color": "#1565c0"},
                    error_x={"type": "data", "symmetric": False,
                             "array": (rows["ci_high"] - rows["estimate"]).to_numpy(),
                             "arrayminus": (rows["estimate"] - rows["ci_low"]).to_numpy()},
                    customdata=rows[["p_value"]].to_numpy(),
                    hovertemplate="%{y}: %{x:.3f} (p = %{customdata[0]:.3g})<extra></extra>",
                    row=1, col=1)
    fig.add_vline(x=0, line={"dash": "dot", "color": "#616161"}, row=1, col=1)
    pairs = result.pairs
    x = pairs["alliance_within"].to_numpy()
    y = (pairs["outcome_next"] - pairs.groupby("person")["outcome_next"].transform("mean"))
    fig.add_scatter(x=x, y=y.to_numpy(), mode="markers", name="session pairs",
                    marker={"size": 5, "opacity": 0.45, "color": "#546e7a"},
                    hovertemplate="alliance %{x:.2f} from own mean; next outcome %{y:.2f}"
                                  "<extra></extra>", row=1, col=2)
    slope = float(result.effect("alliance_within")["estimate"])
    grid = np.linspace(float(np.nanmin(x)), float(np.nanmax(x)), 2) if len(x) else np.zeros(2)
    fig.add_scatter(x=grid, y=slope * grid, mode="lines", name=f"within slope {slope:.2f}",
                    line={"color": "#c62828", "width": 3}, row=1, col=2)
    fig.update_xaxes(title_text="coefficient", row=1, col=1)
    fig.update_xaxes(title_text="alliance minus the client's average", row=1, col=2)
    fig.update_yaxes(title_text="next outcome minus the client's average", row=1, col=2)
    fig.update_layout(template="plotly_white", height=420, showlegend=True,
                      title=f"Alliance and next-session outcome: {result.n_persons} clients, "
                            f"{result.n_pairs} session pairs")
    return fig
