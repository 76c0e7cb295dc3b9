from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.coding.coder import Coder
from alliance.coding.report import build_report, render_html, render_text, validate_report
from alliance.errors import CodingError
from alliance.transcripts.model import Transcript, Utterance


def test_rules_only_report_validates_and_says_rules_only(session) -> None:
    report = build_report(Coder().code(session))
    validate_report(report)
    assert report["schema"] == "alliance.transcript-report/1"
    assert report["coder"]["mode"] == "rules-only" and report["coder"]["rules_only"]
    assert "rules-only" in render_text(report)
    minimal = report["utterances"][1]["codes"]
    assert minimal[0]["code"] == "withdrawal.minimal_response"
    assert minimal[0]["evidence"] == "I don't know."
    assert report["episodes"][0]["marker_index"] == 1


def test_every_code_has_evidence_inside_its_utterance(session) -> None:
    report = build_report(Coder().code(session))
    for u in report["utterances"]:
        for c in u["codes"]:
            s, e = c["span"]
            assert c["evidence"] and u["text"][s:e] == c["evidence"]
            assert 0 <= c["confidence"] <= 1


def test_schema_rejects_bad_confidence_and_unknown_fields(session) -> None:
    report = build_report(Coder().code(session))
    bad = copy.deepcopy(report)
    bad["utterances"][1]["codes"][0]["confidence"] = 1.5
    with pytest.raises(CodingError, match="utterances/1/codes/0/confidence"):
        validate_report(bad)
    bad = copy.deepcopy(report)
    bad["summary"]["mystery"] = 1
    with pytest.raises(CodingError):
        validate_report(bad)


def test_html_escapes_transcript_text(transcript_of) -> None:
    t = transcript_of([("T", "What is going on for you?"),
                         ("C", "<script>alert('x')</script> I don't know.")])
    page = render_html(build_report(Coder().code(t)))
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_html_highlights_evidence(session) -> None:
    page = render_html(build_report(Coder().code(session)))
    assert "<mark>I don&#x27;t know.</mark>" in page


_turn = st.tuples(st.sampled_from(["T", "C", "C2"]), st.text(min_size=1, max_size=120))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_turn, min_size=1, max_size=12))
def test_any_transcript_gives_a_valid_report(turns) -> None:
    t = Transcript(tuple(
        Utterance(i, s, "therapist" if s == "T" else "client", x)  # type: ignore[arg-type]
        for i, (s, x) in enumerate(turns)))
    report = build_report(Coder().code(t))
    validate_report(report)
    for u in report["utterances"]:
        for c in u["codes"]:
            s, e = c["span"]
            assert u["text"][s:e] == c["evidence"]
    render_html(report)
    render_text(report)
