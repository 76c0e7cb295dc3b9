"""Expected treatment response: curves by intake band, tolerance, and not-on-track flags."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from alliance.cli import main
from alliance.errors import AllianceError, InputFileError
from alliance.monitoring import synthetic
from alliance.monitoring.outcomes import (
    ExpectedCurve,
    ExpectedResponse,
    fit_expected_response,
    load_expected_response,
    parse_expected_response,
    track_outcome,
)


def _model(higher_is: str = "worse", slope: float = -3.0) -> ExpectedResponse:
    curve = ExpectedCurve("all", -math.inf, math.inf, slope, var_base=1.0, var_growth=0.0,
                          cases=50)
    return ExpectedResponse("phq-9" if higher_is == "worse" else "ors", higher_is, 2.0,
                            (curve,), "hand-made")


def test_the_slope_is_least_squares_through_the_origin_on_log_session() -> None:
    # Hand-computed: changes at ranks 2 and 3 are -2 and -3 for every client, so
    # b = (ln2 * -2 + ln3 * -3) / (ln2^2 + ln3^2) = -4.6821 / 1.6874 = -2.7748.
    rows = [(c, s, 20 + d) for c in range(12) for s, d in ((1, 0), (2, -2), (3, -3))]
    model = fit_expected_response(pd.DataFrame(rows, columns=["case_id", "session", "score"]),
                                  "phq-9", min_cases=5)
    expected = (math.log(2) * -2 + math.log(3) * -3) / (math.log(2) ** 2 + math.log(3) ** 2)
    assert model.curves[0].slope == pytest.approx(expected)
    assert model.curves[0].slope == pytest.approx(-2.7748, abs=1e-4)


def test_one_reading_beyond_the_band_is_not_yet_a_flag_two_are() -> None:
    # expected at rank t: 20 - 3 ln t; band +-2 (z 2, variance 1)
    model = _model()
    once = track_outcome([(1, 20), (2, 23), (3, 16), (4, 15)], model)
    assert [p.off_track for p in once.points] == [False, True, False, False]
    assert once.not_on_track is False
    twice = track_outcome([(1, 20), (2, 23), (3, 20), (4, 15)], model)
    assert [p.off_track for p in twice.points] == [False, True, True, False]
    assert twice.not_on_track_from == 3


def test_direction_follows_the_instrument_higher_is_better_flags_low_scores() -> None:
    model = _model("better", slope=3.0)          # ORS-like: expected to rise
    falling = track_outcome([(1, 20), (2, 19), (5, 18)], model)
    assert falling.not_on_track_from == 5
    rising_fast = track_outcome([(1, 20), (2, 30), (5, 35)], model)
    assert rising_fast.not_on_track is False     # better than expected is never a flag


def test_thin_intake_bands_are_merged_into_a_neighbour() -> None:
    rows = []
    for c in range(30):
        intake = 3 if c < 4 else 12            # 4 clients below "mild", 26 moderate
        rows += [(c, 1, intake), (c, 2, intake - 1), (c, 3, intake - 2)]
    model = fit_expected_response(pd.DataFrame(rows, columns=["case_id", "session", "score"]),
                                  "phq-9")
    assert [c.cases for c in model.curves] == [30]
    assert model.curves[0].label == "below mild / moderate"


def test_too_few_clients_or_bad_columns_are_readable_errors() -> None:
    few = pd.DataFrame({"case_id": [1, 1], "session": [1, 2], "score": [10, 9]})
    with pytest.raises(InputFileError, match="at least 10 are needed"):
        fit_expected_response(few, "phq-9")
    with pytest.raises(InputFileError, match="column 'score' is missing"):
        fit_expected_response(pd.DataFrame({"case_id": [1], "session": [1]}), "phq-9")
    with pytest.raises(AllianceError, match="unknown instrument 'phq-10'"):
        fit_expected_response(few, "phq-10")
    with pytest.raises(InputFileError, match="alliance-12 is an alliance measure"):
        fit_expected_response(few, "alliance-12")
    with pytest.raises(InputFileError, match="not an expected-response file"):
        parse_expected_response({"format": "something else"})


def test_curves_round_trip_through_json() -> None:
    model = load_expected_response("phq-9")
    again = parse_expected_response(json.loads(json.dumps(model.to_dict())))
    assert again == model
    assert "SYNTHETIC" in model.source        # the bundled default says what it is


@pytest.mark.slow
def test_not_on_track_paths_planted_by_the_generator_are_found() -> None:
    # The bundled curves were fitted on seed 20261201; this is a seed not used in any choice.
    from tests.benchmark_scripts import load

    module = load("eval_not_on_track")
    tp, fp, fn, tn = module.evaluate(500, 31)
    assert tp + fn > 60 and tn > 300                   # a real number of both kinds
    assert tp / (tp + fp) >= 0.9 and tp / (tp + fn) >= 0.9, (tp, fp, fn)


def test_cli_fits_and_tracks_a_case_file(tmp_path: Path) -> None:
    data, _ = synthetic.generate(120, 3, outcomes=True)
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(data), encoding="utf-8")
    runner = CliRunner()
    fitted = runner.invoke(main, ["outcomes", "fit", str(cases), "--instrument", "phq-9",
                                  "--out", str(tmp_path / "phq9.json")])
    assert fitted.exit_code == 0, fitted.output
    assert "curves by intake band" in fitted.output
    tracked = runner.invoke(main, ["outcomes", "track", str(cases), "--expected",
                                   str(tmp_path / "phq9.json"), "--format", "json"])
    assert tracked.exit_code == 0
    rows = json.loads(tracked.output)
    assert {r["instrument"] for r in rows} == {"phq-9", "ors"}   # ors from the bundled curves
    assert any(r["not_on_track_from"] for r in rows)


def test_cli_refuses_broken_curve_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["outcomes", "track", "examples/cases/example.json",
                                       "--expected", str(bad)])
    assert result.exit_code == 1 and "cannot read" in result.output
