"""The codebook: families and codes of the transcript coder, loaded from ``codebook.yaml``.

The codebook is data (definitions, inclusion and exclusion notes, examples written by this
project); this module loads and validates it. Client families (withdrawal, confrontation,
safety) apply to client utterances, therapist families (bond, repair, threat, collaboration)
to therapist utterances. Version 2 added the ``bond`` family (reflection, affirmation),
``threat.unsolicited_advice`` and ``collaboration.elicit``; see docs/coding.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from alliance.errors import CodingError

SCHEMA = "alliance.codebook/1"
#: Family order used everywhere (reports, tables, summaries).
FAMILIES: tuple[str, ...] = (
    "withdrawal", "confrontation", "safety", "bond", "repair", "threat", "collaboration",
)
#: Client families whose codes open a rupture-repair episode.
MARKER_FAMILIES: tuple[str, ...] = ("withdrawal", "confrontation", "safety")
FAMILY_ROLE: dict[str, str] = {
    "withdrawal": "client", "confrontation": "client", "safety": "client",
    "bond": "therapist", "repair": "therapist", "threat": "therapist",
    "collaboration": "therapist",
}


@dataclass(frozen=True)
class Family:
    name: str
    role: str
    label: str
    description: str


@dataclass(frozen=True)
class Code:
    """One code, named ``family.code``."""

    name: str
    label: str
    definition: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    examples: tuple[str, ...]

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def role(self) -> str:
        return FAMILY_ROLE[self.family]


@dataclass(frozen=True)
class Codebook:
    version: int
    families: dict[str, Family]
    codes: dict[str, Code]

    @property
    def names(self) -> tuple[str, ...]:
        """All code names in codebook order."""
        return tuple(self.codes)

    def codes_for_role(self, role: str) -> tuple[str, ...]:
        return tuple(n for n, c in self.codes.items() if c.role == role)

    def in_family(self, family: str) -> tuple[str, ...]:
        return tuple(n for n, c in self.codes.items() if c.family == family)

    def __contains__(self, name: object) -> bool:
        return name in self.codes


def family_of(code: str) -> str:
    """``'repair.clarify'`` -> ``'repair'``."""
    return code.split(".", 1)[0]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CodingError(f"codebook: {where} must be a list of non-empty strings")
    return tuple(value)


def parse_codebook(data: Any, source: str = "codebook") -> Codebook:
    """Validate a parsed codebook document and build a :class:`Codebook`."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise CodingError(f"{source}: not a codebook (expected schema: {SCHEMA})")
    fams_raw = data.get("families")
    codes_raw = data.get("codes")
    if not isinstance(fams_raw, dict) or not isinstance(codes_raw, dict):
        raise CodingError(f"{source}: needs 'families' and 'codes' mappings")
    families: dict[str, Family] = {}
    for name in FAMILIES:
        f = fams_raw.get(name)
        if not isinstance(f, dict):
            raise CodingError(f"{source}: family {name!r} is missing")
        if f.get("role") != FAMILY_ROLE[name]:
            raise CodingError(f"{source}: family {name!r} must have role {FAMILY_ROLE[name]}")
        families[name] = Family(name, f["role"], str(f.get("label", name)),
                                str(f.get("description", "")).strip())
    unknown = set(fams_raw) - set(FAMILIES)
    if unknown:
        raise CodingError(f"{source}: unknown families {sorted(unknown)}")
    codes: dict[str, Code] = {}
    for name, c in codes_raw.items():
        fam, _, short = str(name).partition(".")
        if fam not in families or not short:
            raise CodingError(f"{source}: code {name!r} is not named family.code")
        if not isinstance(c, dict):
            raise CodingError(f"{source}: code {name!r} must be a mapping")
        definition = c.get("definition")
        if not isinstance(definition, str) or not definition.strip():
            raise CodingError(f"{source}: code {name!r} has no definition")
        examples = _strings(c.get("examples"), f"{name}.examples")
        if len(examples) < 2:
            raise CodingError(f"{source}: code {name!r} needs at least 2 examples")
        codes[name] = Code(
            name=name, label=str(c.get("label", short)), definition=definition.strip(),
            include=_strings(c.get("include", []), f"{name}.include") if c.get("include")
            else (),
            exclude=_strings(c.get("exclude", []), f"{name}.exclude") if c.get("exclude")
            else (),
            examples=examples,
        )
    for fam in FAMILIES:
        if not any(c.family == fam for c in codes.values()):
            raise CodingError(f"{source}: family {fam!r} has no codes")
    return Codebook(int(data.get("version", 1)), families, codes)


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Load the packaged codebook, or the one at ``path``."""
    if path is None:
        return _packaged()
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CodingError(f"{p}: cannot read codebook: {exc}") from None
    return parse_codebook(data, str(p))


@lru_cache(maxsize=1)
def _packaged() -> Codebook:
    text = resources.files("alliance.coding").joinpath("codebook.yaml").read_text("utf-8")
    return parse_codebook(yaml.safe_load(text), "codebook.yaml")
