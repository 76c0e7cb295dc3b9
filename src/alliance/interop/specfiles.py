"""Instrument spec files on disk: the deployer's folder of licensed or local instruments.

Specs added with ``alliance instruments add`` are written to the deployer folder, which is
``$ALLIANCE_INSTRUMENTS_DIR`` when set, else ``~/.local/share/alliance/instruments``. It lives
outside the source tree on purpose: licensed wording must never be committed.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from alliance.errors import InstrumentError
from alliance.instruments.catalog import (
    Catalog,
    builtin_catalog,
    merge_wording,
    parse_yaml_spec,
    spec_to_mapping,
)
from alliance.instruments.spec import Instrument
from alliance.yamltext import load_yaml


def deployer_dir() -> Path:
    """Where added instruments are kept."""
    env = os.environ.get("ALLIANCE_INSTRUMENTS_DIR")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "alliance" / "instruments"


def _read_text(path: str | Path) -> str:
    p = Path(path)
    if not p.exists():
        raise InstrumentError(f"{p}: no such file")
    if p.is_dir():
        raise InstrumentError(f"{p}: is a directory, not a YAML file")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InstrumentError(f"{p}: is not UTF-8 text") from None
    except OSError as exc:
        raise InstrumentError(f"{p}: cannot read ({exc.strerror or exc})") from None


def load_spec_file(path: str | Path) -> Instrument:
    """Parse and validate one spec file."""
    return parse_yaml_spec(_read_text(path), str(path))


def load_catalog(directory: str | Path | None = None) -> Catalog:
    """The bundled specs overlaid with every ``*.yaml`` spec in the deployer folder."""
    folder = Path(directory) if directory is not None else deployer_dir()
    extra: dict[str, Instrument] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.yaml")):
            inst = load_spec_file(path)
            extra[inst.id] = inst
    return builtin_catalog().with_instruments(extra)


def add_instrument(path: str | Path, directory: str | Path | None = None,
                   *, replace: bool = False) -> tuple[Instrument, Path]:
    """Add a spec or a wording file to the deployer folder; returns it and where it went.

    A wording file (it has an ``instrument:`` key) is merged into that structure-only spec,
    or, when it names a ``language:`` the worded instrument lacks, added as a translation;
    a full spec file is validated and copied. Adding a new language to an instrument this
    folder already holds updates it in place; anything else already there needs ``replace``.
    """
    text = _read_text(path)
    raw = load_yaml(text, str(path), InstrumentError)
    new_language = False
    if isinstance(raw, dict) and "instrument" in raw and "items" in raw and "id" not in raw:
        base = load_catalog(directory)[str(raw["instrument"])]
        inst = merge_wording(base, raw, str(path), replace_language=replace)
        new_language = bool(set(inst.translations) - set(base.translations))
    else:
        inst = parse_yaml_spec(text, str(path))
    folder = Path(directory) if directory is not None else deployer_dir()
    target = folder / f"{inst.id}.yaml"
    if target.exists() and not replace and not new_language:
        raise InstrumentError(f"{target} already exists; pass --replace to overwrite it")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".yaml.tmp")
        tmp.write_text(yaml.safe_dump(spec_to_mapping(inst), sort_keys=False,
                                      allow_unicode=True), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        raise InstrumentError(f"{folder}: cannot write ({exc.strerror or exc})") from None
    return inst, target
