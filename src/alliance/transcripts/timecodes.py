"""Timestamps as subtitle files and spreadsheets write them, to seconds."""

from __future__ import annotations

import math
import re

from alliance.transcripts.segments import fail

# hh:mm:ss.mmm, mm:ss.mmm (WebVTT lets hours be omitted), with ',' as SRT writes it.
_CLOCK = re.compile(r"^(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?$")


def parse_clock(value: str, source: str, line: int | None) -> float:
    """``"01:02:03.500"`` -> 3723.5 seconds; minutes and seconds must be below 60."""
    m = _CLOCK.match(value.strip())
    if not m:
        raise fail(source, f"malformed timestamp {value.strip()[:40]!r} "
                   "(expected hh:mm:ss.mmm)", line)
    hours, minutes, seconds, frac = m.groups()
    if int(minutes) >= 60 or int(seconds) >= 60:
        raise fail(source, f"malformed timestamp {value.strip()!r} "
                   "(minutes and seconds must be below 60)", line)
    fraction = int(frac) / 10 ** len(frac) if frac else 0.0
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + fraction


def parse_seconds(value: object, source: str, line: int | None, what: str) -> float | None:
    """A time given as seconds (number or numeric string) or as a clock string; blank -> None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise fail(source, f"{what} must be a number of seconds, not {value!r}", line)
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            raise fail(source, f"{what} {value!r} is out of range", line) from None
    elif isinstance(value, str):
        text = value.strip()
        if ":" in text:
            return parse_clock(text, source, line)
        try:
            seconds = float(text)
        except ValueError:
            raise fail(source, f"malformed {what} {text[:40]!r} (expected seconds or "
                       "hh:mm:ss.mmm)", line) from None
    else:
        raise fail(source, f"{what} must be a number of seconds, not {type(value).__name__}",
                   line)
    if not math.isfinite(seconds) or seconds < 0:
        raise fail(source, f"{what} {value!r} is not a finite, non-negative number of seconds",
                   line)
    return seconds


def check_span(start: float | None, end: float | None, source: str, line: int | None) -> None:
    """Refuse a segment that ends before it starts."""
    if start is not None and end is not None and end < start:
        raise fail(source, f"segment ends ({end:g} s) before it starts ({start:g} s)", line)
