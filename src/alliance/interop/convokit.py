"""Coded sessions as a ConvoKit corpus, and back: codes and episodes travel as metadata.

:func:`export_corpus` writes a directory in ConvoKit's layout (the one ``Corpus.dump``
writes, loadable with ``convokit.Corpus(filename=...)``), one conversation per session:

* ``utterances.jsonl``: one JSON object per turn with ``id``, ``conversation_id`` (the id of
  the session's first turn), ``speaker``, ``reply-to`` (the previous turn), ``timestamp``
  (start seconds), ``text``, ``vectors: []`` and ``meta``: ``role``, ``index``, ``start`` and
  ``end`` (as the transcript writer in :mod:`alliance.transcripts.convokit` puts them) plus
  ``codes``: ``[{"code", "family", "confidence", "source", "evidence", "start", "end"}]``;
* ``conversations.json``: per session ``{"meta": {...}, "vectors": []}`` with ``source``,
  ``format``, the transcript's own metadata, the coder's ``mode``, ``model`` and
  ``heads_version``, and ``episodes`` (each rupture-repair episode as
  :meth:`alliance.coding.episodes.Episode.to_dict` writes it);
* ``speakers.json``: speakers are per session (``{conversation}:{name}``; the same label in
  two sessions need not be the same person) with ``role`` and ``name`` in their meta;
* ``corpus.json`` (corpus meta: ``name``, ``generator``, ``sessions``) and ``index.json``
  (the meta field types, as ConvoKit records them).

:func:`import_corpus` reads such a directory back. Each conversation's lines go through the
transcript reader (:func:`alliance.transcripts.parse_transcript`, format ``convokit``), so
an imported session obeys exactly the rules of a ConvoKit transcript file; the codes and
episodes are then read from the metadata. A corpus without codes imports with none.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from alliance.coding.coder import CodeAssignment, CodedTranscript, CodedUtterance
from alliance.coding.episodes import Episode, Link, find_episodes
from alliance.errors import TranscriptError
from alliance.transcripts import Transcript, parse_transcript
from alliance.transcripts.convokit import UTTERANCES, _objects, utterance_records
from alliance.transcripts.convokit import _type_names as _type_index

FILES = (UTTERANCES, "speakers.json", "conversations.json", "corpus.json", "index.json")
_SEP = ":"


@dataclass(frozen=True)
class CorpusSession:
    """One session of a corpus: the coded transcript and its rupture-repair episodes."""

    coded: CodedTranscript
    episodes: tuple[Episode, ...]
    conversation_id: str


def _codes(utterance: CodedUtterance) -> list[dict[str, Any]]:
    return [{"code": c.code, "family": c.family, "confidence": float(c.confidence),
             "source": c.source, "evidence": c.evidence, "start": c.start, "end": c.end}
            for c in utterance.codes]


def _unique(transcripts: Sequence[Transcript]) -> list[Transcript]:
    """Give every transcript its own conversation id (two ``session.txt`` files collide)."""
    seen: set[str] = set()
    out = []
    for t in transcripts:
        conv = utterance_records(t)[0]["conversation_id"] if len(t) else "session-0000"
        if conv in seen:
            stem = conv.removesuffix("-0000")
            k = 2
            while f"{stem}_{k}-0000" in seen:
                k += 1
            conv = f"{stem}_{k}-0000"
            t = replace(t, meta={**t.meta, "conversation_id": conv})
        seen.add(conv)
        out.append(t)
    return out


def export_corpus(sessions: Sequence[CodedTranscript], directory: str | Path, *,
                  name: str = "alliance-corpus", episodes: bool = True) -> Path:
    """Write coded sessions as a ConvoKit corpus directory; returns the directory.

    Episodes are found with :func:`~alliance.coding.episodes.find_episodes` unless
    ``episodes`` is off. Raises TranscriptError when the directory cannot be written.
    """
    if not sessions:
        raise TranscriptError("a corpus needs at least one coded session")
    if not all(isinstance(s, CodedTranscript) for s in sessions):
        raise TranscriptError("export_corpus takes coded transcripts (Coder.code_many)")
    transcripts = _unique([s.transcript for s in sessions])
    lines: list[str] = []
    utt_meta: list[dict[str, Any]] = []
    speakers: dict[str, dict[str, Any]] = {}
    conversations: dict[str, dict[str, Any]] = {}
    for coded, transcript in zip(sessions, transcripts, strict=True):
        records = utterance_records(transcript)
        if len(records) != len(coded.utterances):
            raise TranscriptError(f"{transcript.source}: the coded session does not match its "
                                  f"transcript")
        conv = records[0]["conversation_id"]
        for record, cu in zip(records, coded.utterances, strict=True):
            speaker = f"{conv}{_SEP}{record['speaker']}"
            speakers.setdefault(speaker, {"meta": {"name": record["speaker"],
                                                   "role": cu.utterance.role,
                                                   "conversation": conv}, "vectors": []})
            meta = {**record["meta"], "codes": _codes(cu)}
            utt_meta.append(meta)
            lines.append(json.dumps({"id": record["id"], "conversation_id": conv,
                                     "text": record["text"], "speaker": speaker,
                                     "meta": meta, "reply-to": record["reply_to"],
                                     "timestamp": record["timestamp"], "vectors": []},
                                    ensure_ascii=False))
        conv_meta: dict[str, Any] = {"source": transcript.source, "format": transcript.format,
                                     **{k: v for k, v in transcript.meta.items()
                                        if k != "conversation_id"},
                                     "mode": coded.mode, "model": coded.model,
                                     "heads_version": coded.heads_version}
        if episodes:
            conv_meta["episodes"] = [e.to_dict() for e in find_episodes(coded.utterances)]
        conversations[conv] = {"meta": conv_meta, "vectors": []}
    corpus = {"name": name, "generator": "alliance", "sessions": len(sessions)}
    index = {"utterances-index": _type_index(utt_meta),
             "speakers-index": _type_index([s["meta"] for s in speakers.values()]),
             "conversations-index": _type_index([c["meta"] for c in conversations.values()]),
             "overall-index": _type_index([corpus]), "version": 1, "vectors": []}
    target = Path(directory)
    try:
        target.mkdir(parents=True, exist_ok=True)
        (target / UTTERANCES).write_text("".join(line + "\n" for line in lines),
                                         encoding="utf-8")
        for fname, payload in (("speakers.json", speakers),
                               ("conversations.json", conversations),
                               ("corpus.json", corpus), ("index.json", index)):
            (target / fname).write_text(json.dumps(payload, ensure_ascii=False),
                                        encoding="utf-8")
    except OSError as exc:
        raise TranscriptError(f"{target}: cannot write the corpus ({exc.strerror or exc})",
                              path=str(target)) from None
    return target


def _json_file(path: Path, required: bool) -> Any:
    if not path.is_file():
        if required:
            raise TranscriptError(f"{path}: missing; a ConvoKit corpus directory has "
                                  f"{', '.join(FILES)}", path=str(path))
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise TranscriptError(f"{path}: is not UTF-8 text", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})",
                              path=str(path)) from None


def _assignments(raw: Any, where: str) -> tuple[CodeAssignment, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise TranscriptError(f"{where}: meta.codes must be a list")
    out = []
    for c in raw:
        try:
            out.append(CodeAssignment(str(c["code"]), float(c["confidence"]),
                                      str(c.get("evidence", "")), int(c.get("start", 0)),
                                      int(c.get("end", 0)), str(c.get("source", "rule"))))
        except (KeyError, TypeError, ValueError):
            raise TranscriptError(f"{where}: a code needs 'code' and a numeric "
                                  f"'confidence'") from None
    return tuple(out)


def _episodes(raw: Any, where: str) -> tuple[Episode, ...]:
    out = []
    for e in raw or []:
        try:
            out.append(Episode(
                int(e["marker_index"]), str(e["marker_code"]), str(e["speaker"]),
                tuple(Link(int(r["index"]), str(r["code"])) for r in e.get("repair", [])),
                tuple(Link(int(t["index"]), str(t["code"])) for t in e.get("threats", [])),
                str(e["resolution"]), int(e["window_end"])))
        except (KeyError, TypeError, ValueError):
            raise TranscriptError(f"{where}: an episode is malformed (needs marker_index, "
                                  f"marker_code, speaker, resolution, window_end)") from None
    return tuple(out)


def import_corpus(directory: str | Path) -> list[CorpusSession]:
    """Read a ConvoKit corpus directory back into coded sessions with their episodes.

    Conversations come in the order of their first utterance. Sessions without stored
    episodes get them from :func:`~alliance.coding.episodes.find_episodes`.
    """
    root = Path(directory)
    if not root.is_dir():
        raise TranscriptError(f"{root}: not a ConvoKit corpus directory", path=str(root))
    utt_path = root / UTTERANCES
    if not utt_path.is_file():
        raise TranscriptError(f"{root}: no {UTTERANCES}", path=str(root))
    conversations = _json_file(root / "conversations.json", required=False)
    speakers = _json_file(root / "speakers.json", required=False)
    if not isinstance(conversations, dict) or not isinstance(speakers, dict):
        raise TranscriptError(f"{root}: conversations.json and speakers.json must be objects")
    try:
        text = utt_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TranscriptError(f"{utt_path}: is not UTF-8 text", path=str(utt_path)) from None
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for number, obj in _objects(text, str(utt_path)):
        conv = str(obj.get("conversation_id", obj.get("root", "")))
        groups.setdefault(conv, []).append((number, obj))
    if not groups:
        raise TranscriptError(f"{utt_path}: contains no utterances", path=str(utt_path))
    sessions = []
    for conv, items in groups.items():
        source = f"{root}#{conv}"
        records = []
        for _, obj in items:
            speaker = obj.get("speaker")
            info = speakers.get(speaker, {}) if isinstance(speaker, str) else {}
            name = (info.get("meta") or {}).get("name") if isinstance(info, dict) else None
            if name is None and isinstance(speaker, str) and speaker.startswith(conv + _SEP):
                name = speaker[len(conv) + 1:]
            records.append({**obj, "speaker": name if name is not None else speaker})
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        transcript = parse_transcript(body, source, input_format="convokit", merge=False)
        kept = [(n, o) for (n, o) in items if str(o.get("text", "")).strip()]
        meta_all = conversations.get(conv, {})
        meta = meta_all.get("meta", meta_all) if isinstance(meta_all, dict) else {}
        transcript = replace(transcript, meta={
            **{k: str(v) for k, v in meta.items()
               if isinstance(v, str) and k not in ("mode", "model", "heads_version",
                                                   "source", "format")},
            "conversation_id": conv})
        coded_utts = tuple(
            CodedUtterance(u, _assignments((o.get("meta") or {}).get("codes"),
                                           f"{utt_path}: line {n}"))
            for u, (n, o) in zip(transcript.utterances, kept, strict=True))
        coded = CodedTranscript(transcript, coded_utts, str(meta.get("mode", "imported")),
                                meta.get("model"), meta.get("heads_version"))
        found = _episodes(meta["episodes"], source) if "episodes" in meta \
            else tuple(find_episodes(coded_utts))
        sessions.append(CorpusSession(coded, found, conv))
    return sessions


def codes_frame(sessions: Sequence[CorpusSession | CodedTranscript]) -> pd.DataFrame:
    """One row per assigned code: ``session, index, speaker, role, code, family,
    confidence, source, evidence`` (a tidy table for notebooks; uncoded turns are absent)."""
    rows: list[dict[str, Any]] = []
    for k, s in enumerate(sessions):
        coded = s.coded if isinstance(s, CorpusSession) else s
        name = s.conversation_id if isinstance(s, CorpusSession) else \
            coded.transcript.meta.get("conversation_id", coded.transcript.source or str(k))
        for cu in coded.utterances:
            u = cu.utterance
            rows.extend({"session": name, "index": u.index, "speaker": u.speaker,
                         "role": u.role, "code": c.code, "family": c.family,
                         "confidence": c.confidence, "source": c.source,
                         "evidence": c.evidence} for c in cu.codes)
    return pd.DataFrame(rows, columns=["session", "index", "speaker", "role", "code",
                                       "family", "confidence", "source", "evidence"])


def episodes_frame(sessions: Sequence[CorpusSession]) -> pd.DataFrame:
    """One row per rupture-repair episode: ``session, marker_index, marker_code, speaker,
    resolution, repair_moves, threats, window_end``."""
    rows = [{"session": s.conversation_id, "marker_index": e.marker_index,
             "marker_code": e.marker_code, "speaker": e.speaker, "resolution": e.resolution,
             "repair_moves": len(e.repair), "threats": len(e.threats),
             "window_end": e.window_end}
            for s in sessions for e in s.episodes]
    return pd.DataFrame(rows, columns=["session", "marker_index", "marker_code", "speaker",
                                       "resolution", "repair_moves", "threats", "window_end"])
