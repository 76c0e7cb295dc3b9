"""The labelled corpus under ``data/coding/``: loading and validating it.

Two kinds of file (formats in ``docs/coding.md``):

* ``sessions/<id>.json``: a whole session, every utterance labelled, with episode
  annotations; its ``split`` holds for all its utterances;
* ``snippets/<topic>.jsonl``: one labelled utterance per line with its preceding context;
  the split is fixed per ``group``.

Both become :class:`Conversation` objects: ordered turns, of which some are labelled. The
validator collects every problem (file and line) before raising one
:class:`~alliance.errors.CodingError`, so a corpus writer sees them all at once.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alliance.coding.codebook import (
    FAMILY_ROLE,
    MARKER_FAMILIES,
    Codebook,
    family_of,
    load_codebook,
)
from alliance.errors import CodingError

SPLITS = ("train", "dev", "test")
MODALITIES = ("individual", "couple", "family", "group")
RESOLUTIONS = ("resolved", "partial", "unresolved")
_ROLES = ("therapist", "client", "other")
MAX_PROBLEMS_SHOWN = 25


@dataclass(frozen=True)
class Turn:
    speaker: str
    role: str
    text: str


@dataclass(frozen=True)
class AnnotatedEpisode:
    marker_index: int
    marker_code: str
    repair_indices: tuple[int, ...]
    threat_indices: tuple[int, ...]
    resolution: str


@dataclass(frozen=True)
class Conversation:
    """Turns in order; ``labels`` maps the index of each labelled turn to its gold codes."""

    id: str
    kind: str  # "session" | "snippet"
    split: str
    source: str
    turns: tuple[Turn, ...]
    labels: dict[int, tuple[str, ...]]
    group: str = ""
    modality: str = ""
    episodes: tuple[AnnotatedEpisode, ...] = ()
    note: str = ""


@dataclass
class Corpus:
    conversations: list[Conversation]
    root: Path
    data_hash: str
    files: int = 0
    problems: list[str] = field(default_factory=list)

    def split(self, name: str) -> list[Conversation]:
        return [c for c in self.conversations if c.split == name]

    @property
    def sessions(self) -> list[Conversation]:
        return [c for c in self.conversations if c.kind == "session"]

    def labelled_count(self, split: str | None = None) -> int:
        return sum(len(c.labels) for c in self.conversations if split in (None, c.split))

    def code_counts(self, split: str | None = None) -> Counter[str]:
        counts: Counter[str] = Counter()
        for c in self.conversations:
            if split in (None, c.split):
                for codes in c.labels.values():
                    counts.update(codes)
        return counts


def default_corpus_dir() -> Path:
    """``data/coding`` of the source checkout (the corpus is not shipped in the wheel)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "data" / "coding"
        if candidate.is_dir():
            return candidate
    return Path.cwd() / "data" / "coding"


