from __future__ import annotations

import json
from pathlib import Path

import pytest

from alliance.coding.codebook import load_codebook
from alliance.coding.corpus import load_corpus
from alliance.errors import CodingError


def write_session(root: Path, sid: str = "s1", split: str = "train", **over) -> Path:
    data = {
        "id": sid, "modality": "individual", "split": split, "description": "test",
        "utterances": [
            {"speaker": "T", "role": "therapist", "text": "What was it like?", "codes": []},
            {"speaker": "C", "role": "client", "text": "Dunno.",
             "codes": ["withdrawal.minimal_response"]},
            {"speaker": "T", "role": "therapist", "text": "I notice you went quiet.",
             "codes": ["repair.name_rupture"]},
            {"speaker": "C", "role": "client", "text": "Yes, I felt judged last week.",
             "codes": []},
        ],
        "episodes": [{"marker_index": 1, "marker_code": "withdrawal.minimal_response",
                      "repair_indices": [2], "threat_indices": [], "resolution": "resolved"}],
    }
    data.update(over)
    (root / "sessions").mkdir(parents=True, exist_ok=True)
    p = root / "sessions" / f"{sid}.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


def write_snippets(root: Path, lines: list[dict], name: str = "topic.jsonl") -> Path:
    (root / "snippets").mkdir(parents=True, exist_ok=True)
    p = root / "snippets" / name
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return p


SNIPPET = {"id": "x1", "group": "g1", "split": "dev",
           "context": [{"role": "therapist", "text": "How was the week?"}],
           "role": "client", "text": "Whatever.", "codes": ["withdrawal.minimal_response"],
           "note": "positive"}


def test_valid_corpus_loads_sessions_and_snippets(tmp_path: Path) -> None:
    write_session(tmp_path)
    write_snippets(tmp_path, [SNIPPET])
    corpus = load_corpus(tmp_path)
    assert corpus.labelled_count() == 5
    assert corpus.code_counts()["withdrawal.minimal_response"] == 2
    snippet = corpus.split("dev")[0]
    assert [t.role for t in snippet.turns] == ["therapist", "client"]
    assert snippet.labels == {1: ("withdrawal.minimal_response",)}
    assert corpus.sessions[0].episodes[0].repair_indices == (2,)


def test_corpus_hash_changes_with_content(tmp_path: Path) -> None:
    write_session(tmp_path)
    h1 = load_corpus(tmp_path).data_hash
    write_session(tmp_path, description="changed")
    assert load_corpus(tmp_path).data_hash != h1


@pytest.mark.parametrize("change, message", [
    ({"codes": ["withdrawal.nonsense"]}, "unknown code"),
    ({"codes": ["repair.clarify"]}, "therapist code on a client turn"),
    ({"split": "holdout"}, "split must be one of"),
    ({"role": "patient"}, "role must be one of"),
    ({"text": ""}, "text must be a non-empty string"),
])
def test_bad_snippet_is_reported_with_file_and_line(tmp_path: Path, change, message) -> None:
    path = write_snippets(tmp_path, [SNIPPET, {**SNIPPET, "id": "x2", **change}])
    with pytest.raises(CodingError, match=message) as info:
        load_corpus(tmp_path)
    assert f"{path}:2" in str(info.value)


def test_group_split_across_splits_is_refused(tmp_path: Path) -> None:
    write_snippets(tmp_path, [SNIPPET, {**SNIPPET, "id": "x2", "split": "test"}])
    with pytest.raises(CodingError, match="group 'g1'"):
        load_corpus(tmp_path)


def test_bad_json_line_and_bad_episode_are_both_listed(tmp_path: Path) -> None:
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "x.jsonl").write_text("{not json\n", encoding="utf-8")
    write_session(tmp_path, episodes=[{"marker_index": 0, "marker_code": "withdrawal.denial",
                                       "repair_indices": [], "threat_indices": [],
                                       "resolution": "fine"}])
    with pytest.raises(CodingError) as info:
        load_corpus(tmp_path)
    text = str(info.value)
    assert "not JSON" in text and "marker_code" in text and "resolution must be" in text


def test_missing_or_empty_corpus_dir_is_a_coding_error(tmp_path: Path) -> None:
    with pytest.raises(CodingError, match="not found"):
        load_corpus(tmp_path / "nope")
    with pytest.raises(CodingError, match="no sessions"):
        load_corpus(tmp_path)


def test_shipped_corpus_is_valid_and_meets_the_issue_minimums() -> None:
    corpus = load_corpus()
    assert corpus.labelled_count() >= 1500
    assert len(corpus.sessions) >= 30
    assert {c.modality for c in corpus.sessions} >= {"individual", "couple", "family"}
    counts = corpus.code_counts()
    thin = {c: counts[c] for c in load_codebook().names if counts[c] < 40}
    assert not thin, f"codes with fewer than 40 examples: {thin}"
    for split in ("train", "dev", "test"):
        assert corpus.split(split), split
