"""Practice cases: YAML files checked against ``case.schema.json`` and the codebook.

A case is a client whose alliance is under strain, played stage by stage. Each stage has a
client statement, cue annotations (engagement / strain / safety), one to three four-option
exam items with a keyed answer and a rationale for every option, and a better response
written for that stage. The case also carries the client's starting rupture state and the
scripted lines the simulated client answers with.

Errors name the file and the field::

    TrainingError: bad.yaml: stages[0].items[0].key: 'E' is not one of ['A', 'B', 'C', 'D']

>>> book = load_casebook()
>>> book["quiet-homework"].start.marker
'withdrawal.minimal_response'
>>> len(book) >= 16
True
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from alliance.errors import TrainingError
from alliance.yamltext import load_yaml

LEVEL_MIN, LEVEL_MAX = 1, 5
COMPETENCIES = ("noticing", "repair", "assessment", "intervention", "frame")
KEYS = ("A", "B", "C", "D")
ITEMS_PER_CASE = (3, 6)  # the issue asks for 3-6 four-option items per case
LINE_MODES = ("withdrawal", "confrontation", "safety", "opening", "engaged")


@dataclass(frozen=True)
class Option:
    key: str
    text: str
    rationale: str


@dataclass(frozen=True)
class ExamItem:
    id: str
    competency: str
    stem: str
    options: tuple[Option, ...]
    key: str

    def option(self, key: str) -> Option:
        for o in self.options:
            if o.key == key:
                return o
        raise TrainingError(f"item {self.id}: no option {key!r}; choose one of "
                            f"{', '.join(KEYS)}", item=self.id, value=key)


@dataclass(frozen=True)
class Cue:
    kind: str  # engagement | strain | safety
    cue: str


@dataclass(frozen=True)
class Stage:
    number: int  # 1-based
    title: str
    narrative: str
    client: str
    cues: tuple[Cue, ...]
    items: tuple[ExamItem, ...]
    alternative: str


@dataclass(frozen=True)
class StartState:
    bond: int
    goal: int
    task: int
    marker: str | None


@dataclass(frozen=True)
class TrainingCase:
    """One practice case (see the module docstring)."""

    id: str
    title: str
    situations: tuple[str, ...]
    setting: str
    summary: str
    client_name: str
    client_description: str
    withdrawal_marker: str
    confrontation_marker: str
    start: StartState
    lines: Mapping[str, tuple[str, ...]]
    stages: tuple[Stage, ...]
    source: str = "<memory>"

    @property
    def items(self) -> list[ExamItem]:
        return [i for s in self.stages for i in s.items]

    def stage(self, number: int) -> Stage:
        if not 1 <= number <= len(self.stages):
            raise TrainingError(f"case {self.id} has stages 1-{len(self.stages)}, not {number}",
                                case=self.id, stage=number)
        return self.stages[number - 1]


@lru_cache(maxsize=1)
def case_schema() -> dict[str, Any]:
    """The JSON Schema every case file must satisfy."""
    text = resources.files("alliance.training").joinpath("case.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _path(parts: Sequence[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _schema_check(data: Any, origin: str) -> None:
    validator = jsonschema.Draft202012Validator(case_schema())
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    err = min(errors, key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    where = _path(list(err.absolute_path))
    if err.validator == "additionalProperties":
        unknown = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        detail = f"unknown field {unknown[0]!r}" if len(unknown) == 1 else err.message
    elif err.validator == "required":
        detail = err.message.replace("is a required property", "is required")
    else:
        detail = err.message
    raise TrainingError(f"{origin}: {where}: {detail}", path=where, file=origin)


def _semantic_check(data: dict[str, Any], origin: str) -> None:
    from alliance.coding.codebook import load_codebook

    codes = set(load_codebook().names)

    def fail(where: str, detail: str) -> None:
        raise TrainingError(f"{origin}: {where}: {detail}", path=where, file=origin)

    for field in ("withdrawal", "confrontation"):
        if data["markers"][field] not in codes:
            fail(f"markers.{field}", f"{data['markers'][field]!r} is not a codebook marker")
    marker = data["start"]["marker"]
    if marker is not None and marker not in codes:
        fail("start.marker", f"{marker!r} is not a codebook marker")
    if marker is not None and marker.startswith("safety.") and "safety" not in data["lines"]:
        fail("lines", "a case that starts on a safety marker needs 'safety' lines")
    n_items = sum(len(s["items"]) for s in data["stages"])
    lo, hi = ITEMS_PER_CASE
    if not lo <= n_items <= hi:
        fail("stages", f"a case has {lo}-{hi} exam items in all, this one has {n_items}")
    seen: set[str] = set()
    for si, stage in enumerate(data["stages"]):
        for ii, item in enumerate(stage["items"]):
            if item["id"] in seen:
                fail(f"stages[{si}].items[{ii}].id", f"duplicate item id {item['id']!r}")
            seen.add(item["id"])
            texts = [o["text"] for o in item["options"]]
            if len(set(texts)) != len(texts):
                fail(f"stages[{si}].items[{ii}].options", "two options have the same text")


def parse_case(data: Any, origin: str = "<case>") -> TrainingCase:
    """Validate a parsed case document and build a :class:`TrainingCase`."""
    _schema_check(data, origin)
    _semantic_check(data, origin)
    stages = []
    for n, s in enumerate(data["stages"], start=1):
        items = tuple(
            ExamItem(i["id"], i["competency"], i["stem"].strip(),
                     tuple(Option(KEYS[k], o["text"].strip(), o["rationale"].strip())
                           for k, o in enumerate(i["options"])), i["key"])
            for i in s["items"])
        stages.append(Stage(n, s["title"], s["narrative"].strip(), s["client"].strip(),
                            tuple(Cue(c["kind"], c["cue"]) for c in s["cues"]), items,
                            " ".join(s["alternative"].split())))
    st = data["start"]
    return TrainingCase(
        id=data["id"], title=data["title"], situations=tuple(data["situations"]),
        setting=data["setting"], summary=" ".join(data["summary"].split()),
        client_name=data["client"]["name"], client_description=data["client"]["description"],
        withdrawal_marker=data["markers"]["withdrawal"],
        confrontation_marker=data["markers"]["confrontation"],
        start=StartState(st["bond"], st["goal"], st["task"], st["marker"]),
        lines={k: tuple(v) for k, v in data["lines"].items()},
        stages=tuple(stages), source=origin)


def load_case_file(path: str | Path) -> TrainingCase:
    """Read and validate one case file; problems raise :class:`TrainingError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainingError(f"{p}: cannot read case file ({exc.__class__.__name__})",
                            file=str(p)) from None
    data = load_yaml(text, p.name, TrainingError)
    case = parse_case(data, p.name)
    if p.suffix in (".yaml", ".yml") and case.id != p.stem:
        raise TrainingError(f"{p.name}: id: {case.id!r} does not match the file name",
                            path="id", file=p.name)
    return case


class Casebook(Mapping[str, TrainingCase]):
    """Cases by id, in id order."""

    def __init__(self, cases: Sequence[TrainingCase]) -> None:
        self._cases: dict[str, TrainingCase] = {}
        for c in sorted(cases, key=lambda c: c.id):
            if c.id in self._cases:
                raise TrainingError(f"{c.source}: id: case {c.id!r} is defined twice")
            self._cases[c.id] = c

    def __getitem__(self, key: str) -> TrainingCase:
        try:
            return self._cases[key]
        except KeyError:
            raise TrainingError(f"unknown case {key!r}; `alliance practice list` shows the "
                                f"cases", case=key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._cases)

    def __len__(self) -> int:
        return len(self._cases)


def builtin_case_dir() -> Path:
    return Path(str(resources.files("alliance.training").joinpath("cases")))


@lru_cache(maxsize=4)
def _load_dir(directory: str) -> Casebook:
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        raise TrainingError(f"{directory}: no case files (*.yaml)")
    return Casebook([load_case_file(f) for f in files])


def load_casebook(directory: str | Path | None = None) -> Casebook:
    """The packaged cases, or every ``*.yaml`` case file of ``directory``."""
    return _load_dir(str(directory or builtin_case_dir()))
