"""The external evaluation harness: files a researcher holds, read and scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from alliance.cli import main
from alliance.coding import external as ext
from alliance.coding.coder import Coder
from alliance.errors import InputFileError

REFLECT = "It sounds like you've been carrying all of this on your own."
ADVISE = "You should talk to your manager about the hours this week."
# The format's label vocabulary (strategy names); every text in these files is written here.
REFLECTION = "Reflection of feelings"


def _esconv(tmp_path: Path, *, as_string: bool = True) -> Path:
    dialogs = []
    for k in range(3):
        dialog = [
            {"speaker": "usr", "text": "I feel so alone since my husband left."},
            {"speaker": "sys", "text": REFLECT, "strategy": REFLECTION},
            {"speaker": "usr", "text": "Yes, and work is piling up too."},
            {"speaker": "sys", "text": ADVISE, "strategy": "Providing Suggestions"},
            {"speaker": "usr", "text": "Maybe."},
            {"speaker": "sys", "text": f"When did it start, {k} months ago?",
             "strategy": "Question"},
        ]
        item = {"dialog": dialog}
        dialogs.append({"text": json.dumps(item)} if as_string else item)
    p = tmp_path / "chats.json"
    p.write_text(json.dumps(dialogs), encoding="utf-8")
    return p


def test_esconv_file_is_read_with_supporter_turns_labelled(tmp_path) -> None:
    for as_string in (True, False):
        data = ext.read_external(_esconv(tmp_path, as_string=as_string), "esconv")
        assert len(data.conversations) == 3 and data.labelled == 9
        _speakers, roles, _ = data.conversations[0]
        assert roles[:2] == ["client", "therapist"]
        assert data.labels[0][0] is None and data.labels[0][1] == ("Reflection of feelings",)


def test_check_reports_auroc_precision_and_calibration(tmp_path) -> None:
    data = ext.read_external(_esconv(tmp_path), "esconv")
    coder = Coder()
    lmap = ext.parse_label_map(None, "esconv")
    report = ext.check(ext.score_external(data, coder, lmap), coder, lmap, "chats.json")
    by_code = {c.code: c for c in report.codes}
    assert set(by_code) == {"bond.reflection", "bond.affirmation", "threat.unsolicited_advice"}
    refl = by_code["bond.reflection"]
    assert refl.positives == 3 and refl.negatives == 6
    assert refl.auroc == 1.0 and refl.precision == 1.0  # the reflection rule fires on them
    assert by_code["bond.affirmation"].auroc is None  # no positives: undefined, not 0.5
    assert sum(row["pairs"] for row in report.calibration) == 27
    text = ext.render_external(report)
    assert "AUROC" in text and "calibration" in text


def test_auroc_and_spearman_match_hand_computation() -> None:
    assert ext.auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert ext.auroc([0.5, 0.5], [0, 1]) == 0.5
    assert ext.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert ext.spearman([1, 1, 1], [1, 2, 3]) is None


def test_csv_with_label_map_is_scored(tmp_path) -> None:
    p = tmp_path / "turns.csv"
    p.write_text("conversation,speaker,text,label\n"
                 "a,client,I feel so alone.,\n"
                 f"a,therapist,{REFLECT},RES\n"
                 "a,client,Yes.,\n"
                 f'a,therapist,"{ADVISE}",GIV\n'
                 "b,client,Work is hard.,\n"
                 "b,therapist,When did it start?,QUO\n", encoding="utf-8")
    data = ext.read_external(p, "csv")
    assert len(data.conversations) == 2 and data.labelled == 3
    lmap = ext.parse_label_map("RES=bond.reflection,GIV=threat.unsolicited_advice,QUO=none",
                               "csv")
    assert lmap["QUO"] == ()
    report = ext.check(ext.score_external(data, Coder(), lmap), Coder(), lmap)
    assert {c.code for c in report.codes} == {"bond.reflection", "threat.unsolicited_advice"}


def test_label_map_file_and_codes_as_labels(tmp_path) -> None:
    m = tmp_path / "map.yaml"
    m.write_text("Reflection: bond.reflection\nAdvice: [threat.unsolicited_advice]\n",
                 encoding="utf-8")
    assert ext.parse_label_map(str(m), "csv") == {
        "Reflection": ("bond.reflection",), "Advice": ("threat.unsolicited_advice",)}


@pytest.mark.parametrize(("content", "fmt", "message"), [
    ("not json", "esconv", "not JSON"),
    ('{"dialog": 3}', "esconv", "no 'dialog' list"),
    ('[{"dialog": [{"speaker": "usr"}]}]', "esconv", "needs 'speaker' and 'text'"),
    ('[{"dialog": [{"speaker": "robot", "text": "hi"}]}]', "esconv", "neither therapist"),
    ('[{"dialog": [{"speaker": "usr", "text": "hi"}]}]', "esconv", "no labelled turns"),
    ("speaker,words\nclient,hi\n", "csv", "missing column"),
    ("speaker,text,label\nclient,,x\n", "csv", "empty text"),
    ("speaker,text,label\nnurse,hello,x\n", "csv", "neither therapist"),
    ("speaker,text,label\n", "csv", "no rows"),
])
def test_malformed_files_are_input_file_errors(tmp_path, content, fmt, message) -> None:
    p = tmp_path / "bad.data"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError, match=message):
        ext.read_external(p, fmt)


def test_missing_file_and_bad_label_map_are_input_file_errors(tmp_path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        ext.read_external(tmp_path / "nope.json", "esconv")
    with pytest.raises(InputFileError, match="unknown code"):
        ext.parse_label_map("RES=bond.mirroring", "csv")
    with pytest.raises(InputFileError, match="not label=code"):
        ext.parse_label_map("RES", "csv")


def test_cli_external_eval_prints_tables_and_json(tmp_path) -> None:
    p = _esconv(tmp_path)
    r = CliRunner().invoke(main, ["coding", "eval", "--coder", "rules", "--external", str(p),
                                  "--format", "esconv"])
    assert r.exit_code == 0, r.output
    assert "bond.reflection" in r.output and "AUROC" in r.output
    r = CliRunner().invoke(main, ["coding", "eval", "--coder", "rules", "--external", str(p),
                                  "--format", "esconv", "--json"])
    assert json.loads(r.output)["labelled_turns"] == 9


def test_cli_external_eval_bad_file_is_a_readable_error(tmp_path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("who,said\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["coding", "eval", "--coder", "rules", "--external", str(p)])
    assert r.exit_code == 1
    assert "error:" in r.output and "missing column" in r.output
    assert "Traceback" not in r.output


def test_advice_answering_a_request_is_reported_apart(tmp_path) -> None:
    # two labelled suggestions: one unasked, one answering "What should I do?"; the code is
    # unsolicited advice, so the harness also says how it ranks the turns nobody asked for
    p = tmp_path / "asked.csv"
    p.write_text("conversation,speaker,text,label\n"
                 "a,client,Work is hard.,\n"
                 f'a,therapist,"{ADVISE}",GIV\n'
                 "b,client,What should I do about my boss?,\n"
                 f'b,therapist,"{ADVISE}",GIV\n'
                 "c,client,I feel so alone.,\n"
                 f"c,therapist,{REFLECT},RES\n"
                 "d,client,Work is hard.,\n"
                 "d,therapist,When did it start?,QUO\n", encoding="utf-8")
    lmap = ext.parse_label_map("RES=none,GIV=threat.unsolicited_advice,QUO=none", "csv")
    coder = Coder()
    turns = ext.score_external(ext.read_external(p, "csv"), coder, lmap)
    assert turns.answers_request == [False, True, False, False]
    advice = {c.code: c for c in ext.check(turns, coder, lmap).codes}[
        "threat.unsolicited_advice"]
    # all four: the asked-for advice scores 0 and ties the two negatives -> (1 + 0.5) / 2
    assert advice.positives == 2 and advice.auroc == pytest.approx(0.75)
    assert advice.auroc_unrequested == 1.0 and advice.positives_answering_request == 1
    assert "do not answer a request" in ext.render_external(ext.check(turns, coder, lmap))
