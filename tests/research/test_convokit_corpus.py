"""ConvoKit corpora with codes and episodes: export, load with convokit itself, import back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alliance.coding import find_episodes, load_coder
from alliance.errors import TranscriptError
from alliance.interop.convokit import (
    FILES,
    codes_frame,
    episodes_frame,
    export_corpus,
    import_corpus,
)
from alliance.transcripts import read_transcript

EXAMPLES = Path(__file__).parents[2] / "examples" / "transcripts"
SESSIONS = ("session.txt", "rupture-repair.txt", "session.csv", "utterances.jsonl")


@pytest.fixture(scope="module")
def coded():  # type: ignore[no-untyped-def]
    transcripts = [read_transcript(EXAMPLES / name) for name in SESSIONS]
    return load_coder(rules_only=True).code_many(transcripts)


def test_export_writes_the_five_corpus_files(coded, tmp_path: Path) -> None:
    out = export_corpus(coded, tmp_path / "corpus")
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    lines = (out / "utterances.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == sum(len(c) for c in coded)
    first = json.loads(lines[0])
    assert {"id", "conversation_id", "speaker", "reply-to", "timestamp", "text", "meta",
            "vectors"} <= set(first)
    conversations = json.loads((out / "conversations.json").read_text(encoding="utf-8"))
    assert len(conversations) == len(coded)  # two files named session.* stay two sessions


def test_round_trip_keeps_utterances_codes_and_episodes(coded, tmp_path: Path) -> None:
    back = import_corpus(export_corpus(coded, tmp_path / "corpus"))
    assert len(back) == len(coded)
    for session, original in zip(back, coded, strict=True):
        assert session.coded.transcript.utterances == original.transcript.utterances
        assert [u.codes for u in session.coded.utterances] == \
            [u.codes for u in original.utterances]
        assert list(session.episodes) == find_episodes(original.utterances)
        assert session.coded.mode == original.mode
    assert sum(len(s.episodes) for s in back) > 0  # the example has rupture episodes


@pytest.mark.slow
def test_convokit_loads_the_export(coded, tmp_path: Path) -> None:
    import convokit  # a dev dependency: the format is checked by ConvoKit itself

    out = export_corpus(coded, tmp_path / "corpus", name="examples")
    corpus = convokit.Corpus(filename=str(out))
    assert len(list(corpus.iter_conversations())) == len(coded)
    assert len(list(corpus.iter_utterances())) == sum(len(c) for c in coded)
    assert corpus.meta["name"] == "examples"
    marker_session = next(c for c in coded if find_episodes(c.utterances))
    conv_id = import_corpus(out)[coded.index(marker_session)].conversation_id
    conversation = corpus.get_conversation(conv_id)
    assert conversation.meta["episodes"] == [e.to_dict() for e in
                                             find_episodes(marker_session.utterances)]
    coded_turn = next(u for u in marker_session.utterances if u.codes)
    utt = corpus.get_utterance(f"{conv_id.removesuffix('-0000')}-{coded_turn.utterance.index:04d}")
    assert [c["code"] for c in utt.meta["codes"]] == [c.code for c in coded_turn.codes]
    assert utt.speaker.meta["role"] == coded_turn.utterance.role
    if coded_turn.utterance.index > 0:
        assert utt.reply_to is not None


def test_plain_convokit_corpus_without_codes_imports(tmp_path: Path) -> None:
    from alliance.transcripts import write_convokit

    write_convokit(read_transcript(EXAMPLES / "session.txt"), tmp_path / "plain")
    [session] = import_corpus(tmp_path / "plain")
    assert all(u.codes == () for u in session.coded.utterances)
    assert session.episodes == ()


def test_bad_exports_are_refused(coded, tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="at least one"):
        export_corpus([], tmp_path / "x")
    with pytest.raises(TranscriptError, match="coded transcripts"):
        export_corpus([coded[0].transcript], tmp_path / "x")  # type: ignore[list-item]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TranscriptError, match="cannot write"):
        export_corpus(coded, blocker / "sub")


def test_bad_corpora_are_refused(coded, tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="not a ConvoKit corpus"):
        import_corpus(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TranscriptError, match=r"no utterances\.jsonl"):
        import_corpus(tmp_path / "empty")
    out = export_corpus(coded[:1], tmp_path / "c")
    lines = (out / "utterances.jsonl").read_text(encoding="utf-8").splitlines()
    (out / "utterances.jsonl").write_text("\n".join([lines[0], "{oops", *lines[1:]]))
    with pytest.raises(TranscriptError, match=r"line 2.*not valid JSON"):
        import_corpus(out)
    bad = json.loads(lines[0])
    bad["meta"]["codes"] = [{"code": "x"}]
    (out / "utterances.jsonl").write_text("\n".join([json.dumps(bad), *lines[1:]]))
    with pytest.raises(TranscriptError, match="numeric 'confidence'"):
        import_corpus(out)
    (out / "utterances.jsonl").write_text("\n".join(lines))
    (out / "conversations.json").write_text("[1")
    with pytest.raises(TranscriptError, match="invalid JSON"):
        import_corpus(out)
    (out / "conversations.json").write_text(json.dumps(
        {json.loads(lines[0])["conversation_id"]: {"meta": {"episodes": [{"x": 1}]}}}))
    with pytest.raises(TranscriptError, match="episode is malformed"):
        import_corpus(out)


def test_codes_and_episodes_as_tidy_frames(coded, tmp_path: Path) -> None:
    back = import_corpus(export_corpus(coded, tmp_path / "corpus"))
    codes = codes_frame(back)
    assert len(codes) == sum(len(u.codes) for c in coded for u in c.utterances)
    assert codes_frame(coded)["code"].tolist() == codes["code"].tolist()
    episodes = episodes_frame(back)
    assert len(episodes) == sum(len(s.episodes) for s in back)
    assert set(episodes["resolution"]) <= {"resolved", "partial", "unresolved"}