def corpus_hash(paths: Iterable[Path], root: Path) -> str:
    """sha256 over the relative path and bytes of every corpus file, in sorted order."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


class _Checker:
    def __init__(self, book: Codebook) -> None:
        self.book = book
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def codes(self, where: str, role: str, codes: Any) -> tuple[str, ...]:
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            self.add(where, "codes must be a list of code names")
            return ()
        good: list[str] = []
        for c in codes:
            if c not in self.book:
                self.add(where, f"unknown code {c!r}")
            elif FAMILY_ROLE[family_of(c)] != role:
                self.add(where, f"{c} is a {FAMILY_ROLE[family_of(c)]} code on a {role} turn")
            elif c not in good:
                good.append(c)
        return tuple(good)

    def text(self, where: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            self.add(where, "text must be a non-empty string")
            return ""
        return value

    def role(self, where: str, value: Any) -> str:
        if value not in _ROLES:
            self.add(where, f"role must be one of {', '.join(_ROLES)}, not {value!r}")
            return "other"
        return str(value)


def _load_session(path: Path, chk: _Checker) -> Conversation | None:
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        chk.add(where, f"not readable JSON: {exc}")
        return None
    if not isinstance(data, dict):
        chk.add(where, "a session file must hold a JSON object")
        return None
    sid = data.get("id")
    if not isinstance(sid, str) or not sid:
        chk.add(where, "missing id")
        sid = path.stem
    split = data.get("split")
    if split not in SPLITS:
        chk.add(where, f"split must be one of {SPLITS}, not {split!r}")
    modality = data.get("modality")
    if modality not in MODALITIES:
        chk.add(where, f"modality must be one of {MODALITIES}, not {modality!r}")
    raw = data.get("utterances")
    if not isinstance(raw, list) or not raw:
        chk.add(where, "utterances must be a non-empty list")
        return None
    turns: list[Turn] = []
    labels: dict[int, tuple[str, ...]] = {}
    for i, u in enumerate(raw):
        w = f"{where}: utterance {i}"
        if not isinstance(u, dict):
            chk.add(w, "must be an object")
            turns.append(Turn("?", "other", ""))
            continue
        role = chk.role(w, u.get("role"))
        speaker = u.get("speaker")
        if not isinstance(speaker, str) or not speaker:
            chk.add(w, "speaker must be a non-empty string")
            speaker = "?"
        turns.append(Turn(speaker, role, chk.text(w, u.get("text"))))
        labels[i] = chk.codes(w, role, u.get("codes", []))
    episodes: list[AnnotatedEpisode] = []
    for k, e in enumerate(data.get("episodes") or []):
        w = f"{where}: episode {k}"
        if not isinstance(e, dict):
            chk.add(w, "must be an object")
            continue
        mi = e.get("marker_index")
        code = e.get("marker_code")
        if not isinstance(mi, int) or not 0 <= mi < len(turns):
            chk.add(w, f"marker_index {mi!r} is out of range")
            continue
        if code not in labels.get(mi, ()) or family_of(str(code)) not in MARKER_FAMILIES:
            chk.add(w, f"marker_code {code!r} is not a marker code of utterance {mi}")
        reps = e.get("repair_indices") or []
        threats = e.get("threat_indices") or []
        for name, idx, fam in (("repair_indices", reps, "repair"),
                               ("threat_indices", threats, "threat")):
            if not isinstance(idx, list) or not all(isinstance(x, int) for x in idx):
                chk.add(w, f"{name} must be a list of utterance indices")
                continue
            for x in idx:
                if not 0 <= x < len(turns) or x <= mi:
                    chk.add(w, f"{name}: {x} is not after the marker")
                elif not any(family_of(c) == fam for c in labels.get(x, ())):
                    chk.add(w, f"{name}: utterance {x} has no {fam} code")
        res = e.get("resolution")
        if res not in RESOLUTIONS:
            chk.add(w, f"resolution must be one of {RESOLUTIONS}, not {res!r}")
        episodes.append(AnnotatedEpisode(
            mi, str(code), tuple(x for x in reps if isinstance(x, int)),
            tuple(x for x in threats if isinstance(x, int)), str(res)))
    return Conversation(sid, "session", str(split), where, tuple(turns), labels,
                        group=sid, modality=str(modality or ""), episodes=tuple(episodes),
                        note=str(data.get("description", "")))


_CONTEXT_SPEAKER = {"therapist": "T", "client": "C", "other": "O"}


def _load_snippets(path: Path, chk: _Checker, group_split: dict[str, tuple[str, str]]
                   ) -> list[Conversation]:
    out: list[Conversation] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        chk.add(str(path), f"not readable: {exc}")
        return out
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            d = json.loads(line)
        except json.JSONDecodeError as exc:
            chk.add(where, f"not JSON: {exc.msg}")
            continue
        if not isinstance(d, dict):
            chk.add(where, "each line must be a JSON object")
            continue
        sid = d.get("id")
        if not isinstance(sid, str) or not sid:
            chk.add(where, "missing id")
            sid = f"{path.stem}:{n}"
        group = d.get("group")
        if not isinstance(group, str) or not group:
            chk.add(where, "missing group")
            group = sid
        split = d.get("split")
        if split not in SPLITS:
            chk.add(where, f"split must be one of {SPLITS}, not {split!r}")
        previous = group_split.setdefault(group, (str(split), where))
        if previous[0] != split:
            chk.add(where, f"group {group!r} is in split {split!r} here but "
                           f"{previous[0]!r} at {previous[1]}")
        turns: list[Turn] = []
        ctx = d.get("context", [])
        if not isinstance(ctx, list):
            chk.add(where, "context must be a list of {role, text}")
            ctx = []
        for k, c in enumerate(ctx):
            if not isinstance(c, dict):
                chk.add(where, f"context[{k}] must be an object")
                continue
            role = chk.role(f"{where}: context[{k}]", c.get("role"))
            speaker = c.get("speaker") or _CONTEXT_SPEAKER[role]
            turns.append(Turn(str(speaker), role, chk.text(f"{where}: context[{k}]",
                                                         c.get("text"))))
        role = chk.role(where, d.get("role"))
        turns.append(Turn(str(d.get("speaker") or _CONTEXT_SPEAKER[role]), role,
                          chk.text(where, d.get("text"))))
        codes = chk.codes(where, role, d.get("codes", []))
        out.append(Conversation(sid, "snippet", str(split), where, tuple(turns),
                                {len(turns) - 1: codes}, group=group,
                                note=str(d.get("note", ""))))
    return out


def load_corpus(root: str | Path | None = None, *, strict: bool = True) -> Corpus:
    """Load and validate the corpus at ``root`` (default: the checkout's ``data/coding``).

    With ``strict`` (the default) any problem raises :class:`CodingError` listing them;
    otherwise problems are kept in ``Corpus.problems`` and bad records are skipped.
    """
    base = Path(root) if root is not None else default_corpus_dir()
    if not base.is_dir():
        raise CodingError(f"{base}: corpus directory not found")
    chk = _Checker(load_codebook())
    session_files = sorted((base / "sessions").glob("*.json"))
    snippet_files = sorted((base / "snippets").glob("*.jsonl"))
    if not session_files and not snippet_files:
        raise CodingError(f"{base}: no sessions/*.json or snippets/*.jsonl files")
    conversations: list[Conversation] = []
    ids: dict[str, str] = {}
    for p in session_files:
        conv = _load_session(p, chk)
        if conv is not None:
            conversations.append(conv)
    group_split: dict[str, tuple[str, str]] = {}
    for p in snippet_files:
        conversations.extend(_load_snippets(p, chk, group_split))
    for conv in conversations:
        if conv.id in ids:
            chk.add(conv.source, f"id {conv.id!r} repeats {ids[conv.id]}")
        ids[conv.id] = conv.source
    if strict and chk.problems:
        shown = chk.problems[:MAX_PROBLEMS_SHOWN]
        more = len(chk.problems) - len(shown)
        raise CodingError("the labelled corpus has problems:\n  " + "\n  ".join(shown)
                          + (f"\n  ... and {more} more" if more else ""),
                          problems=chk.problems)
    valid = [c for c in conversations if c.split in SPLITS]
    return Corpus(valid, base, corpus_hash([*session_files, *snippet_files], base),
                  files=len(session_files) + len(snippet_files), problems=chk.problems)
