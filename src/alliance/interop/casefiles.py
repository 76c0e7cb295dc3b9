"""Reading monitoring case files and policy files from disk (the file-system edge of
:mod:`alliance.monitoring`, which itself only sees decoded mappings and text)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alliance.errors import InputFileError, PolicyError
from alliance.monitoring import Case, Policy, load_policy_text, parse_cases


def read_json(path: str | Path) -> Any:
    """Decode a JSON file; missing, unreadable or malformed files raise InputFileError."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file")
    if p.is_dir():
        raise InputFileError(f"{p}: is a directory, not a case file")
    try:
        with p.open(encoding="utf-8") as fh:
            return json.load(fh)
    except UnicodeDecodeError:
        raise InputFileError(f"{p}: is not UTF-8 text; is it really a JSON case file?") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{p}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise InputFileError(f"{p}: JSON nested too deeply to be a case file") from None
    except ValueError as exc:  # valid JSON that Python refuses: an integer past 4,300 digits
        raise InputFileError(f"{p}: unusable JSON ({exc})") from None


def load_case_file(path: str | Path) -> list[Case]:
    """Read and validate a case file (raises :class:`~alliance.errors.CaseFileError` naming
    the path inside the file when it does not match the schema)."""
    return parse_cases(read_json(path), origin=str(path))


def load_policy_file(path: str | Path) -> Policy:
    """Read a policy YAML file merged over the default policy."""
    p = Path(path)
    if not p.is_file():
        raise PolicyError(f"{p}: no such policy file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{p}: is not UTF-8 text") from None
    return load_policy_text(text, str(p))
