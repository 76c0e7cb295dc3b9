"""YAML text from users (specs, policies, wording files) with errors that name the line."""

from __future__ import annotations

from typing import Any

import yaml

from alliance.errors import AllianceError


def load_yaml(text: str, origin: str, error: type[AllianceError]) -> Any:
    """Parse ``text``; a syntax error becomes ``error`` naming ``origin`` and the line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise error(f"{origin}:{where} is not valid YAML "
                    f"({getattr(exc, 'problem', None) or exc})") from None
    except RecursionError:
        raise error(f"{origin}: is nested too deeply to be a valid file") from None
    except ValueError as exc:  # a value PyYAML cannot build: 2024-13-45, a 5,000-digit integer
        raise error(f"{origin}: is not valid YAML ({exc})") from None
