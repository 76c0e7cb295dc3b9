"""ConvoKit corpus files, read and written without importing convokit.

``utterances.jsonl`` holds one JSON object per line with the fields ``id``, ``speaker``,
``conversation_id``, ``reply_to``, ``timestamp``, ``text`` and ``meta``. A directory corpus
adds ``speakers.json`` (speaker id -> meta), ``conversations.json`` (conversation id ->
meta), ``corpus.json`` (corpus meta) and ``index.json`` (the meta field types).

We write the role, start and end of each utterance into its ``meta``
(``{"role": "client", "start": 12.5, "end": 15.0}``) and ``timestamp`` = start seconds,
so a transcript survives the round trip. On reading, ``meta.role`` is used as the role and
``meta.start``/``meta.end`` (else ``timestamp``) as the times. One file is one session: a
file holding several conversations is refused.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from alliance.transcripts.model import Transcript
from alliance.transcripts.segments import Segment, fail
from alliance.transcripts.timecodes import check_span, parse_seconds

UTTERANCES = "utterances.jsonl"


def _objects(text: str, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise fail(source, f"is not valid JSON Lines ({exc.msg})", number) from None
        except (RecursionError, ValueError) as exc:
            raise fail(source, f"is not usable JSON ({type(exc).__name__})", number) from None
        if not isinstance(obj, dict):
            raise fail(source, "each line must be a JSON object (one utterance)", number)
        yield number, obj


def parse_convokit(text: str, source: str) -> tuple[list[Segment], dict[str, str]]:
    """Segments of a ConvoKit ``utterances.jsonl`` file, in file order."""
    segments: list[Segment] = []
    conversations: list[str] = []
    for number, obj in _objects(text, source):
        speaker = obj.get("speaker")
        if isinstance(speaker, dict):  # some older dumps nest the speaker object
            speaker = speaker.get("id", speaker.get("name"))
        if not isinstance(speaker, str | int) or isinstance(speaker, bool) \
                or not str(speaker).strip():
            raise fail(source, "utterance has no 'speaker'", number)
        body = obj.get("text")
        if not isinstance(body, str):
            raise fail(source, "utterance has no 'text' string", number)
        conv = obj.get("conversation_id", obj.get("root"))
        if conv is not None and str(conv) not in conversations:
            conversations.append(str(conv))
        raw_meta = obj.get("meta")
        meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
        start = parse_seconds(meta.get("start", obj.get("timestamp")), source, number, "start")
        end = parse_seconds(meta.get("end"), source, number, "end")
        check_span(start, end, source, number)
        role = meta.get("role")
        segments.append(Segment(str(speaker).strip(), " ".join(body.split()), start, end,
                                number, role if isinstance(role, str) and role else None))
    if not segments:
        raise fail(source, "contains no utterances")
    if len(conversations) > 1:
        shown = ", ".join(repr(c) for c in conversations[:5])
        raise fail(source, f"holds {len(conversations)} conversations ({shown}); one file "
                   "must be one session: split it by conversation_id")
    meta_out = {"conversation_id": conversations[0]} if conversations else {}
    return segments, meta_out


def _conversation_id(transcript: Transcript) -> str:
    """The conversation id: kept from a ConvoKit source, else ``<file stem>-0000``.

    ConvoKit names a conversation after its first utterance, so utterance ids are
    ``<stem>-0000``, ``<stem>-0001``... and the conversation id equals the first of them.
    """
    given = transcript.meta.get("conversation_id")
    if given:
        return given
    stem = Path(transcript.source).stem if transcript.source != "<memory>" else "session"
    return (re.sub(r"[^\w.-]+", "_", stem) or "session") + "-0000"


def utterance_records(transcript: Transcript) -> list[dict[str, Any]]:
    """The ``utterances.jsonl`` objects for a transcript (reply_to = previous turn)."""
    conv = _conversation_id(transcript)
    stem = conv.removesuffix("-0000")
    records: list[dict[str, Any]] = []
    previous: str | None = None
    for u in transcript.utterances:
        uid = f"{stem}-{u.index:04d}"
        meta: dict[str, Any] = {"role": u.role, "index": u.index}
        if u.start is not None:
            meta["start"] = u.start
        if u.end is not None:
            meta["end"] = u.end
        records.append({"id": uid, "speaker": u.speaker, "conversation_id": conv,
                        "reply_to": previous, "timestamp": u.start, "text": u.text,
                        "meta": meta})
        previous = uid
    return records


def _type_names(values: list[dict[str, Any]]) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for meta in values:
        for key, value in meta.items():
            name = f"<class '{type(value).__name__}'>"
            if name not in index.setdefault(key, []):
                index[key].append(name)
    return index


def write_convokit(transcript: Transcript, target: str | os.PathLike[str] | IO[str]) -> None:
    """Write ``transcript`` as ConvoKit files.

    ``target`` is a directory (created if needed; all five corpus files are written) or an
    open text stream (only the ``utterances.jsonl`` lines are written).
    """
    records = utterance_records(transcript)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if not isinstance(target, str | os.PathLike):
        target.write(lines)
        return
    directory = Path(target)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / UTTERANCES).write_text(lines, encoding="utf-8")
        speakers = {s: {"role": r} for s, r in transcript.speakers.items()}
        conv_id = _conversation_id(transcript)
        conversations = {conv_id: {"source": transcript.source, "format": transcript.format,
                                   **transcript.meta}}
        corpus = {"name": conv_id.removesuffix("-0000"), "generator": "alliance"}
        index = {
            "utterances-index": _type_names([r["meta"] for r in records]),
            "speakers-index": _type_names(list(speakers.values())),
            "conversations-index": _type_names(list(conversations.values())),
            "overall-index": _type_names([corpus]),
            "version": 1,
            "vectors": [],
        }
        for name, payload in (("speakers.json", speakers), ("conversations.json", conversations),
                              ("corpus.json", corpus), ("index.json", index)):
            (directory / name).write_text(json.dumps(payload, ensure_ascii=False, indent=1),
                                          encoding="utf-8")
    except OSError as exc:
        from alliance.errors import TranscriptError

        raise TranscriptError(f"{directory}: cannot write the ConvoKit corpus ({exc.strerror})",
                              path=str(directory)) from None
