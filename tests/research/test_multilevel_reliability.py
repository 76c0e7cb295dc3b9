"""Multilevel (generalizability) reliability: the published example, REML, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliance.errors import ReliabilityError
from alliance.instruments.multilevel import (
    CROSSED,
    multilevel_reliability,
    simulate_repeated_items,
)

DATA = Path(__file__).parent / "data" / "shrout-lane-2012.csv"
ITEMS = ["item1", "item2", "item3"]

# Shrout & Lane (2012), as printed in R psych's multilevel.reliability documentation:
# variance components ID 2.34, Time .38, Items .61, ID x Time .92, ID x Items .12,
# Time x Items .05, Residual .96; RkF .97, R1R .60, RkR .85, Rc .74, RkRn .85, Rcn .65.
PUBLISHED_COMPONENTS = {"person": 2.34, "time": 0.38, "item": 0.61, "person:time": 0.92,
                        "person:item": 0.12, "time:item": 0.05, "residual": 0.96}
PUBLISHED_COEFFICIENTS = {"RkF": 0.97, "R1R": 0.60, "RkR": 0.85, "Rc": 0.74, "RkRn": 0.85,
                          "Rcn": 0.65}

TRUTH = {"person": 2.0, "time": 0.5, "item": 0.5, "person:time": 0.8, "person:item": 0.3,
         "time:item": 0.2, "residual": 1.0}


def shrout_lane() -> pd.DataFrame:
    return pd.read_csv(DATA, comment="#")


def simulate(n: int, k: int, m: int, seed: int, drop: float) -> pd.DataFrame:
    return simulate_repeated_items(n, k, m, components=TRUTH, missing=drop, seed=seed)


def test_published_variance_components_are_reproduced() -> None:
    result = multilevel_reliability(shrout_lane(), items=ITEMS)
    assert result.method == "anova"
    for name, value in PUBLISHED_COMPONENTS.items():
        assert result.components[name] == pytest.approx(value, abs=0.005), name


def test_published_reliability_coefficients_are_reproduced() -> None:
    result = multilevel_reliability(shrout_lane(), items=ITEMS)
    for name, value in PUBLISHED_COEFFICIENTS.items():
        assert getattr(result, name) == pytest.approx(value, abs=0.005), name
    assert (result.n_persons, result.n_times, result.n_items) == (5, 4, 3)


def test_long_table_gives_the_same_answer_as_the_wide_one() -> None:
    wide = shrout_lane()
    long = wide.melt(id_vars=["person", "time"], var_name="question", value_name="answer")
    a = multilevel_reliability(wide, items=ITEMS)
    b = multilevel_reliability(long.sample(frac=1, random_state=1), item="question",
                               value="answer")
    assert a.coefficients == pytest.approx(b.coefficients)


def test_reml_equals_anova_on_balanced_data() -> None:
    anova = multilevel_reliability(shrout_lane(), items=ITEMS)
    reml = multilevel_reliability(shrout_lane(), items=ITEMS, method="reml")
    assert reml.method == "reml"
    for name in CROSSED:
        assert reml.components[name] == pytest.approx(anova.components[name], abs=1e-4), name
    for name, value in anova.nested.items():
        assert reml.nested[name] == pytest.approx(value, abs=1e-4), name


def test_missing_sessions_switch_to_reml_and_keep_every_answer() -> None:
    data = shrout_lane().drop(index=[3, 7, 18])
    result = multilevel_reliability(data, items=ITEMS)
    assert result.method == "reml"
    assert result.n_observations == 17 * 3
    assert result.k == pytest.approx(5 / (3 / 4 + 1 / 3 + 1 / 2)) and result.m == pytest.approx(3)
    assert all(0 <= r <= 1 for r in result.coefficients.values())


@pytest.mark.filterwarnings("ignore")
def test_reml_agrees_with_statsmodels_on_unbalanced_data() -> None:
    smf = pytest.importorskip("statsmodels.formula.api")
    data = simulate(12, 4, 3, seed=3, drop=0.25)
    data.loc[data.index[::7], "i2"] = np.nan  # some skipped items as well
    ours = multilevel_reliability(data, items=["i1", "i2", "i3"])
    long = data.melt(id_vars=["person", "time"], var_name="item", value_name="y").dropna()
    long["one"] = 1
    long["pt"] = long["person"] + ":" + long["time"].astype(str)
    long["pi"] = long["person"] + ":" + long["item"]
    long["ti"] = long["time"].astype(str) + ":" + long["item"]
    vc = {"person": "0 + C(person)", "time": "0 + C(time)", "item": "0 + C(item)",
          "person:time": "0 + C(pt)", "person:item": "0 + C(pi)", "time:item": "0 + C(ti)"}
    # statsmodels' gradient optimisers stop short on this likelihood; Powell converges.
    fit = smf.mixedlm("y ~ 1", long, groups="one", vc_formula=vc, re_formula="0").fit(
        reml=True, method=["powell"])
    assert fit.converged
    theirs = dict(zip(fit.model.exog_vc.names, fit.vcomp, strict=True))
    for name in CROSSED[:-1]:
        assert ours.components[name] == pytest.approx(theirs[name], abs=0.02), name
    assert ours.components["residual"] == pytest.approx(fit.scale, abs=0.01)


def test_reml_recovers_known_components_from_unbalanced_data() -> None:
    # 12 replications of 30 persons x 5 sessions x 3 items with a quarter of the sessions
    # missing: the mean estimate of each component lies within 3 standard errors of the
    # truth that generated the data.
    estimates = pd.DataFrame([
        multilevel_reliability(simulate(30, 5, 3, seed=s, drop=0.25),
                               items=["i1", "i2", "i3"]).components
        for s in range(12)])
    mean = estimates.mean()
    se = estimates.std(ddof=1) / np.sqrt(len(estimates))
    for name, true in TRUTH.items():
        assert abs(mean[name] - true) < 3 * se[name] + 0.02, (name, mean[name], se[name])


def test_frames_are_tidy() -> None:
    result = multilevel_reliability(shrout_lane(), items=ITEMS)
    comps = result.components_frame()
    assert list(comps.columns) == ["model", "component", "variance", "percent"]
    assert comps.groupby("model")["percent"].sum().round(6).eq(100).all()
    coefs = result.coefficients_frame()
    assert list(coefs["coefficient"]) == ["R1F", "RkF", "R1R", "RkR", "Rc", "RkRn", "Rcn"]


def test_negative_anova_component_is_set_to_zero_and_noted() -> None:
    data = shrout_lane()
    data["item3"] = data["item1"] + 1  # item3 adds nothing beyond item1: tiny interactions
    result = multilevel_reliability(data, items=ITEMS)
    assert all(v >= 0 for v in result.components.values())
    if any("set to 0" in n for n in result.notes):
        assert 0.0 in result.components.values()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"items": ["item1", "nope"]}, "no column 'nope'"),
    ({}, "name the item columns"),
    ({"items": ITEMS, "item": "x", "value": "y"}, "not both"),
    ({"items": ["item1", "item1"]}, "named twice"),
    ({"items": ["item1"]}, "at least 2 items"),
    ({"items": ITEMS, "method": "bayes"}, "unknown method"),
])
def test_bad_arguments_raise_reliability_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ReliabilityError, match=message):
        multilevel_reliability(shrout_lane(), **kwargs)


def test_non_numeric_answer_is_named() -> None:
    data = shrout_lane().astype({"item2": object})
    data.loc[4, "item2"] = "often"
    with pytest.raises(ReliabilityError, match=r"person 5, time 1, item item2: 'often'"):
        multilevel_reliability(data, items=ITEMS)


def test_duplicate_answer_is_refused() -> None:
    data = pd.concat([shrout_lane(), shrout_lane().iloc[[0]]])
    with pytest.raises(ReliabilityError, match="more than once"):
        multilevel_reliability(data, items=ITEMS)


def test_one_session_only_is_refused() -> None:
    data = shrout_lane()
    with pytest.raises(ReliabilityError, match="at least 2 occasions"):
        multilevel_reliability(data[data["time"] == 1], items=ITEMS)


def test_anova_method_refuses_unbalanced_data() -> None:
    with pytest.raises(ReliabilityError, match="balanced"):
        multilevel_reliability(shrout_lane().drop(index=[0]), items=ITEMS, method="anova")


def test_constant_answers_are_refused() -> None:
    data = shrout_lane().assign(item1=3, item2=3, item3=3)
    with pytest.raises(ReliabilityError, match="no residual variance"):
        multilevel_reliability(data, items=ITEMS)


def test_not_a_dataframe_is_refused() -> None:
    with pytest.raises(ReliabilityError, match="DataFrame"):
        multilevel_reliability([[1, 2, 3]], items=ITEMS)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["anova", "reml"])
def test_coefficients_ignore_row_order_labels_and_linear_rescaling(method: str) -> None:
    data = shrout_lane()
    base = multilevel_reliability(data, items=ITEMS, method=method).coefficients
    changed = data.sample(frac=1, random_state=5).assign(
        person=lambda d: "client-" + d["person"].astype(str),
        time=lambda d: d["time"] * 10,
        **{c: (lambda d, c=c: 2.5 * d[c] - 7) for c in ITEMS})
    again = multilevel_reliability(changed, items=ITEMS, method=method).coefficients
    assert again == pytest.approx(base, abs=1e-4)


def test_components_scale_with_the_square_of_the_unit() -> None:
    data = shrout_lane()
    base = multilevel_reliability(data, items=ITEMS).components
    doubled = multilevel_reliability(data.assign(**{c: 2 * data[c] for c in ITEMS}),
                                     items=ITEMS).components
    for name, value in base.items():
        assert doubled[name] == pytest.approx(4 * value), name


def test_simulated_data_have_the_requested_shape_and_missingness() -> None:
    full = simulate_repeated_items(10, 4, 2, seed=1)
    assert len(full) == 40 and list(full.columns) == ["person", "time", "i1", "i2"]
    sparse = simulate_repeated_items(200, 4, 2, missing=0.5, seed=1)
    assert sparse.groupby("person")["time"].min().eq(1).all()  # first session always there
    assert 0.55 < len(sparse) / 800 < 0.70  # 1 + 3 * 0.5 of 4 occasions = 62.5%


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"components": {"person": 1.0}}, "must name each"),
    ({"components": {**TRUTH, "person": -1.0}}, ">= 0"),
    ({"missing": 1.0}, "missing must be"),
    ({"n_persons": 0}, "at least 1"),
])
def test_bad_simulation_settings_raise_reliability_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ReliabilityError, match=message):
        simulate_repeated_items(**kwargs)


def test_figure_shows_components_and_coefficients() -> None:
    result = multilevel_reliability(shrout_lane(), items=ITEMS)
    fig = result.figure()
    assert [t.name for t in fig.data] == ["crossed model", "nested model", "coefficient"]
    assert list(fig.data[2].y)[::-1] == list(result.coefficients)
    assert sum(fig.data[0].x) == pytest.approx(100)


def test_too_large_unbalanced_design_is_refused_before_any_work(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import alliance.instruments.multilevel as ml

    monkeypatch.setattr(ml, "MAX_RANDOM_EFFECTS", 50)
    with pytest.raises(ReliabilityError, match="random effects"):
        multilevel_reliability(shrout_lane().drop(index=[0]), items=ITEMS)
    # balanced data of any size use the ANOVA and are not limited
    assert multilevel_reliability(shrout_lane(), items=ITEMS).method == "anova"


def test_column_names_that_clash_with_internal_names_work() -> None:
    data = shrout_lane().rename(columns={"person": "item", "time": "y", "item1": "person"})
    result = multilevel_reliability(data, person="item", time="y",
                                    items=["person", "item2", "item3"])
    assert result.RkF == pytest.approx(multilevel_reliability(shrout_lane(),
                                                              items=ITEMS).RkF)


def test_empty_table_is_refused() -> None:
    with pytest.raises(ReliabilityError, match="at least 2 persons"):
        multilevel_reliability(shrout_lane().iloc[:0], items=ITEMS)
