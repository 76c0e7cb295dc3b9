"""The coder reads speech: listener tokens, crosstalk, continuations, disfluent words."""

from __future__ import annotations

from alliance.coding.coder import Coder
from alliance.coding.report import build_report, render_html, render_text, validate_report
from alliance.coding.timeline import timeline_svg


def test_listener_tokens_are_never_minimal_responses(transcript_of) -> None:
    for token in ("Mm.", "Um.", "Mm, yeah.", "Yeah.", "Uh-huh."):
        t = transcript_of([("T", "What was that week like for you?"), ("C", token)])
        coded = Coder().code(t)
        assert coded[1].codes == (), token
        assert coded[1].reading is not None and coded[1].reading.kind == "listener"
    t = transcript_of([("T", "What was that week like for you?"), ("C", "I don't know.")])
    assert [c.code for c in Coder().code(t)[1].codes] == ["withdrawal.minimal_response"]


def test_disfluent_minimal_response_is_still_found_with_evidence_in_the_original(
        transcript_of) -> None:
    text = "Um, I- I don't, uh, I don't know."
    t = transcript_of([("T", "How did you feel when she said that?"), ("C", text)])
    codes = Coder().code(t)[1].codes
    assert [c.code for c in codes] == ["withdrawal.minimal_response"]
    assert text[codes[0].start:codes[0].end] in text and codes[0].end > codes[0].start


def test_therapist_turn_after_a_listener_token_answers_the_client_turn_before_it(
        transcript_of) -> None:
    t = transcript_of([("C", "What should I do about my sister?"), ("T", "Mm."),
                       ("C", "Mm-hmm."),
                       ("T", "You should tell her no more loans until she pays.")])
    analysis = Coder().analyse([([u.speaker for u in t], [u.role for u in t],
                                 [u.text for u in t])])[0]
    assert analysis[3].features.advice_requested  # the request two turns back counts
    assert not any(a.code == "threat.unsolicited_advice" for a in analysis[3].assigned)


def test_unrequested_advice_is_coded_and_requested_advice_is_not(transcript_of) -> None:
    asked = transcript_of([("C", "Any tips for sleeping better?"),
                           ("T", "You should keep the same wake-up time every day.")])
    unasked = transcript_of([("C", "I slept badly again."),
                             ("T", "You should keep the same wake-up time every day.")])
    assert not Coder().code(asked)[1].codes
    assert [c.code for c in Coder().code(unasked)[1].codes] == ["threat.unsolicited_advice"]


def test_continuation_is_coded_with_its_turn_and_report_keeps_original_indices(
        transcript_of) -> None:
    t = transcript_of([("T", "What's the hardest part?"),
                       ("C", "Honestly I'm- I'm not angry, it doesn't bother me—"),
                       ("T", "Mm."),
                       ("C", "-at all, really."),
                       ("T", "Okay."),
                       ("C", "So—"),
                       ("T", "Go on, take your time, I'm listening.")])
    report = build_report(Coder().code(t))
    validate_report(report)
    utts = report["utterances"]
    assert [u["index"] for u in utts] == list(range(7))
    assert utts[1]["reading"] == {"kind": "turn", "unit": 1, "indices": [1, 3]}
    assert utts[3]["reading"] == {"kind": "continuation", "unit": 1}
    assert utts[3]["codes"] == [] and utts[3]["text"] == "-at all, really."
    assert utts[2]["reading"]["kind"] == "listener"
    assert utts[5]["reading"] == {"kind": "crosstalk", "unit": 5, "attached_to": 4}
    assert "withdrawal.denial" in {c["code"] for c in utts[1]["codes"]}
    for c in utts[1]["codes"]:
        s, e = c["span"]
        assert utts[1]["text"][s:e] == c["evidence"] or (s, e) == (0, 0)
    assert "continues #1" in render_html(report)


def test_report_names_codes_in_plain_language_with_the_id_on_hover(session) -> None:
    report = build_report(Coder().code(session))
    page = render_html(report)
    assert "Minimal response" in page
    assert 'title="withdrawal.minimal_response' in page
    assert "90% interval" in page and report["summary"]["alliance_index_meaning"] in page
    assert "%" in page.split("episodes resolved")[1][:40]
    text = render_text(report)
    assert "90% interval" in text and "resolution rate" in text
    assert "Platt" in report["coder"]["calibration"] or "rule precision" in \
        report["coder"]["calibration"]


def test_a_code_is_shown_once_per_utterance(session) -> None:
    report = build_report(Coder().code(session))
    for u in report["utterances"]:
        codes = [c["code"] for c in u["codes"]]
        assert len(codes) == len(set(codes))


def test_timeline_figure_is_reusable_from_a_report(session) -> None:
    report = build_report(Coder().code(session))
    svg = timeline_svg(report)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "Rupture markers" in svg and "Repair moves" in svg
    assert "Minimal response" in svg  # plain names in the hover titles
    assert svg in render_html(report)
